import { UpstreamError } from '../errors.js';

/**
 * Outbound HTTP shared by the adapters: one deadline for the whole call, bounded retries with
 * exponential backoff and full jitter, and errors that name the system and what it answered.
 *
 * Retried: network failures (refused, reset, DNS), 429, 502, 503 and 504 — for idempotent
 * requests. A POST or PATCH is retried only when it surely was not processed: connection refused,
 * host not found, or 429. Never retried: any other
 * status — those are returned to the caller, which knows whether a 404 means "not found" or a
 * broken upstream (`unexpectedStatusError` turns the rest into an UpstreamError).
 * Messages carry the method and the URL path only: never the query, user info or headers, so a
 * credential can't leak into a log or a problem document.
 */
export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Deadline for the whole call, retries and backoff included. */
  timeoutMs: number;
  /** Extra attempts after the first one. Default 2. */
  retries?: number;
  /** First backoff ceiling; doubles per attempt. Default 200 ms. */
  retryBaseDelayMs?: number;
  /** Largest backoff ceiling, also the cap on a Retry-After header. Default 5 s. */
  retryMaxDelayMs?: number;
  /** Responses larger than this fail with an UpstreamError. Default 32 MiB. */
  maxResponseBytes?: number;
  /** Whether repeating the request is harmless; default true except for POST and PATCH. */
  idempotent?: boolean;
  /** Cancels the call (a job being cancelled); the abort reason is rethrown as is. */
  signal?: AbortSignal;
  /** Source of randomness for the jitter, in [0, 1). Tests may pin it. */
  random?: () => number;
}

export interface HttpResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  text: string;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

const DEFAULT_RETRIES = 2;
const DEFAULT_BASE_DELAY_MS = 200;
const DEFAULT_MAX_DELAY_MS = 5_000;
const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Why one attempt failed without giving a response the caller should see. */
type AttemptFailure =
  | { kind: 'timeout' }
  | { kind: 'network'; cause: string }
  | { kind: 'status'; response: HttpResponse }
  | { kind: 'too_large'; maxBytes: number };

export async function requestWithRetry(system: string, url: string, init: HttpRequestInit): Promise<HttpResponse> {
  const method = (init.method ?? 'GET').toUpperCase();
  const target = `${method} ${describeUrl(url)}`;
  const request = withoutUserInfo(system, url, init.headers ?? {});
  const retries = Math.max(0, init.retries ?? DEFAULT_RETRIES);
  const idempotent = init.idempotent ?? !['POST', 'PATCH'].includes(method);
  const deadline = Date.now() + init.timeoutMs;
  let lastFailure: AttemptFailure = { kind: 'timeout' };
  let attempts = 0;

  while (attempts <= retries) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) break;
    attempts += 1;
    const outcome = await attemptOnce(request.url, method, { ...init, headers: request.headers }, remainingMs);
    if (outcome.kind === 'response') return outcome.response;
    lastFailure = outcome;
    if (!isRetryable(outcome, idempotent) || attempts > retries) break;
    const delayMs = backoffDelay(attempts - 1, outcome, init);
    // A retry that could not start before the deadline would only turn a clear error into a timeout.
    if (Date.now() + delayMs >= deadline) break;
    await sleep(delayMs, init.signal);
  }
  throw failureError(system, target, lastFailure, attempts, init.timeoutMs);
}

/**
 * fetch refuses URLs with user info, and its error would quote the URL, password included. Move
 * them into a Basic Authorization header instead (unless the caller set one).
 */
function withoutUserInfo(system: string, url: string, headers: Record<string, string>): { url: string; headers: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UpstreamError(system, 'is configured with a URL that cannot be parsed');
  }
  if (parsed.username === '' && parsed.password === '') return { url, headers };
  const user = safeDecode(parsed.username);
  const password = safeDecode(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const hasAuthorization = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  const authorization = basicAuthorization(user, password);
  return {
    url: parsed.toString(),
    headers: hasAuthorization || authorization === undefined ? headers : { ...headers, authorization },
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A timeout already used up the deadline; an oversized body will not shrink on a second try. */
function isRetryable(failure: AttemptFailure, idempotent: boolean): boolean {
  if (failure.kind === 'network') return idempotent || UNREACHABLE_CODES.has(failure.cause);
  if (failure.kind === 'status') return idempotent || failure.response.status === 429;
  return false;
}

/**
 * The error for a status the caller did not expect: 401/403 say the credentials were refused
 * (without repeating them), anything else says which status came back.
 */
export function unexpectedStatusError(system: string, method: string, url: string, status: number): UpstreamError {
  const target = `${method.toUpperCase()} ${describeUrl(url)}`;
  if (status === 401 || status === 403) {
    return new UpstreamError(system, `refused the configured credentials (HTTP ${status} for ${target})`, 502, 'upstream_unauthorized');
  }
  return new UpstreamError(system, `answered HTTP ${status} for ${target}`, 502);
}

/** The URL without user info, query or fragment: safe to put in a message. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** `Authorization` header value for HTTP Basic, or undefined when no user is configured. */
export function basicAuthorization(user: string | undefined, password: string | undefined): string | undefined {
  if (user === undefined) return undefined;
  return `Basic ${Buffer.from(`${user}:${password ?? ''}`, 'utf8').toString('base64')}`;
}

type AttemptOutcome = { kind: 'response'; response: HttpResponse } | AttemptFailure;

async function attemptOnce(url: string, method: string, init: HttpRequestInit, timeoutMs: number): Promise<AttemptOutcome> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timeout.signal]) : timeout.signal;
  try {
    const reply = await fetch(url, { method, headers: init.headers, body: init.body, signal, redirect: 'manual' });
    const maxBytes = init.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const text = await readBody(reply, maxBytes);
    if (text === undefined) return { kind: 'too_large', maxBytes };
    const response: HttpResponse = { status: reply.status, headers: headersToRecord(reply.headers), text };
    if (RETRYABLE_STATUSES.has(reply.status)) return { kind: 'status', response };
    return { kind: 'response', response };
  } catch (error: unknown) {
    if (init.signal?.aborted) throw init.signal.reason;
    if (timeout.signal.aborted) return { kind: 'timeout' };
    return { kind: 'network', cause: networkCause(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** The body as text, or undefined when it is larger than `maxBytes` (reading stops there). */
async function readBody(reply: Response, maxBytes: number): Promise<string | undefined> {
  if (!reply.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of reply.body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await reply.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function headersToRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name.toLowerCase()] = value;
  });
  return record;
}

/** Socket error codes meaning nothing is listening or the host can't be found: the system is down. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** undici wraps the socket error ("fetch failed" → cause.code ECONNREFUSED): report the code. */
function networkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') return cause.code;
  // Some messages quote the URL; keep the words, drop the address.
  if (cause instanceof Error) return cause.message.replace(/\S+:\/\/\S*/g, '(url)');
  return 'network error';
}

function backoffDelay(attempt: number, failure: AttemptFailure, init: HttpRequestInit): number {
  const base = init.retryBaseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const max = init.retryMaxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const ceiling = Math.min(max, base * 2 ** attempt);
  const jittered = Math.floor((init.random ?? Math.random)() * ceiling);
  const retryAfter = failure.kind === 'status' ? retryAfterMs(failure.response.headers['retry-after']) : undefined;
  // Honour the server's Retry-After when it asks for longer, but never past our own ceiling.
  return retryAfter === undefined ? jittered : Math.min(max, Math.max(jittered, retryAfter));
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function failureError(system: string, target: string, failure: AttemptFailure, attempts: number, timeoutMs: number): UpstreamError {
  const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  switch (failure.kind) {
    case 'timeout':
      return new UpstreamError(system, `did not answer within ${timeoutMs} ms (${target})`, 504, 'upstream_timeout');
    case 'network':
      if (UNREACHABLE_CODES.has(failure.cause)) {
        return new UpstreamError(system, `could not be reached (${failure.cause}) after ${tries} (${target})`, 503, 'upstream_unreachable');
      }
      return new UpstreamError(system, `connection failed (${failure.cause}) after ${tries} (${target})`, 502);
    case 'status':
      return new UpstreamError(system, `answered HTTP ${failure.response.status} after ${tries} (${target})`, 502);
    case 'too_large':
      return new UpstreamError(system, `sent a response larger than ${failure.maxBytes} bytes (${target})`, 502);
  }
}
