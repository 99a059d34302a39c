/**
 * Schema checks for what the bootstrap renders (a test helper, not a test file).
 *
 * test/support/k8s-schema.ts knows only Namespace, Service, PVC and Deployment, and no library
 * here carries Cluster API schemas, so:
 * - built-in kinds (Job, ConfigMap, Secret, ServiceAccount, Role, RoleBinding) are checked like
 *   k8s-schema.ts does: the official OpenAPI schema compiled into `kubernetes-models`, plus a walk
 *   against `@kubernetes/client-node`'s models that reports unknown fields, plus name rules;
 * - Cluster API kinds are checked against structural schemas written here from the v1beta1 CRDs
 *   (cluster.x-k8s.io, controlplane/bootstrap.cluster.x-k8s.io, CAPM3 infrastructure): types,
 *   required fields, enums, and every field not in the CRD reported. Only the parts of each CRD
 *   the renderer can produce are spelled out in depth; the rest of each CRD's top-level fields are
 *   listed so that a valid but unused field is not reported as unknown.
 */
import { checkLabels, DNS_1123_LABEL, DNS_1123_SUBDOMAIN, findUnknownFields } from './k8s-schema.js';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Secret, ServiceAccount } from 'kubernetes-models/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkMetadata(obj: Json, nameRule: 'label' | 'subdomain', problems: string[]): void {
  const metadata = isObject(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  const valid = typeof name === 'string' && (nameRule === 'label' ? name.length <= 63 && DNS_1123_LABEL.test(name) : name.length <= 253 && DNS_1123_SUBDOMAIN.test(name));
  if (!valid) problems.push(`metadata.name ${JSON.stringify(name)} must be an RFC 1123 ${nameRule}`);
  if (typeof metadata.namespace !== 'string' || !DNS_1123_LABEL.test(metadata.namespace)) problems.push('metadata.namespace must be an RFC 1123 label');
  checkLabels(metadata.labels, 'metadata.labels', problems);
}

// --- built-in kinds -----------------------------------------------------------------------

type Ctor = new (data: never) => { validate(): void };
const BUILT_IN: Record<string, { model: Ctor; rootType: string; nameRule: 'label' | 'subdomain' }> = {
  'batch/v1/Job': { model: Job as unknown as Ctor, rootType: 'V1Job', nameRule: 'label' },
  'v1/ConfigMap': { model: ConfigMap as unknown as Ctor, rootType: 'V1ConfigMap', nameRule: 'subdomain' },
  'v1/Secret': { model: Secret as unknown as Ctor, rootType: 'V1Secret', nameRule: 'subdomain' },
  'v1/ServiceAccount': { model: ServiceAccount as unknown as Ctor, rootType: 'V1ServiceAccount', nameRule: 'subdomain' },
  'rbac.authorization.k8s.io/v1/Role': { model: Role as unknown as Ctor, rootType: 'V1Role', nameRule: 'subdomain' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { model: RoleBinding as unknown as Ctor, rootType: 'V1RoleBinding', nameRule: 'subdomain' },
};

function checkPodTemplate(job: Json, problems: string[]): void {
  const template = isObject(job.spec) && isObject(job.spec.template) ? job.spec.template : {};
  checkLabels(isObject(template.metadata) ? template.metadata.labels : undefined, 'spec.template.metadata.labels', problems);
  const spec = isObject(template.spec) ? template.spec : {};
  const volumes = new Set((Array.isArray(spec.volumes) ? spec.volumes : []).map((v) => (isObject(v) ? v.name : undefined)));
  (Array.isArray(spec.containers) ? spec.containers : []).forEach((container, i) => {
    if (!isObject(container)) return;
    if (typeof container.name !== 'string' || !DNS_1123_LABEL.test(container.name)) problems.push(`containers[${i}].name must be an RFC 1123 label`);
    for (const mount of Array.isArray(container.volumeMounts) ? container.volumeMounts : []) {
      if (!volumes.has(isObject(mount) ? mount.name : undefined)) problems.push(`containers[${i}]: volumeMount ${JSON.stringify(isObject(mount) ? mount.name : mount)} names no volume`);
    }
  });
  if (spec.restartPolicy !== 'Never' && spec.restartPolicy !== 'OnFailure') problems.push('a Job pod template needs restartPolicy Never or OnFailure');
}

// --- Cluster API kinds (structural schemas from the v1beta1 CRDs) ---------------------------

type Schema =
  | { type: 'object'; properties?: Record<string, Schema>; required?: string[]; additional?: Schema; open?: boolean }
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp }
  | { type: 'integer'; minimum?: number; maximum?: number }
  | { type: 'boolean' }
  | { type: 'array'; items: Schema };

const str = (extra: { enum?: readonly string[]; pattern?: RegExp } = {}): Schema => ({ type: 'string', ...extra });
const int = (minimum?: number, maximum?: number): Schema => ({ type: 'integer', ...(minimum !== undefined ? { minimum } : {}), ...(maximum !== undefined ? { maximum } : {}) });
const bool: Schema = { type: 'boolean' };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, required });
const map = (values: Schema): Schema => ({ type: 'object', additional: values });
const list = (items: Schema): Schema => ({ type: 'array', items });
/** A field of the CRD the renderer does not produce: its content is not checked. */
const opaque: Schema = { type: 'object', open: true };

const objectReference = obj({ apiVersion: str(), kind: str(), name: str(), namespace: str(), uid: str(), fieldPath: str(), resourceVersion: str() });
const labelSelector = obj({ matchLabels: map(str()), matchExpressions: list(obj({ key: str(), operator: str(), values: list(str()) }, ['key', 'operator'])) });
const nodeRegistration = obj({ name: str(), criSocket: str(), taints: list(opaque), kubeletExtraArgs: map(str()), ignorePreflightErrors: list(str()), imagePullPolicy: str({ enum: ['Always', 'IfNotPresent', 'Never'] }) });
const kubeadmConfigSpec = obj({
  clusterConfiguration: opaque,
  initConfiguration: obj({ apiVersion: str(), kind: str(), bootstrapTokens: list(opaque), nodeRegistration, localAPIEndpoint: opaque, skipPhases: list(str()), patches: opaque }),
  joinConfiguration: obj({ apiVersion: str(), kind: str(), caCertPath: str(), discovery: opaque, nodeRegistration, controlPlane: opaque, skipPhases: list(str()), patches: opaque }),
  files: list(opaque), diskSetup: opaque, mounts: list(list(str())), preKubeadmCommands: list(str()), postKubeadmCommands: list(str()),
  users: list(obj({ name: str(), gecos: str(), groups: str(), homeDir: str(), inactive: bool, shell: str(), passwd: str(), passwdFrom: opaque, primaryGroup: str(), lockPassword: bool, sudo: str(), sshAuthorizedKeys: list(str()) }, ['name'])),
  ntp: opaque, format: str({ enum: ['cloud-config', 'ignition'] }), verbosity: int(), useExperimentalRetryJoin: bool, ignition: opaque,
});
const machineTemplateSpec = obj({
  image: obj({ url: str({ pattern: /^https?:\/\// }), checksum: str(), checksumType: str({ enum: ['md5', 'sha256', 'sha512'] }), format: str({ enum: ['raw', 'qcow2', 'vdi', 'vmdk', 'live-iso'] }) }, ['url', 'checksum']),
  hostSelector: labelSelector, dataTemplate: objectReference, metaData: objectReference, networkData: objectReference, userData: objectReference,
  providerID: str(), automatedCleaningMode: str({ enum: ['metadata', 'disabled'] }), customDeploy: obj({ method: str() }, ['method']),
});
const topLevel = (spec: Schema): Schema => obj({ apiVersion: str(), kind: str(), metadata: opaque, spec }, ['apiVersion', 'kind', 'metadata', 'spec']);

const CAPI: Record<string, { schema: Schema; check?: (o: Json, problems: string[]) => void }> = {
  'cluster.x-k8s.io/v1beta1/Cluster': {
    schema: topLevel(obj({
      paused: bool,
      clusterNetwork: obj({ apiServerPort: int(1, 65535), services: obj({ cidrBlocks: list(str()) }, ['cidrBlocks']), pods: obj({ cidrBlocks: list(str()) }, ['cidrBlocks']), serviceDomain: str() }),
      controlPlaneEndpoint: obj({ host: str(), port: int(0, 65535) }, ['host', 'port']),
      controlPlaneRef: objectReference, infrastructureRef: objectReference, topology: opaque, availabilityGates: list(opaque),
    })),
  },
  'cluster.x-k8s.io/v1beta1/MachineDeployment': {
    schema: topLevel(obj({
      clusterName: str(), replicas: int(0), rolloutAfter: str(), selector: labelSelector, strategy: opaque, minReadySeconds: int(0),
      revisionHistoryLimit: int(0), paused: bool, progressDeadlineSeconds: int(0), machineNamingStrategy: opaque,
      template: obj({
        metadata: obj({ labels: map(str()), annotations: map(str()) }),
        spec: obj({
          clusterName: str(), bootstrap: obj({ configRef: objectReference, dataSecretName: str() }), infrastructureRef: objectReference,
          version: str({ pattern: /^v\d+\.\d+\.\d+$/ }), providerID: str(), failureDomain: str(), nodeDrainTimeout: str(), nodeVolumeDetachTimeout: str(), nodeDeletionTimeout: str(), readinessGates: list(opaque),
        }, ['clusterName', 'bootstrap', 'infrastructureRef']),
      }),
    }, ['clusterName', 'selector', 'template'])),
    check: (o, problems) => {
      const spec = isObject(o.spec) ? o.spec : {};
      const selector = isObject(spec.selector) && isObject(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
      const template = isObject(spec.template) && isObject(spec.template.metadata) && isObject(spec.template.metadata.labels) ? spec.template.metadata.labels : {};
      for (const [key, value] of Object.entries(selector)) if (template[key] !== value) problems.push(`spec.selector.matchLabels.${key} does not match the template's labels`);
    },
  },
  'controlplane.cluster.x-k8s.io/v1beta1/KubeadmControlPlane': {
    schema: topLevel(obj({
      replicas: int(0), version: str({ pattern: /^v\d+\.\d+\.\d+$/ }),
      machineTemplate: obj({ metadata: opaque, infrastructureRef: objectReference, nodeDrainTimeout: str(), nodeVolumeDetachTimeout: str(), nodeDeletionTimeout: str() }, ['infrastructureRef']),
      kubeadmConfigSpec, rolloutBefore: opaque, rolloutAfter: str(), rolloutStrategy: opaque, remediationStrategy: opaque, machineNamingStrategy: opaque,
    }, ['version', 'machineTemplate', 'kubeadmConfigSpec'])),
  },
  'bootstrap.cluster.x-k8s.io/v1beta1/KubeadmConfigTemplate': {
    schema: topLevel(obj({ template: obj({ metadata: opaque, spec: kubeadmConfigSpec }, ['spec']) }, ['template'])),
  },
  'infrastructure.cluster.x-k8s.io/v1beta1/Metal3Cluster': {
    schema: topLevel(obj({ controlPlaneEndpoint: obj({ host: str(), port: int(1, 65535) }, ['host', 'port']), noCloudProvider: bool, cloudProviderEnabled: bool })),
  },
  'infrastructure.cluster.x-k8s.io/v1beta1/Metal3MachineTemplate': {
    schema: topLevel(obj({ nodeReuse: bool, template: obj({ spec: machineTemplateSpec }, ['spec']) }, ['template'])),
  },
};

function checkAgainst(value: unknown, schema: Schema, path: string, problems: string[]): void {
  const at = path || '(root)';
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') { problems.push(`${at}: expected a string`); return; }
      if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
      if (schema.pattern && !schema.pattern.test(value)) problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
      return;
    case 'integer':
      if (!Number.isInteger(value)) { problems.push(`${at}: expected an integer`); return; }
      if (schema.minimum !== undefined && (value as number) < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
      if (schema.maximum !== undefined && (value as number) > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at}: expected a boolean`);
      return;
    case 'array':
      if (!Array.isArray(value)) { problems.push(`${at}: expected an array`); return; }
      value.forEach((item, i) => checkAgainst(item, schema.items, `${path}[${i}]`, problems));
      return;
    case 'object': {
      if (!isObject(value)) { problems.push(`${at}: expected an object`); return; }
      if (schema.open) return;
      for (const key of schema.required ?? []) if (!(key in value)) problems.push(`${path ? `${path}.` : ''}${key}: required`);
      for (const [key, item] of Object.entries(value)) {
        const child = schema.properties?.[key] ?? schema.additional;
        const childPath = path ? `${path}.${key}` : key;
        if (child === undefined) problems.push(`${childPath}: unknown field`);
        else checkAgainst(item, child, childPath, problems);
      }
    }
  }
}

/** Throws an Error listing every problem; returns quietly for a valid object. */
export function assertValidBootstrapObject(object: unknown): void {
  if (!isObject(object)) throw new Error('not an object');
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const problems: string[] = [];
  const builtIn = BUILT_IN[key];
  const capi = CAPI[key];
  if (builtIn) {
    try {
      new builtIn.model(object as never).validate();
    } catch (error: unknown) {
      problems.push(`schema: ${error instanceof Error ? error.message : String(error)}`);
    }
    findUnknownFields(object, builtIn.rootType, '', problems);
    checkMetadata(object, builtIn.nameRule, problems);
    if (object.kind === 'Job') checkPodTemplate(object, problems);
  } else if (capi) {
    checkAgainst(object, capi.schema, '', problems);
    checkMetadata(object, 'subdomain', problems);
    capi.check?.(object, problems);
  } else {
    throw new Error(`no schema for ${key} (known: ${[...Object.keys(BUILT_IN), ...Object.keys(CAPI)].join(', ')})`);
  }
  if (problems.length > 0) throw new Error(`invalid ${key}:\n  ${problems.join('\n  ')}`);
}
