import { HostImageSchema } from '../sites/schemas.js';
import { Type } from '@sinclair/typebox';
import { JobSummary } from '../sites/schemas.js';

const JobErrorSchema = Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) });

export const RegisterClusterInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63, description: 'Unique among your clusters; a DNS label' }),
    kubeconfig: Type.String({ minLength: 1, maxLength: 1024 * 1024, description: 'Kube config (YAML) with inline credentials only; stored encrypted, never returned' }),
  },
  { additionalProperties: false },
);

const ClusterNode = Type.Object({ name: Type.String(), address: Type.String(), role: Type.String() });

export const ClusterSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    owner: Type.String(),
    server: Type.Union([Type.String(), Type.Null()], { description: "The API server (the kube config itself is never returned)" }),
    origin: Type.Union([Type.Literal('registered'), Type.Literal('bootstrapped')]),
    site: Type.Union([Type.String(), Type.Null()]),
    engine: Type.Union([Type.Literal('kud-job'), Type.Literal('cluster-api'), Type.Null()]),
    plan: Type.Union([Type.Object({ controlPlane: Type.Array(Type.String()), workers: Type.Array(Type.String()), addons: Type.Array(Type.String()), notes: Type.Array(Type.String()) }), Type.Null()]),
    nodes: Type.Array(ClusterNode),
    status: Type.Union([Type.Literal('bootstrapping'), Type.Literal('ready'), Type.Literal('failed')]),
    error: Type.Union([JobErrorSchema, Type.Null()]),
    jobId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Cluster' },
);

const Cidr = Type.String({ minLength: 1, maxLength: 64, description: 'A CIDR block, e.g. 10.233.64.0/18' });
const HostList = Type.Array(Type.String({ maxLength: 63 }), { minItems: 1, maxItems: 1000, uniqueItems: true });

export const BootstrapInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 40, description: 'Cluster name: an RFC 1123 label of at most 40 characters' }),
    controlPlane: Type.Optional(HostList),
    workers: Type.Optional(HostList),
    kubernetesVersion: Type.String({ maxLength: 32, description: 'e.g. v1.29.3' }),
    podSubnet: Cidr,
    serviceSubnet: Cidr,
    addons: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 20, description: 'KUD add-ons (multus, ovn4nfv, nfd, sriov, qat, …); dependencies are added' })),
    engine: Type.Optional(Type.Union([Type.Literal('kud-job'), Type.Literal('cluster-api')], { default: 'kud-job' })),
  },
  { additionalProperties: false },
);

export const BootstrapAccepted = Type.Object({
  job: JobSummary,
  cluster: ClusterSchema,
  split: Type.Object({
    controlPlane: Type.Array(Type.String()),
    workers: Type.Array(Type.String()),
    explanation: Type.Array(Type.String(), { description: 'What was decided and why (also the job\'s first event)' }),
  }),
});

export const ScaleOutInput = Type.Object({ hosts: HostList }, { additionalProperties: false });

export const SiteRolloutInput = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { minItems: 1, maxItems: 5000, uniqueItems: true, description: 'Hosts to provision (default: every host not provisioned yet)' })),
    image: Type.Optional(HostImageSchema),
    cluster: BootstrapInputSchema,
    deploy: Type.Optional(Type.Object(
      {
        solutionId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }),
        revisionId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }),
        namespace: Type.Optional(Type.String({ maxLength: 63 })),
      },
      { additionalProperties: false },
    )),
  },
  { additionalProperties: false },
);

export const DeclareUploadInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    version: Type.String({ minLength: 1, maxLength: 128 }),
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'Hex digest of the whole file; checked when the last byte arrives' }),
    size: Type.Integer({ minimum: 1, description: 'Bytes' }),
  },
  { additionalProperties: false },
);

export const UploadSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  clusterId: Type.String(),
  name: Type.String(),
  version: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  offset: Type.Integer(),
  location: Type.String({ description: 'PATCH the bytes here (Upload-Offset, application/offset+octet-stream)' }),
});

export const CompletedPackageSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  rolloutJobId: Type.Union([Type.String(), Type.Null()], { description: 'The rollout a new version started' }),
});

export const PackageList = Type.Object({
  items: Type.Array(Type.Object({
    name: Type.String(),
    version: Type.String(),
    sha256: Type.String(),
    size: Type.Integer(),
    owner: Type.String(),
    current: Type.Boolean({ description: 'The latest uploaded version of its name: what the nodes should have' }),
    createdAt: Type.String({ format: 'date-time' }),
  })),
});

export const UploadOffsetHeaders = Type.Object({ 'upload-offset': Type.String({ pattern: '^[0-9]{1,16}$', description: 'Where this chunk starts (HEAD tells)' }) });
