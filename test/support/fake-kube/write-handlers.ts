/**
 * Writing verbs of the fake Kubernetes API server (a test double): create, replace (PUT), patch
 * (JSON, merge, strategic merge), server-side apply, delete and deletecollection.
 */
import { commitCreate, commitUpdate, type ApiContext, type CommitOptions } from './commit.js';
import { applyMerge, conflictingPaths, jsonPatch, mergePatch, removeLeaf, strategicMergePatch } from './merge.js';
import { json, selectObjects, type Reply, type ResourceRequest } from './read-handlers.js';
import { hasStatusSubresource } from './resources.js';
import {
  applyConflict, badRequest, conflict, methodNotAllowed, notFound, success, unsupportedMediaType, type StatusCause,
} from './status.js';
import { asRecord, asString, clone, groupVersionOf, isKubeObject, isRecord, nowIso, type KubeObject, type ResourceType } from './types.js';

const SERVER_OWNED_METADATA = ['uid', 'creationTimestamp', 'generation', 'managedFields', 'deletionTimestamp'] as const;

function manager(request: ResourceRequest): string {
  return request.query.get('fieldManager') ?? request.userAgent?.split('/')[0] ?? 'unknown';
}

function isDryRun(request: ResourceRequest): boolean {
  return request.query.getAll('dryRun').includes('All');
}

function statusSubresource(request: ResourceRequest): 'status' | undefined {
  return request.subresource === 'status' ? 'status' : undefined;
}

/** The body as an object of this resource, checked against the URL. */
function sentObject(request: ResourceRequest, urlName?: string): KubeObject {
  const body = request.body;
  if (!isRecord(body)) throw badRequest('the body of the request must be a JSON object');
  const resource = request.resource;
  const kind = asString(body.kind);
  if (kind !== undefined && kind !== resource.kind) {
    throw badRequest(`${kind} in version "${asString(body.apiVersion) ?? ''}" cannot be handled as a ${resource.kind}`);
  }
  const metadata = { ...asRecord(body.metadata) };
  const sentNamespace = asString(metadata.namespace);
  if (resource.namespaced && sentNamespace !== undefined && sentNamespace !== '' && sentNamespace !== request.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const sentName = asString(metadata.name);
  if (urlName !== undefined && sentName !== undefined && sentName !== urlName) {
    throw badRequest(`the name of the object (${sentName}) does not match the name on the URL (${urlName})`);
  }
  if (resource.namespaced) metadata.namespace = request.namespace;
  if (urlName !== undefined) metadata.name = urlName;
  return { ...clone(body), apiVersion: groupVersionOf(resource), kind: resource.kind, metadata };
}

function withoutServerOwned(object: KubeObject): KubeObject {
  for (const key of SERVER_OWNED_METADATA) delete object.metadata[key];
  return object;
}

function stored(ctx: ApiContext, request: ResourceRequest, name: string): KubeObject {
  const object = ctx.store.get(request.resource, request.namespace, name);
  if (!object) throw notFound(request.resource, name);
  return object;
}

function checkResourceVersion(resource: ResourceType, current: KubeObject, sent: unknown): void {
  const version = asString(asRecord(asRecord(sent).metadata).resourceVersion);
  if (version !== undefined && version !== '' && version !== current.metadata.resourceVersion) {
    throw conflict(resource, current.metadata.name ?? '', 'the object has been modified; please apply your changes to the latest version and try again');
  }
}

function options(request: ResourceRequest, operation: CommitOptions['operation'], fields: unknown): CommitOptions {
  return { manager: manager(request), operation, fields, dryRun: isDryRun(request), subresource: statusSubresource(request) };
}

export function createObject(ctx: ApiContext, request: ResourceRequest): Reply {
  const candidate = withoutServerOwned(sentObject(request));
  delete candidate.metadata.resourceVersion;
  return json(201, commitCreate(ctx, request.resource, candidate, options(request, 'Update', request.body)));
}

export function replaceObject(ctx: ApiContext, request: ResourceRequest, name: string): Reply {
  const current = stored(ctx, request, name);
  const candidate = sentObject(request, name);
  checkResourceVersion(request.resource, current, candidate);
  withoutServerOwned(candidate);
  return json(200, commitUpdate(ctx, request.resource, current, candidate, options(request, 'Update', request.body)));
}

export function patchObject(ctx: ApiContext, request: ResourceRequest, name: string): Reply {
  if (request.contentType === 'application/apply-patch+yaml') return applyObject(ctx, request, name);
  const current = stored(ctx, request, name);
  const patched = patchWith(request.contentType, current, request.body);
  if (!isKubeObject(patched)) throw badRequest('the patch produced an object without apiVersion, kind or metadata');
  checkResourceVersion(request.resource, current, request.body);
  const candidate = withoutServerOwned(patched);
  return json(200, commitUpdate(ctx, request.resource, current, candidate, options(request, 'Update', request.body)));
}

function patchWith(contentType: string, current: KubeObject, patch: unknown): unknown {
  switch (contentType) {
    case 'application/json-patch+json': return jsonPatch(current, patch);
    case 'application/merge-patch+json': return mergePatch(current, patch);
    case 'application/strategic-merge-patch+json': return strategicMergePatch(current, patch);
    default: throw unsupportedMediaType(contentType);
  }
}

/** What a manager applies: the sent object without server-owned fields (and without status, except on /status). */
function appliedConfiguration(request: ResourceRequest, name: string): KubeObject {
  const body = asRecord(request.body);
  if (asString(body.apiVersion) === undefined) throw badRequest('apiVersion must be set in the applied configuration');
  if (asString(body.kind) === undefined) throw badRequest('kind must be set in the applied configuration');
  const config = withoutServerOwned(sentObject(request, name));
  delete config.metadata.resourceVersion;
  if (hasStatusSubresource(request.resource) && request.subresource !== 'status') delete config.status;
  return config;
}

export function applyObject(ctx: ApiContext, request: ResourceRequest, name: string): Reply {
  const fieldManager = request.query.get('fieldManager');
  if (fieldManager === null || fieldManager === '') {
    throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  }
  const resource = request.resource;
  const config = appliedConfiguration(request, name);
  const configs = ctx.store.appliedBy(resource, request.namespace, name);
  takeOverConflicts(resource, name, fieldManager, config, configs, request.query.get('force') === 'true');
  const current = ctx.store.get(resource, request.namespace, name);
  const commit = options(request, 'Apply', config);
  let result: KubeObject;
  if (current === undefined) {
    const created = applyMerge({}, config, undefined);
    if (!isKubeObject(created)) throw badRequest('the applied configuration is not an object');
    result = commitCreate(ctx, resource, created, commit);
  } else {
    checkResourceVersion(resource, current, request.body);
    const merged = applyMerge(current, config, configs.get(fieldManager));
    if (!isKubeObject(merged)) throw badRequest('the applied configuration is not an object');
    result = commitUpdate(ctx, resource, current, merged, commit);
  }
  if (!commit.dryRun) {
    configs.set(fieldManager, config);
    ctx.store.setAppliedBy(resource, request.namespace, name, configs);
  }
  return json(current === undefined ? 201 : 200, result);
}

/** Fails on fields another apply manager set differently, or takes them over when forced. */
function takeOverConflicts(
  resource: ResourceType,
  name: string,
  fieldManager: string,
  config: KubeObject,
  configs: Map<string, unknown>,
  force: boolean,
): void {
  const causes: StatusCause[] = [];
  for (const [other, otherConfig] of configs) {
    if (other === fieldManager) continue;
    const paths = conflictingPaths(config, otherConfig);
    for (const path of paths) {
      if (force) removeLeaf(otherConfig, path);
      else causes.push({ reason: 'FieldManagerConflict', message: `conflict with "${other}": ${path}`, field: path });
    }
  }
  if (causes.length > 0) throw applyConflict(resource, name, causes);
}

function propagationPolicy(request: ResourceRequest): string | undefined {
  return request.query.get('propagationPolicy') ?? asString(asRecord(request.body).propagationPolicy);
}

export function deleteObject(ctx: ApiContext, request: ResourceRequest, name: string): Reply {
  const current = stored(ctx, request, name);
  const preconditions = asRecord(asRecord(request.body).preconditions);
  if ((preconditions.uid !== undefined && preconditions.uid !== current.metadata.uid) ||
      (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion)) {
    throw conflict(request.resource, name, 'the precondition for the delete was not met');
  }
  if (isDryRun(request)) return json(200, success(request.resource, name, current.metadata.uid));
  if (request.resource.kind === 'Namespace') return json(200, markNamespaceDeleting(ctx, request.resource, current));
  removeObject(ctx, request.resource, current, propagationPolicy(request));
  return json(200, success(request.resource, name, current.metadata.uid));
}

function markNamespaceDeleting(ctx: ApiContext, resource: ResourceType, namespace: KubeObject): KubeObject {
  if (namespace.metadata.deletionTimestamp) return namespace;
  namespace.metadata.deletionTimestamp = nowIso();
  namespace.status = { ...asRecord(namespace.status), phase: 'Terminating' };
  const written = ctx.store.write(resource, namespace);
  ctx.onNamespaceDeleting(namespace.metadata.name ?? '');
  return written;
}

/** Deletes one object. Jobs deleted through the API orphan their pods unless told otherwise, like batch/v1. */
function removeObject(ctx: ApiContext, resource: ResourceType, object: KubeObject, policy: string | undefined): void {
  ctx.store.remove(resource, object.metadata.namespace, object.metadata.name ?? '');
  if (resource.kind === 'Job' && (policy === undefined || policy === 'Orphan')) orphanJobPods(ctx, object);
}

function orphanJobPods(ctx: ApiContext, job: KubeObject): void {
  const pods = ctx.registry.byKind('', 'Pod');
  if (!pods) return;
  for (const pod of ctx.store.list(pods, job.metadata.namespace)) {
    const owned = (pod.metadata.ownerReferences ?? []).some((owner) => owner.uid === job.metadata.uid);
    if (!owned) continue;
    pod.metadata.ownerReferences = (pod.metadata.ownerReferences ?? []).filter((owner) => owner.uid !== job.metadata.uid);
    ctx.store.write(pods, pod);
  }
}

export function deleteCollection(ctx: ApiContext, request: ResourceRequest): Reply {
  if (request.resource.kind === 'Namespace') throw methodNotAllowed();
  const selected = selectObjects(ctx, request);
  if (!isDryRun(request)) {
    for (const object of selected) removeObject(ctx, request.resource, object, propagationPolicy(request));
  }
  return json(200, {
    kind: `${request.resource.kind}List`,
    apiVersion: groupVersionOf(request.resource),
    metadata: { resourceVersion: String(ctx.store.currentRevision()) },
    items: selected,
  });
}
