/**
 * What the fake Kubernetes API server (a test double) does to an object before storing it:
 * server-owned metadata (uid, creationTimestamp, generation), the status rule (only the
 * `/status` sub-resource and the simulated controllers write status), and per-kind defaults —
 * a Service's clusterIP and node ports (kept across updates, like the real allocator does), a
 * Secret's `stringData` folded into `data`, a Job's selector labels, a Deployment's replicas.
 */
import { randomUUID } from 'node:crypto';
import { hasStatusSubresource } from './resources.js';
import { invalid, type StatusCause } from './status.js';
import type { ObjectStore } from './store.js';
import { asArray, asNumber, asRecord, asString, isRecord, nowIso, readPath, type KubeObject, type ResourceType } from './types.js';

const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

export class Admission {
  private nextClusterIp = 10;

  constructor(private readonly store: ObjectStore, private readonly findResource: (kind: string) => ResourceType | undefined) {}

  /** Fills server-owned fields of a new object. Status is dropped unless `keepStatus` (seeding). */
  prepareCreate(resource: ResourceType, object: KubeObject, keepStatus = false): KubeObject {
    const metadata = object.metadata;
    if ((metadata.name === undefined || metadata.name === '') && metadata.generateName) {
      metadata.name = `${metadata.generateName}${randomUUID().slice(0, 5)}`;
    }
    metadata.uid = randomUUID();
    metadata.creationTimestamp = nowIso();
    metadata.generation = 1;
    delete metadata.deletionTimestamp;
    delete metadata.resourceVersion;
    if (!resource.namespaced) delete metadata.namespace;
    if (hasStatusSubresource(resource) && !keepStatus) delete object.status;
    this.applyDefaults(resource, object, undefined);
    return object;
  }

  /** Carries server-owned fields over from the stored object; bumps generation on a spec change. */
  prepareUpdate(resource: ResourceType, object: KubeObject, stored: KubeObject, subresource?: 'status'): KubeObject {
    if (subresource === 'status') {
      return { ...structuredClone(stored), status: object.status };
    }
    const metadata = object.metadata;
    metadata.uid = stored.metadata.uid;
    metadata.creationTimestamp = stored.metadata.creationTimestamp;
    metadata.name = stored.metadata.name;
    if (resource.namespaced) metadata.namespace = stored.metadata.namespace;
    if (stored.metadata.deletionTimestamp) metadata.deletionTimestamp = stored.metadata.deletionTimestamp;
    else delete metadata.deletionTimestamp;
    if (hasStatusSubresource(resource)) {
      if (stored.status === undefined) delete object.status;
      else object.status = structuredClone(stored.status);
    }
    this.applyDefaults(resource, object, stored);
    const specChanged = JSON.stringify(object.spec) !== JSON.stringify(stored.spec);
    metadata.generation = (stored.metadata.generation ?? 1) + (specChanged ? 1 : 0);
    return object;
  }

  private applyDefaults(resource: ResourceType, object: KubeObject, stored: KubeObject | undefined): void {
    switch (resource.kind) {
      case 'Namespace': this.defaultNamespace(object); break;
      case 'Service': this.defaultService(resource, object, stored); break;
      case 'Secret': foldStringData(object); break;
      case 'PersistentVolumeClaim': if (object.status === undefined) object.status = { phase: 'Pending' }; break;
      case 'Pod': if (object.status === undefined) object.status = { phase: 'Pending', qosClass: 'BestEffort' }; break;
      case 'Deployment': defaultDeployment(object); break;
      case 'Job': defaultJob(object); break;
      default: break;
    }
  }

  private defaultNamespace(object: KubeObject): void {
    object.spec = { finalizers: ['kubernetes'], ...asRecord(object.spec) };
    if (object.status === undefined) object.status = { phase: 'Active' };
  }

  private defaultService(resource: ResourceType, object: KubeObject, stored: KubeObject | undefined): void {
    const spec = asRecord(object.spec);
    object.spec = spec;
    spec.type = asString(spec.type) ?? 'ClusterIP';
    const storedSpec = asRecord(stored?.spec);
    const clusterIp = asString(storedSpec.clusterIP) ?? asString(spec.clusterIP) ?? this.allocateClusterIp();
    spec.clusterIP = clusterIp;
    spec.clusterIPs = [clusterIp];
    spec.sessionAffinity = asString(spec.sessionAffinity) ?? 'None';
    const storedPorts = asArray(storedSpec.ports);
    const wantsNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const used = this.usedNodePorts(object);
    const causes: StatusCause[] = [];
    spec.ports = asArray(spec.ports).map((entry, index) => {
      const port = { ...asRecord(entry) };
      port.protocol = asString(port.protocol) ?? 'TCP';
      // As the real validation: a Service port is 1-65535 (found by the differential test).
      const number = asNumber(port.port);
      if (number === undefined || number < 1 || number > 65535 || !Number.isInteger(number)) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${index}].port`, message: `Invalid value: ${String(port.port)}: must be between 1 and 65535, inclusive` });
      }
      if (port.targetPort === undefined) port.targetPort = port.port;
      if (!wantsNodePorts) {
        delete port.nodePort;
        return port;
      }
      const requested = asNumber(port.nodePort) ?? keptNodePort(storedPorts, port);
      if (requested !== undefined && (requested < NODE_PORT_MIN || requested > NODE_PORT_MAX)) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${index}].nodePort`, message: `Invalid value: ${requested}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}` });
      } else if (requested !== undefined && used.has(requested)) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${index}].nodePort`, message: `Invalid value: ${requested}: provided port is already allocated` });
      }
      port.nodePort = requested ?? allocateNodePort(used);
      used.add(Number(port.nodePort));
      return port;
    });
    if (causes.length > 0) throw invalid(resource, object.metadata.name ?? '', causes);
    if (object.status === undefined) object.status = { loadBalancer: {} };
  }

  private allocateClusterIp(): string {
    const n = this.nextClusterIp;
    this.nextClusterIp += 1;
    return `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  }

  /** Node ports held by every other Service. */
  private usedNodePorts(except: KubeObject): Set<number> {
    const used = new Set<number>();
    const services = this.findResource('Service');
    if (!services) return used;
    for (const service of this.store.scan(services)) {
      if (service.metadata.namespace === except.metadata.namespace && service.metadata.name === except.metadata.name) continue;
      for (const port of asArray(readPath(service, 'spec.ports'))) {
        const nodePort = asNumber(asRecord(port).nodePort);
        if (nodePort !== undefined) used.add(nodePort);
      }
    }
    return used;
  }
}

/** The node port the stored Service already had for this port (matched by name, else number). */
function keptNodePort(storedPorts: unknown[], port: Record<string, unknown>): number | undefined {
  const match = storedPorts.map(asRecord).find((stored) =>
    port.name !== undefined ? stored.name === port.name : stored.port === port.port,
  );
  return asNumber(match?.nodePort);
}

function allocateNodePort(used: Set<number>): number {
  const span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
  const start = Math.floor(Math.random() * span);
  for (let offset = 0; offset < span; offset += 1) {
    const candidate = NODE_PORT_MIN + ((start + offset) % span);
    if (!used.has(candidate)) return candidate;
  }
  throw new Error('fake-kube: no free node port left');
}

function foldStringData(object: KubeObject): void {
  const stringData = object.stringData;
  if (isRecord(stringData)) {
    const data = { ...asRecord(object.data) };
    for (const [key, value] of Object.entries(stringData)) {
      if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
    }
    object.data = data;
  }
  delete object.stringData;
  if (object.type === undefined) object.type = 'Opaque';
}

function defaultDeployment(object: KubeObject): void {
  const spec = asRecord(object.spec);
  object.spec = spec;
  if (spec.replicas === undefined) spec.replicas = 1;
  if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
}

/** Jobs get the selector labels the real server adds to the pod template. */
function defaultJob(object: KubeObject): void {
  const spec = asRecord(object.spec);
  object.spec = spec;
  if (spec.backoffLimit === undefined) spec.backoffLimit = 6;
  if (spec.completions === undefined) spec.completions = 1;
  if (spec.parallelism === undefined) spec.parallelism = 1;
  const uid = object.metadata.uid ?? '';
  const name = object.metadata.name ?? '';
  const selectorLabels = { 'batch.kubernetes.io/controller-uid': uid };
  if (spec.selector === undefined) spec.selector = { matchLabels: selectorLabels };
  const template = asRecord(spec.template);
  spec.template = template;
  const metadata = asRecord(template.metadata);
  template.metadata = metadata;
  metadata.labels = {
    ...asRecord(metadata.labels),
    ...selectorLabels,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
}
