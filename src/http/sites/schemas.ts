import { Type } from '@sinclair/typebox';

/** The image written to a host's disk, with its checksum. */
export const HostImageSchema = Type.Object(
  {
    url: Type.String({ maxLength: 2048 }),
    checksum: Type.String({ maxLength: 256 }),
    checksumType: Type.Union([Type.Literal('md5'), Type.Literal('sha256'), Type.Literal('sha512')]),
    format: Type.Optional(Type.Union([Type.Literal('raw'), Type.Literal('qcow2'), Type.Literal('vdi'), Type.Literal('vmdk'), Type.Literal('live-iso')])),
  },
  { additionalProperties: false },
);

export const SiteInput = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 63 }), description: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);

export const SiteSchema = Type.Object({ name: Type.String(), description: Type.String(), owner: Type.String(), createdAt: Type.String(), updatedAt: Type.String() });

const Location = Type.Object(
  { room: Type.Optional(Type.String({ maxLength: 100 })), rack: Type.Optional(Type.String({ maxLength: 100 })), position: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);

export const HostInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63 }),
    role: Type.String({ description: 'compute, gpu, storage, infra or control-plane' }),
    bmc: Type.Object(
      {
        address: Type.String({ maxLength: 512, description: 'ipmi://host[:port], redfish://…, redfish+http://…, redfish+https://…, fake://…' }),
        username: Type.String({ maxLength: 256 }),
        password: Type.Optional(Type.String({ maxLength: 1024, description: 'Required when adding; omitted on update keeps the stored one. Never returned.' })),
        disableCertificateVerification: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    bootMacAddress: Type.String({ maxLength: 17 }),
    image: HostImageSchema,
    rootDeviceHints: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    hardware: Type.Optional(Type.Record(Type.String(), Type.Boolean())),
    bootMode: Type.Optional(Type.String()),
    location: Type.Optional(Location),
    userData: Type.Optional(Type.String({ maxLength: 65536 })),
    networkData: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metaData: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

const RootDeviceHints = Type.Object({
  deviceName: Type.Optional(Type.String()),
  hctl: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  vendor: Type.Optional(Type.String()),
  serialNumber: Type.Optional(Type.String()),
  minSizeGigabytes: Type.Optional(Type.Number()),
  wwn: Type.Optional(Type.String()),
  wwnWithExtension: Type.Optional(Type.String()),
  wwnVendorExtension: Type.Optional(Type.String()),
  rotational: Type.Optional(Type.Boolean()),
});

const Hardware = Type.Object({
  gpu: Type.Optional(Type.Boolean()),
  sriov: Type.Optional(Type.Boolean()),
  qat: Type.Optional(Type.Boolean()),
  fpga: Type.Optional(Type.Boolean()),
  nvme: Type.Optional(Type.Boolean()),
});

const ObservedSchema = Type.Object({
  state: Type.String({ description: 'The host state the Ironic node stands for now (enrolled: the node is gone)' }),
  reason: Type.String(),
  seenAt: Type.String({ format: 'date-time' }),
  provisionState: Type.Union([Type.String(), Type.Null()]),
  poweredOn: Type.Union([Type.Boolean(), Type.Null()]),
  maintenance: Type.Boolean(),
  lastError: Type.Union([Type.String(), Type.Null()]),
});

export const HostSchema = Type.Object({
  id: Type.String({ format: 'uuid', description: "Marked on the host's Ironic node (extra.slipway_host)" }),
  nodeName: Type.String({ description: "The Ironic node's name, unique across every site: <site>.<host>" }),
  observed: Type.Union([ObservedSchema, Type.Null()], { description: "What Slipway last saw of the node when it differs from `state` (changed behind Slipway's back); null when they agree" }),
  site: Type.String(),
  name: Type.String(),
  spec: Type.Object({
    name: Type.String(),
    role: Type.String(),
    bmc: Type.Object({ address: Type.String(), disableCertificateVerification: Type.Optional(Type.Boolean()) }),
    bootMacAddress: Type.String(),
    image: HostImageSchema,
    rootDeviceHints: Type.Optional(RootDeviceHints),
    hardware: Type.Optional(Hardware),
    bootMode: Type.Optional(Type.String()),
  }),
  location: Location,
  labels: Type.Record(Type.String(), Type.String()),
  state: Type.String(),
  errorType: Type.Union([Type.String(), Type.Null()]),
  errorMessage: Type.Union([Type.String(), Type.Null()]),
  nodeId: Type.Union([Type.String(), Type.Null()]),
  poweredOn: Type.Union([Type.Boolean(), Type.Null()]),
  address: Type.Union([Type.String(), Type.Null()]),
  jobId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const SiteEventSchema = Type.Object({
  id: Type.String(),
  site: Type.String(),
  host: Type.Union([Type.String(), Type.Null()]),
  type: Type.String({ description: 'host.differs or host.agrees' }),
  message: Type.String(),
  data: Type.Unknown(),
  at: Type.String({ format: 'date-time' }),
});

export const ProvisioningJobInput = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { minItems: 1, maxItems: 5000, uniqueItems: true })),
    image: Type.Optional(HostImageSchema),
    timeoutMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 60 })),
    adopt: Type.Optional(Type.Boolean({ description: "Take over Ironic nodes found by a host's node name or boot MAC that no Slipway host has marked (never one marked for another host)" })),
  },
  { additionalProperties: false },
);

export const DeprovisioningJobInput = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { minItems: 1, maxItems: 5000, uniqueItems: true })),
    remove: Type.Optional(Type.Boolean({ description: 'Also delete the Ironic nodes (hosts end enrolled)' })),
    timeoutMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 60 })),
  },
  { additionalProperties: false },
);

export const PowerJobInput = Type.Object(
  {
    hosts: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { minItems: 1, maxItems: 5000, uniqueItems: true })),
    action: Type.Union([Type.Literal('on'), Type.Literal('off'), Type.Literal('reboot')]),
  },
  { additionalProperties: false },
);

export { JobSummary } from '../jobs/schemas.js';
