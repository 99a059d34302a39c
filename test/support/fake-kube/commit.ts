/**
 * The two ways an object reaches storage in the fake Kubernetes API server (a test double):
 * `commitCreate` and `commitUpdate`. Both run admission and validation, keep `managedFields`,
 * honour `dryRun`, and an update that changes nothing is not written (no new resourceVersion, no
 * watch event) — which is what makes a repeated server-side apply a no-op, as on a real server.
 */
import type { Admission } from './admission.js';
import { fieldsV1Of } from './merge.js';
import type { LogBook } from './logs.js';
import type { ResourceRegistry } from './resources.js';
import { alreadyExists, forbidden, invalid, namespaceNotFound } from './status.js';
import type { ObjectStore } from './store.js';
import { groupVersionOf, nowIso, qualifiedResource, type KubeObject, type ManagedFieldsEntry, type ResourceType } from './types.js';
import { validateObject } from './validation.js';

export interface ApiContext {
  store: ObjectStore;
  registry: ResourceRegistry;
  admission: Admission;
  logs: LogBook;
  /** Called when a Namespace is marked for deletion; the controller finishes the job. */
  onNamespaceDeleting(name: string): void;
}

export interface CommitOptions {
  manager: string;
  operation: 'Apply' | 'Update';
  /** What the manager sent, to describe in `managedFields`. */
  fields: unknown;
  dryRun: boolean;
  subresource?: 'status';
}

function namespaceType(ctx: ApiContext): ResourceType {
  const resource = ctx.registry.byKind('', 'Namespace');
  if (!resource) throw new Error('fake-kube: Namespace resource missing');
  return resource;
}

/** New content may only go into a namespace that exists and is not being deleted. */
export function ensureNamespaceWritable(ctx: ApiContext, resource: ResourceType, namespace: string | undefined, name: string): void {
  if (!resource.namespaced || namespace === undefined) return;
  const stored = ctx.store.get(namespaceType(ctx), undefined, namespace);
  if (!stored) throw namespaceNotFound(namespace);
  if (stored.metadata.deletionTimestamp) {
    throw forbidden(
      `${qualifiedResource(resource)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      resource,
      name,
    );
  }
}

function managedFieldsWith(
  existing: ManagedFieldsEntry[] | undefined,
  resource: ResourceType,
  options: CommitOptions,
): ManagedFieldsEntry[] {
  const entry: ManagedFieldsEntry = {
    manager: options.manager,
    operation: options.operation,
    apiVersion: groupVersionOf(resource),
    time: nowIso(),
    fieldsType: 'FieldsV1',
    fieldsV1: fieldsV1Of(stripIdentity(options.fields)),
    ...(options.subresource ? { subresource: options.subresource } : {}),
  };
  const others = (existing ?? []).filter(
    (e) => !(e.manager === entry.manager && e.operation === entry.operation && e.subresource === entry.subresource),
  );
  return [...others, entry];
}

/** The parts of a sent object that say which object it is rather than what it holds. */
function stripIdentity(fields: unknown): unknown {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return fields;
  const copy: Record<string, unknown> = { ...fields };
  delete copy.apiVersion;
  delete copy.kind;
  const metadata = copy.metadata;
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
    const rest: Record<string, unknown> = { ...metadata };
    for (const key of ['name', 'namespace', 'uid', 'resourceVersion', 'managedFields', 'creationTimestamp', 'generation']) delete rest[key];
    if (Object.keys(rest).length === 0) delete copy.metadata;
    else copy.metadata = rest;
  }
  return copy;
}

/** The object without what changes on every write, to tell a real change from a no-op. */
function content(object: KubeObject): string {
  const metadata = { ...object.metadata };
  delete metadata.resourceVersion;
  const managed = (metadata.managedFields ?? []).map((entry) => ({ ...entry, time: '' }));
  return JSON.stringify({ ...object, metadata: { ...metadata, managedFields: managed } });
}

export function commitCreate(ctx: ApiContext, resource: ResourceType, candidate: KubeObject, options: CommitOptions): KubeObject {
  const namespace = resource.namespaced ? candidate.metadata.namespace : undefined;
  ensureNamespaceWritable(ctx, resource, namespace, candidate.metadata.name ?? candidate.metadata.generateName ?? '');
  const object = ctx.admission.prepareCreate(resource, candidate);
  const name = object.metadata.name ?? '';
  const causes = validateObject(resource, object);
  if (causes.length > 0) throw invalid(resource, name, causes);
  if (ctx.store.get(resource, namespace, name)) throw alreadyExists(resource, name);
  object.metadata.managedFields = managedFieldsWith(undefined, resource, options);
  return options.dryRun ? object : ctx.store.write(resource, object);
}

export function commitUpdate(
  ctx: ApiContext,
  resource: ResourceType,
  stored: KubeObject,
  candidate: KubeObject,
  options: CommitOptions,
): KubeObject {
  const object = ctx.admission.prepareUpdate(resource, candidate, stored, options.subresource);
  if (options.subresource === undefined) {
    const causes = validateObject(resource, object, stored);
    if (causes.length > 0) throw invalid(resource, stored.metadata.name ?? '', causes);
  }
  object.metadata.managedFields = managedFieldsWith(stored.metadata.managedFields, resource, options);
  if (content(object) === content(stored)) return stored;
  return options.dryRun ? object : ctx.store.write(resource, object);
}
