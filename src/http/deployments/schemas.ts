import { Type, type Static } from '@sinclair/typebox';
import { Id } from '../schemas.js';

export const DeployRequest = Type.Object(
  {
    solutionId: Id,
    revisionId: Id,
    namespace: Type.Optional(Type.String({ maxLength: 253, description: 'Target namespace; default: <solution name>-<revisionId>, DNS-1123-valid' })),
    kubeconfig: Type.String({ minLength: 1, maxLength: 1024 * 1024, description: 'Kube config (YAML) with inline credentials only' }),
  },
  { additionalProperties: false },
);
export type DeployRequestBody = Static<typeof DeployRequest>;

const Step = Type.Object({
  name: Type.String(),
  status: Type.Union(['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled'].map((s) => Type.Literal(s))),
  detail: Type.Union([Type.String(), Type.Null()]),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
});

const Service = Type.Object({
  name: Type.String({ description: 'The blueprint container_name' }),
  kubeName: Type.String(),
  role: Type.Union([Type.Literal('node'), Type.Literal('orchestrator')]),
  image: Type.String(),
  nodePorts: Type.Object({ protobufApi: Type.Optional(Type.Integer()), webui: Type.Optional(Type.Integer()) }),
  webUiUrl: Type.Optional(Type.String()),
});

const JobErrorSchema = Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) });

export const DeploymentSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    owner: Type.String(),
    solutionId: Type.String(),
    revisionId: Type.String(),
    solutionName: Type.Union([Type.String(), Type.Null()]),
    solutionKind: Type.Union([Type.String(), Type.Null()]),
    namespace: Type.String(),
    clusterServer: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
    steps: Type.Array(Step),
    services: Type.Array(Service),
    error: Type.Union([JobErrorSchema, Type.Null()]),
    jobId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Deployment' },
);
