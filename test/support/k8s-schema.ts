/**
 * Checks a rendered Kubernetes object the way the API server would, as far as tests can:
 *
 * 1. types and required fields, against the official OpenAPI schemas compiled into
 *    `kubernetes-models` (`new Deployment(obj).validate()`);
 * 2. unknown fields: those schemas allow additional properties, so a misspelt `spec.replicaz`
 *    would pass (1) and be silently dropped by the API server. The object is walked against the
 *    attribute maps of `@kubernetes/client-node`'s generated models (the same OpenAPI document)
 *    and every key that is not a field of its type is reported;
 * 3. the name and label rules the API server enforces that the schemas do not express
 *    (RFC 1123/1035 names, label syntax, selector matching the pod labels, port names).
 *
 * Independent of src/domain/names.ts on purpose: it checks that code, so it does not reuse it.
 */
import * as clientNode from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';

type JsonObject = Record<string, unknown>;

interface KindSchema {
  /** client-node model the object is walked against. */
  rootType: string;
  validateSchema(data: unknown): void;
  nameRule: 'dns1123Label' | 'dns1035Label' | 'dns1123Subdomain';
}

const KINDS: Record<string, KindSchema> = {
  'v1/Namespace': {
    rootType: 'V1Namespace',
    validateSchema: (data) => new Namespace(data as ConstructorParameters<typeof Namespace>[0]).validate(),
    nameRule: 'dns1123Label',
  },
  'v1/Service': {
    rootType: 'V1Service',
    validateSchema: (data) => new Service(data as ConstructorParameters<typeof Service>[0]).validate(),
    nameRule: 'dns1035Label',
  },
  'v1/PersistentVolumeClaim': {
    rootType: 'V1PersistentVolumeClaim',
    validateSchema: (data) =>
      new PersistentVolumeClaim(data as ConstructorParameters<typeof PersistentVolumeClaim>[0]).validate(),
    nameRule: 'dns1123Subdomain',
  },
  'apps/v1/Deployment': {
    rootType: 'V1Deployment',
    validateSchema: (data) => new Deployment(data as ConstructorParameters<typeof Deployment>[0]).validate(),
    nameRule: 'dns1123Subdomain',
  },
};

export const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const IANA_SERVICE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: unknown, ...path: string[]): JsonObject | undefined {
  let current: unknown = value;
  for (const key of path) current = isObject(current) ? current[key] : undefined;
  return isObject(current) ? current : undefined;
}

function arrayAt(value: unknown, ...path: string[]): unknown[] {
  const parent = objectAt(value, ...path.slice(0, -1));
  const last = path[path.length - 1];
  const found = parent && last !== undefined ? parent[last] : undefined;
  return Array.isArray(found) ? found : [];
}

// --- 2. unknown fields -------------------------------------------------------------------

interface Attribute {
  baseName: string;
  type: string;
}

const NON_MODEL_TYPES = new Set(['IntOrString', 'Date']);
const MODELS = clientNode as unknown as Record<string, unknown>;

function attributesOf(typeName: string): Attribute[] | undefined {
  if (!/^[A-Z]/.test(typeName) || NON_MODEL_TYPES.has(typeName)) return undefined;
  const model = MODELS[typeName];
  if (typeof model === 'function' && 'getAttributeTypeMap' in model && typeof model.getAttributeTypeMap === 'function') {
    return model.getAttributeTypeMap() as Attribute[];
  }
  throw new Error(`schema walk: @kubernetes/client-node has no model ${typeName}`);
}

/** Every field of `value` that the client-node model `typeName` does not have, as `path: unknown field`. */
export function findUnknownFields(value: unknown, typeName: string, path: string, problems: string[]): void {
  const arrayOf = /^Array<(.+)>$/.exec(typeName)?.[1];
  if (arrayOf !== undefined) {
    if (Array.isArray(value)) value.forEach((item, index) => findUnknownFields(item, arrayOf, `${path}[${index}]`, problems));
    return;
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(typeName)?.[1];
  if (mapOf !== undefined) {
    if (isObject(value)) for (const [key, item] of Object.entries(value)) findUnknownFields(item, mapOf, `${path}[${JSON.stringify(key)}]`, problems);
    return;
  }
  const attributes = attributesOf(typeName);
  if (attributes === undefined || !isObject(value)) return; // scalars: their types are checked by (1)
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.find((candidate) => candidate.baseName === key);
    const at = path === '' ? key : `${path}.${key}`;
    if (attribute === undefined) problems.push(`${at}: unknown field (not in ${typeName})`);
    else findUnknownFields(item, attribute.type, at, problems);
  }
}

// --- 3. API-server rules the schemas do not carry ----------------------------------------

function nameProblem(name: string, rule: KindSchema['nameRule']): string | undefined {
  if (rule === 'dns1123Label' && !(name.length <= 63 && DNS_1123_LABEL.test(name))) return 'must be an RFC 1123 label';
  if (rule === 'dns1035Label' && !(name.length <= 63 && DNS_1035_LABEL.test(name))) return 'must be an RFC 1035 label';
  if (rule === 'dns1123Subdomain' && !(name.length <= 253 && DNS_1123_SUBDOMAIN.test(name))) return 'must be an RFC 1123 subdomain';
  return undefined;
}

function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  const name = parts.pop() ?? '';
  if (parts.length > 1) return false;
  const prefix = parts[0];
  if (prefix !== undefined && !(prefix.length <= 253 && DNS_1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

function isLabelValue(value: unknown): boolean {
  return value === '' || (typeof value === 'string' && value.length <= 63 && QUALIFIED_NAME_PART.test(value));
}

/** Every label whose key is not a qualified name or whose value is not a label value. */
export function checkLabels(labels: unknown, path: string, problems: string[]): void {
  for (const [key, value] of Object.entries(isObject(labels) ? labels : {})) {
    if (!isQualifiedName(key)) problems.push(`${path}: label key ${JSON.stringify(key)} is not a qualified name`);
    if (!isLabelValue(value)) problems.push(`${path}: label value ${JSON.stringify(value)} is not a valid label value`);
  }
}

function checkMetadata(metadata: JsonObject | undefined, path: string, problems: string[]): void {
  checkLabels(objectAt(metadata, 'labels'), `${path}.labels`, problems);
  for (const key of Object.keys(objectAt(metadata, 'annotations') ?? {})) {
    if (!isQualifiedName(key)) problems.push(`${path}.annotations: key ${JSON.stringify(key)} is not a qualified name`);
  }
}

function checkPodTemplate(deployment: JsonObject, problems: string[]): void {
  const templateLabels = objectAt(deployment, 'spec', 'template', 'metadata', 'labels') ?? {};
  for (const [key, value] of Object.entries(objectAt(deployment, 'spec', 'selector', 'matchLabels') ?? {})) {
    if (templateLabels[key] !== value) problems.push(`spec.selector.matchLabels.${key} does not match the pod template's labels`);
  }
  checkMetadata(objectAt(deployment, 'spec', 'template', 'metadata'), 'spec.template.metadata', problems);
  const volumeNames = new Set(arrayAt(deployment, 'spec', 'template', 'spec', 'volumes').map((volume) => (isObject(volume) ? volume.name : undefined)));
  arrayAt(deployment, 'spec', 'template', 'spec', 'containers').forEach((container, index) => {
    const at = `spec.template.spec.containers[${index}]`;
    const name = isObject(container) ? container.name : undefined;
    if (typeof name !== 'string' || !(name.length <= 63 && DNS_1123_LABEL.test(name))) problems.push(`${at}.name must be an RFC 1123 label`);
    for (const port of arrayAt(container, 'ports')) {
      const portName = isObject(port) ? port.name : undefined;
      if (typeof portName === 'string' && !(portName.length <= 15 && IANA_SERVICE_NAME.test(portName) && /[a-z]/.test(portName) && !portName.includes('--'))) {
        problems.push(`${at}: port name ${JSON.stringify(portName)} is not an IANA service name`);
      }
    }
    for (const mount of arrayAt(container, 'volumeMounts')) {
      const mountName = isObject(mount) ? mount.name : undefined;
      if (!volumeNames.has(mountName)) problems.push(`${at}: volumeMount ${JSON.stringify(mountName)} names no volume`);
    }
  });
}

function checkServicePorts(service: JsonObject, problems: string[]): void {
  const names = arrayAt(service, 'spec', 'ports').map((port) => (isObject(port) ? port.name : undefined));
  if (names.length > 1 && names.some((name) => typeof name !== 'string' || !DNS_1123_LABEL.test(name))) {
    problems.push('spec.ports: every port of a multi-port Service needs an RFC 1123 label name');
  }
  if (new Set(names).size !== names.length) problems.push('spec.ports: port names must be unique');
}

/** Throws an Error listing every problem found; returns quietly for a valid object. */
export function assertValidKubernetesObject(obj: unknown): void {
  if (!isObject(obj)) throw new Error('not a Kubernetes object: not an object');
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const kind = KINDS[key];
  if (!kind) throw new Error(`no schema for ${key} (known: ${Object.keys(KINDS).join(', ')})`);

  const problems: string[] = [];
  try {
    kind.validateSchema(obj);
  } catch (error: unknown) {
    problems.push(`schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  findUnknownFields(obj, kind.rootType, '', problems);
  const metadata = objectAt(obj, 'metadata');
  const name = metadata?.name;
  if (typeof name !== 'string') problems.push('metadata.name is missing');
  else {
    const problem = nameProblem(name, kind.nameRule);
    if (problem) problems.push(`metadata.name ${JSON.stringify(name)} ${problem}`);
  }
  checkMetadata(metadata, 'metadata', problems);
  if (obj.kind === 'Deployment') checkPodTemplate(obj, problems);
  if (obj.kind === 'Service') checkServicePorts(obj, problems);
  if (problems.length > 0) throw new Error(`invalid ${key} ${JSON.stringify(name)}:\n  ${problems.join('\n  ')}`);
}
