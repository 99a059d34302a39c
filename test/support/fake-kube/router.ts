/**
 * HTTP front of the fake Kubernetes API server (a test double): records every request, adds the
 * configured latency, answers injected request failures, serves discovery, and maps resource
 * paths (`/api/v1/namespaces/{ns}/pods/{name}/log`, `/apis/apps/v1/deployments`, …) to the verbs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import type { ApiContext } from './commit.js';
import type { Faults, RequestFailureRule } from './faults.js';
import { getObject, listObjects, type Reply, type ResourceRequest } from './read-handlers.js';
import { coreVersions, VERSION_INFO } from './resources.js';
import { badRequest, failure, KubeApiError, methodNotAllowed, pathNotFound } from './status.js';
import type { ResourceType } from './types.js';
import { startWatch } from './watch.js';
import { applyObject, createObject, deleteCollection, deleteObject, patchObject, replaceObject } from './write-handlers.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body?: unknown;
  at: number;
}

export interface RouterDeps {
  ctx: ApiContext;
  faults: Faults;
  requests: RecordedRequest[];
  serverAddress: () => string;
  watches: Set<ServerResponse>;
}

const REASON_BY_STATUS: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict',
  410: 'Expired', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string): { ok: true; value: unknown } | { ok: false; raw: string } {
  if (text === '') return { ok: true, value: undefined };
  try {
    // Clients send apply patches as JSON (valid YAML); only real YAML needs the slower parser.
    if (contentType.includes('yaml')) return { ok: true, value: text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text) };
    if (contentType.includes('json') || contentType === '') return { ok: true, value: JSON.parse(text) };
    return { ok: true, value: text };
  } catch (error: unknown) {
    if (error instanceof Error) return { ok: false, raw: text };
    throw error;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function sendReply(response: ServerResponse, reply: Reply): void {
  if (reply.kind === 'json') {
    sendJson(response, reply.status, reply.body);
    return;
  }
  response.writeHead(reply.status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(reply.text) });
  response.end(reply.text);
}

function sendInjectedFailure(response: ServerResponse, rule: RequestFailureRule): void {
  const retryAfter = rule.retryAfterSeconds ?? (rule.status === 429 || rule.status === 503 ? 1 : undefined);
  const reason = REASON_BY_STATUS[rule.status] ?? 'Unknown';
  const body = rule.body ?? failure(rule.status, reason, `injected failure (fake-kube): ${reason}`, retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : undefined);
  sendJson(response, rule.status, body, retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {});
}

export class Router {
  constructor(private readonly deps: RouterDeps) {}

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const text = await readBody(request);
    const parsed = parseBody(text, contentType ?? '');
    this.deps.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      ...(text !== '' ? { body: parsed.ok ? parsed.value : parsed.raw } : {}),
      at: Date.now(),
    });
    if (this.deps.faults.latencyMs > 0) await sleep(this.deps.faults.latencyMs);
    const injected = this.deps.faults.takeRequestFailure(method, `${url.pathname}${url.search}`);
    if (injected) {
      sendInjectedFailure(response, injected);
      return;
    }
    try {
      if (!parsed.ok) throw badRequest('the request body could not be decoded');
      this.route(method, url, contentType ?? '', parsed.value, request.headers['user-agent'], response);
    } catch (error: unknown) {
      if (error instanceof KubeApiError) sendJson(response, error.body.code, error.body, error.headers);
      else sendJson(response, 500, failure(500, 'InternalError', `fake-kube: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  private route(method: string, url: URL, contentType: string, body: unknown, userAgent: string | undefined, response: ServerResponse): void {
    const discovery = this.discovery(url.pathname);
    if (discovery !== undefined) {
      if (method !== 'GET') throw methodNotAllowed();
      sendJson(response, 200, discovery);
      return;
    }
    const request = this.resourceRequest(method, url, contentType, body, userAgent);
    const { ctx } = this.deps;
    const { name, subresource } = request;
    if (name === undefined) {
      if (request.resource.namespaced && request.namespace === undefined && method !== 'GET') throw methodNotAllowed();
      const watching = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
      if (method === 'GET' && watching) startWatch(ctx, request, response, this.deps.watches);
      else if (method === 'GET') sendReply(response, listObjects(ctx, request));
      else if (method === 'POST' && request.resource.kind === 'SelfSubjectAccessReview') sendReply(response, this.review(request.body));
      else if (method === 'POST') sendReply(response, createObject(ctx, request));
      else if (method === 'DELETE') sendReply(response, deleteCollection(ctx, request));
      else throw methodNotAllowed();
      return;
    }
    if (subresource === 'log' && method !== 'GET') throw methodNotAllowed();
    if (method === 'GET') sendReply(response, getObject(ctx, request, name));
    else if (method === 'PUT') sendReply(response, replaceObject(ctx, request, name));
    else if (method === 'PATCH') sendReply(response, contentType === 'application/apply-patch+yaml' ? applyObject(ctx, request, name) : patchObject(ctx, request, name));
    else if (method === 'DELETE' && subresource === undefined) sendReply(response, deleteObject(ctx, request, name));
    else throw methodNotAllowed();
  }

  /** A SelfSubjectAccessReview: allowed, unless `faults.denyAccess` says otherwise. Nothing is stored, as on a real server. */
  private review(body: unknown): { kind: 'json'; status: number; body: unknown } {
    const review = (typeof body === 'object' && body !== null ? body : {}) as { spec?: { resourceAttributes?: { verb?: string; resource?: string; subresource?: string; namespace?: string } } };
    const a = review.spec?.resourceAttributes ?? {};
    const resource = `${a.resource ?? ''}${a.subresource ? `/${a.subresource}` : ''}`;
    const denied = this.deps.faults.accessDenied(a.verb ?? '', resource, a.namespace);
    return { kind: 'json', status: 201, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: review.spec ?? {}, status: denied ? { allowed: false, denied: true, reason: 'fake-kube: denied by faults.denyAccess' } : { allowed: true, reason: 'fake-kube: allowed' } } };
  }

  private discovery(path: string): unknown {
    const registry = this.deps.ctx.registry;
    const trimmed = path.replace(/\/+$/, '') || '/';
    if (trimmed === '/version') return VERSION_INFO;
    if (['/healthz', '/readyz', '/livez'].includes(trimmed)) return 'ok';
    if (trimmed === '/api') return coreVersions(this.deps.serverAddress());
    if (trimmed === '/api/v1') return registry.resourceList('', 'v1');
    if (trimmed === '/apis') return registry.groupList();
    const group = /^\/apis\/([^/]+)$/.exec(trimmed);
    if (group) return registry.group(group[1] ?? '') ?? failNotFound();
    const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(trimmed);
    if (groupVersion) return registry.resourceList(groupVersion[1] ?? '', groupVersion[2] ?? '') ?? failNotFound();
    return undefined;
  }

  private resourceRequest(method: string, url: URL, contentType: string, body: unknown, userAgent: string | undefined): ResourceRequest {
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const [root, groupOrVersion, ...afterRoot] = parts;
    let group = '';
    let version = groupOrVersion ?? '';
    let rest = afterRoot;
    if (root === 'apis') {
      group = groupOrVersion ?? '';
      version = afterRoot[0] ?? '';
      rest = afterRoot.slice(1);
    } else if (root !== 'api') {
      throw pathNotFound();
    }
    const target = this.locate(group, version, rest);
    return { method, ...target, query: url.searchParams, contentType, body, userAgent };
  }

  /** Resolves `[namespaces, ns]? plural [name [subresource]]` against the served types. */
  private locate(group: string, version: string, rest: string[]): Pick<ResourceRequest, 'resource' | 'namespace' | 'name' | 'subresource'> {
    const registry = this.deps.ctx.registry;
    const find = (plural: string | undefined): ResourceType | undefined =>
      plural === undefined ? undefined : registry.byPlural(group, version, plural);
    const namespacedTarget = rest[0] === 'namespaces' && rest.length >= 3 ? find(rest[2]) : undefined;
    if (namespacedTarget?.namespaced && rest.length <= 5) {
      return this.checked(namespacedTarget, rest[1], rest[3], rest[4]);
    }
    const clusterTarget = find(rest[0]);
    if (clusterTarget && rest.length <= 3 && (!clusterTarget.namespaced || rest.length === 1)) {
      return this.checked(clusterTarget, undefined, rest[1], rest[2]);
    }
    throw pathNotFound();
  }

  private checked(
    resource: ResourceType,
    namespace: string | undefined,
    name: string | undefined,
    subresource: string | undefined,
  ): Pick<ResourceRequest, 'resource' | 'namespace' | 'name' | 'subresource'> {
    if (subresource !== undefined && !resource.subresources.includes(subresource)) throw pathNotFound();
    return { resource, namespace, name, subresource };
  }
}

function failNotFound(): never {
  throw pathNotFound();
}
