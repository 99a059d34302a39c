/**
 * `Status` error bodies the way the Kubernetes API server writes them, for the fake API server
 * (a test double). Handlers throw `KubeApiError`; the router turns it into the HTTP answer.
 */
import { qualifiedKind, qualifiedResource, type ResourceType } from './types.js';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class KubeApiError extends Error {
  readonly body: StatusBody;
  readonly headers: Record<string, string>;

  constructor(body: StatusBody, headers: Record<string, string> = {}) {
    super(body.message ?? body.reason ?? `HTTP ${body.code}`);
    this.name = 'KubeApiError';
    this.body = body;
    this.headers = headers;
  }
}

export function failure(
  code: number,
  reason: string,
  message: string,
  details?: StatusBody['details'],
): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

function resourceDetails(resource: ResourceType, name: string): StatusBody['details'] {
  return { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.plural };
}

export function notFound(resource: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    failure(404, 'NotFound', `${qualifiedResource(resource)} "${name}" not found`, resourceDetails(resource, name)),
  );
}

export function namespaceNotFound(namespace: string): KubeApiError {
  return new KubeApiError(
    failure(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' }),
  );
}

export function alreadyExists(resource: ResourceType, name: string): KubeApiError {
  return new KubeApiError(
    failure(409, 'AlreadyExists', `${qualifiedResource(resource)} "${name}" already exists`, resourceDetails(resource, name)),
  );
}

export function conflict(resource: ResourceType, name: string, why: string): KubeApiError {
  return new KubeApiError(
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": ${why}`, resourceDetails(resource, name)),
  );
}

export function applyConflict(resource: ResourceType, name: string, causes: StatusCause[]): KubeApiError {
  const list = causes.map((c) => `- ${c.message}`).join('\n');
  return new KubeApiError(
    failure(409, 'Conflict', `Apply failed with ${causes.length} conflict${causes.length === 1 ? '' : 's'}: ${list}`, {
      ...resourceDetails(resource, name),
      causes,
    }),
  );
}

export function invalid(resource: ResourceType, name: string, causes: StatusCause[]): KubeApiError {
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const message = `${qualifiedKind(resource)} "${name}" is invalid: ${summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`}`;
  return new KubeApiError(
    failure(422, 'Invalid', message, { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.kind, causes }),
  );
}

export function badRequest(message: string): KubeApiError {
  return new KubeApiError(failure(400, 'BadRequest', message));
}

export function forbidden(message: string, resource?: ResourceType, name?: string): KubeApiError {
  return new KubeApiError(
    failure(403, 'Forbidden', message, resource && name !== undefined ? resourceDetails(resource, name) : undefined),
  );
}

export function methodNotAllowed(): KubeApiError {
  return new KubeApiError(failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
}

export function unsupportedMediaType(contentType: string): KubeApiError {
  return new KubeApiError(failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`));
}

export function pathNotFound(): KubeApiError {
  return new KubeApiError(failure(404, 'NotFound', 'the server could not find the requested resource'));
}

export function success(resource: ResourceType, name: string, uid: string | undefined): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...resourceDetails(resource, name), ...(uid ? { uid } : {}) },
  };
}
