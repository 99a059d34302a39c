import { Type, type Static } from '@sinclair/typebox';
import { Id } from '../schemas.js';

export const DeployRequest = Type.Object(
  {
    solutionId: Id,
    revisionId: Id,
    namespace: Type.Optional(Type.String({ maxLength: 253, description: 'Target namespace; default: <solution name>-<revisionId>, DNS-1123-valid' })),
    kubeconfig: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 * 1024, description: 'Kube config (YAML) with inline credentials only; exactly one of kubeconfig and clusterId' })),
    clusterId: Type.Optional(Type.String({ format: 'uuid', description: 'A registered cluster (POST /api/v1/clusters) to deploy to; exactly one of kubeconfig and clusterId' })),
    callbackUrl: Type.Optional(Type.String({ maxLength: 2048, description: 'Receives a signed POST when the deployment reaches a final status' })),
    cleanup: Type.Optional(Type.Boolean({ description: 'On failure, remove what was applied instead of keeping it for diagnosis' })),
  },
  { additionalProperties: false },
);
export type DeployRequestBody = Static<typeof DeployRequest>;

export const StepSchema = Type.Object({
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

const PlanEntrySchema = Type.Object({ kind: Type.String(), name: Type.String(), fields: Type.Optional(Type.Array(Type.String(), { description: 'update: the changed fields' })) });

export const PreflightSchema = Type.Object({
  passed: Type.Boolean({ description: 'No check failed' }),
  checks: Type.Array(Type.Object({ name: Type.String(), status: Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('warning')]), detail: Type.String() })),
  plan: Type.Optional(Type.Object({
    create: Type.Array(PlanEntrySchema), update: Type.Array(PlanEntrySchema), prune: Type.Array(PlanEntrySchema), unchanged: Type.Array(PlanEntrySchema),
  }, { description: 'What the apply does (did), object by object; absent when the cluster could not be read' })),
  checkedAt: Type.String({ format: 'date-time' }),
});

const LiveStatus = Type.Union(['healthy', 'progressing', 'degraded', 'missing'].map((v) => Type.Literal(v)));
export const HealthSchema = Type.Object({
  status: LiveStatus,
  reason: Type.String(),
  objects: Type.Array(Type.Object({ kind: Type.String(), name: Type.String(), status: LiveStatus, reason: Type.Optional(Type.String()) })),
  checkedAt: Type.String({ format: 'date-time' }),
});
export const SyncSchema = Type.Object({
  status: Type.Union([Type.Literal('synced'), Type.Literal('out-of-sync')]),
  differences: Type.Array(Type.Object({ kind: Type.String(), name: Type.String(), change: Type.Union([Type.Literal('missing'), Type.Literal('modified')]), fields: Type.Array(Type.String()) })),
  checkedAt: Type.String({ format: 'date-time' }),
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
    status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'deleting', 'deleted'].map((s) => Type.Literal(s))),
    steps: Type.Array(StepSchema),
    services: Type.Array(Service),
    error: Type.Union([JobErrorSchema, Type.Null()]),
    jobId: Type.Union([Type.String(), Type.Null()]),
    applied: Type.Array(Type.String(), { description: 'Objects this deployment applied (Kind/name)' }),
    callbackUrl: Type.Union([Type.String(), Type.Null()]),
    cleanupOnFailure: Type.Boolean(),
    rollbackOf: Type.Union([Type.String(), Type.Null()]),
    preflight: Type.Union([PreflightSchema, Type.Null()], { description: 'What the preflight found before anything was written' }),
    health: Type.Union([HealthSchema, Type.Null()], { description: 'While live (succeeded, not undeployed): health as last watched' }),
    sync: Type.Union([SyncSchema, Type.Null()], { description: 'While live: whether the cluster still holds what Slipway applied' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Deployment' },
);

export const DeploymentList = Type.Object({
  items: Type.Array(Type.Omit(DeploymentSchema, ['steps'])),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page' }),
});

export const ListQuery = Type.Object(
  {
    solutionId: Type.Optional(Type.String({ maxLength: 100 })),
    status: Type.Optional(Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'deleting', 'deleted'].map((s) => Type.Literal(s)))),
    namespace: Type.Optional(Type.String({ maxLength: 63 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** The deployments page: the list's filters, and the token as the Graphene entry page takes it. */
export const PageListQuery = Type.Object(
  { ...Type.Omit(ListQuery, ['namespace']).properties, jwtToken: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const RollbackRequest = Type.Object(
  {
    revisionId: Type.Optional({ ...Id, description: "The Graphene revision to go back to: this namespace's latest succeeded deployment of it is deployed again" }),
    toDeploymentId: Type.Optional(Type.String({ format: 'uuid', description: 'The earlier deployment (of this namespace) to deploy again' })),
  },
  { additionalProperties: false, description: 'At most one of revisionId and toDeploymentId; neither: the latest succeeded deployment of another revision than the current one' },
);
export type RollbackRequestBody = Static<typeof RollbackRequest>;

/** The status page's rollback form (urlencoded): the revision to go back to. */
export const RollbackForm = Type.Object({ revisionId: Id }, { additionalProperties: false });

export const LogsQuery = Type.Object(
  {
    node: Type.String({ minLength: 1, maxLength: 253, description: 'The node\'s container_name (or Kubernetes name)' }),
    tail: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 200 })),
  },
  { additionalProperties: false },
);

export const LogsResponse = Type.Object({
  node: Type.String(),
  pods: Type.Array(Type.Object({ pod: Type.String(), container: Type.String(), text: Type.String() })),
});
