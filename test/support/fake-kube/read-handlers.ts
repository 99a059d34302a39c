/**
 * Reading verbs of the fake Kubernetes API server (a test double): get, list (label and field
 * selectors, `limit`/`continue`) and pod logs (`tailLines`, `container`).
 */
import type { ApiContext } from './commit.js';
import { tailLines } from './logs.js';
import { fieldMatcher, labelMatcher } from './selectors.js';
import { badRequest, notFound } from './status.js';
import { asArray, asRecord, asString, groupVersionOf, readPath, type KubeObject, type ResourceType } from './types.js';

export interface ResourceRequest {
  method: string;
  resource: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  query: URLSearchParams;
  contentType: string;
  body: unknown;
  userAgent: string | undefined;
}

export type Reply =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'text'; status: number; text: string };

export function json(status: number, body: unknown): Reply {
  return { kind: 'json', status, body };
}

export function getObject(ctx: ApiContext, request: ResourceRequest, name: string): Reply {
  const object = ctx.store.get(request.resource, request.namespace, name);
  if (!object) throw notFound(request.resource, name);
  if (request.subresource === 'log') return podLogs(ctx, object, request.query);
  return json(200, object);
}

/** Built-in list items carry no apiVersion/kind on the real server; custom resources do. */
function listItem(resource: ResourceType, object: KubeObject): unknown {
  if (resource.custom) return object;
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}

export function selectObjects(ctx: ApiContext, request: ResourceRequest): KubeObject[] {
  const byLabel = labelMatcher(request.query.get('labelSelector') ?? undefined);
  const byField = fieldMatcher(request.query.get('fieldSelector') ?? undefined);
  return ctx.store.list(request.resource, request.namespace).filter((o) => byLabel(o) && byField(o));
}

export function listObjects(ctx: ApiContext, request: ResourceRequest): Reply {
  const all = selectObjects(ctx, request);
  const offset = decodeContinue(request.query.get('continue'));
  const limitText = request.query.get('limit');
  const limit = limitText === null ? 0 : Number(limitText);
  const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
  const next = offset + page.length;
  const more = limit > 0 && next < all.length;
  return json(200, {
    kind: `${request.resource.kind}List`,
    apiVersion: groupVersionOf(request.resource),
    metadata: {
      resourceVersion: String(ctx.store.currentRevision()),
      ...(more ? { continue: Buffer.from(JSON.stringify({ offset: next })).toString('base64url'), remainingItemCount: all.length - next } : {}),
    },
    items: page.map((object) => listItem(request.resource, object)),
  });
}

function decodeContinue(token: string | null): number {
  if (token === null || token === '') return 0;
  try {
    const offset = asRecord(JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))).offset;
    if (typeof offset === 'number' && offset >= 0) return offset;
  } catch (error: unknown) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  throw badRequest('continue key is not valid');
}

function containerNames(pod: KubeObject): string[] {
  return asArray(readPath(pod, 'spec.containers'))
    .map((container) => asString(asRecord(container).name))
    .filter((name): name is string => name !== undefined);
}

/** A container that has never started has no logs; the real kubelet says why. */
function waitingToStart(pod: KubeObject, container: string): string | undefined {
  const status = asArray(readPath(pod, 'status.containerStatuses')).map(asRecord).find((s) => s.name === container);
  if (status === undefined) return 'ContainerCreating';
  const waiting = readPath(status, 'state.waiting.reason');
  const everRan = readPath(status, 'lastState.terminated') !== undefined;
  return typeof waiting === 'string' && !everRan ? waiting : undefined;
}

function podLogs(ctx: ApiContext, pod: KubeObject, query: URLSearchParams): Reply {
  const names = containerNames(pod);
  const podName = pod.metadata.name ?? '';
  const container = query.get('container') ?? (names.length === 1 ? names[0] : undefined);
  if (container === undefined) {
    throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
  const waiting = waitingToStart(pod, container);
  if (waiting !== undefined) {
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${waiting}`);
  }
  const tail = query.get('tailLines');
  return { kind: 'text', status: 200, text: tailLines(ctx.logs.logsOf(pod), tail === null ? undefined : Number(tail)) };
}
