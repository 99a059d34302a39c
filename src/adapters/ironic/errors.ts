import { UpstreamError } from '../../errors.js';

export const IRONIC = 'Ironic';

/**
 * Ironic answered an HTTP error. `httpStatus` is its status; `fault` is its own sentence, dug out
 * of the doubly encoded body (`{"error_message": "{\"faultstring\": …}"}`). The message names the
 * method and path (never the query or a body, so no password can ride along).
 */
export class IronicApiError extends UpstreamError {
  readonly httpStatus: number;
  readonly fault: string;
  constructor(method: string, path: string, httpStatus: number, fault: string) {
    super(IRONIC, `${method} ${path} answered HTTP ${httpStatus}: ${fault}`, httpStatus === 503 ? 503 : 502, ironicCode(httpStatus));
    this.httpStatus = httpStatus;
    this.fault = fault;
  }

  /** Ironic's conductor holds the node for another operation: try again in a moment. */
  get nodeLocked(): boolean {
    return this.httpStatus === 409 && /is locked by host|locked by/i.test(this.fault);
  }
}

function ironicCode(status: number): string {
  if (status === 404) return 'ironic_not_found';
  if (status === 409) return 'ironic_conflict';
  if (status === 406) return 'ironic_version_unsupported';
  if (status >= 400 && status < 500) return 'ironic_rejected';
  return 'upstream_failed';
}

export function isIronicApiError(error: unknown, status?: number): error is IronicApiError {
  return error instanceof IronicApiError && (status === undefined || error.httpStatus === status);
}

export function isNodeLocked(error: unknown): boolean {
  return error instanceof IronicApiError && error.nodeLocked;
}

const MAX_FAULT_LENGTH = 500;

/**
 * The sentence inside an Ironic error body. Ironic wraps its fault in a JSON string inside JSON:
 * `{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"…\", \"debuginfo\": null}"}`;
 * version errors carry `description` instead of `faultstring`. Anything else is returned trimmed.
 */
export function decodeIronicFault(body: string, status: number): string {
  const outer = parseJson(body);
  const inner = isRecord(outer) ? outer.error_message : undefined;
  const decoded = typeof inner === 'string' ? (parseJson(inner) ?? inner) : inner;
  const sentence = faultSentence(decoded) ?? faultSentence(outer);
  if (sentence !== undefined) return clip(sentence);
  const text = body.trim();
  return text === '' ? `HTTP ${status} without a message` : clip(text);
}

function faultSentence(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (!isRecord(value)) return undefined;
  for (const key of ['faultstring', 'description', 'title', 'message']) {
    const candidate = value[key];
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate.trim();
  }
  return undefined;
}

function clip(text: string): string {
  return text.length > MAX_FAULT_LENGTH ? `${text.slice(0, MAX_FAULT_LENGTH)}…` : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces every occurrence of each secret with `******` (how Ironic itself masks passwords). */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 3) result = result.split(secret).join('******');
  }
  return result;
}
