import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, ApiException, FetchError } from '@kubernetes/client-node';

/**
 * Bounded retry with exponential backoff and jitter for Kubernetes API calls. What is worth
 * retrying: 409 (a conflicting write raced us), 429 (honouring Retry-After), 5xx, timeouts and
 * connection failures. Everything else is the server's final answer.
 */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound for a server's Retry-After. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
};

/** What a failed call amounted to, with a message that names no credential. */
export type CallFailure =
  | { kind: 'http'; status: number; message: string; transient: boolean; retryAfterMs?: number }
  | { kind: 'network'; message: string; transient: boolean; timedOut: boolean }
  | { kind: 'client'; message: string };

/** Connection failures that may clear up; TLS and name errors will not. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

function isTransientStatus(status: number): boolean {
  return status === 409 || status === 429 || status >= 500;
}

/**
 * A 500 that is a refusal of the object, not a server in trouble: a real kube-apiserver answers a
 * server-side apply of a custom resource with a field its schema does not declare, or of the wrong
 * type, with 500 "failed to create typed patch object" (kubernetes/kubernetes#139253). Retrying
 * cannot help; the message names the field.
 */
function isRefusal(status: number, message: string): boolean {
  return status === 500 && message.includes('failed to create typed patch object');
}

/**
 * The API server's own words: a `Status` object's `message`, whether the client parsed the body or
 * handed it over as text (it does the latter for some answers of a real kube-apiserver).
 */
function serverMessage(body: unknown, status: number): string {
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') {
    return body.message;
  }
  if (typeof body === 'string' && body.trim() !== '') {
    const text = body.trim();
    if (text.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') return parsed.message;
      } catch {
        // not JSON after all: the text itself
      }
    }
    return text.slice(0, 500);
  }
  return `HTTP ${status}`;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function classifyFailure(error: unknown): CallFailure {
  if (error instanceof ApiException) {
    const status = error.code;
    const headers: Record<string, string> = error.headers ?? {};
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    const message = serverMessage(error.body, status);
    return {
      kind: 'http',
      status,
      message,
      transient: isTransientStatus(status) && !isRefusal(status, message),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  if (error instanceof AbortError || (error instanceof Error && error.name === 'AbortError')) {
    return { kind: 'network', message: 'the request timed out', transient: true, timedOut: true };
  }
  if (error instanceof FetchError) {
    const code = error.code ?? error.errno ?? '';
    // node-fetch messages are "request to <url> failed, reason: <cause>"; the cause is what matters.
    const reason = error.message.replace(/^request to \S+ failed, reason: /, '');
    return { kind: 'network', message: reason, transient: TRANSIENT_NETWORK_CODES.has(String(code)), timedOut: false };
  }
  return { kind: 'client', message: error instanceof Error ? error.message : String(error) };
}

export function isTransient(failure: CallFailure): boolean {
  return failure.kind !== 'client' && failure.transient;
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export function delayBeforeRetry(failure: CallFailure, retry: number, policy: RetryPolicy): number {
  const backoff = backoffDelayMs(retry, policy);
  if (failure.kind === 'http' && failure.retryAfterMs !== undefined) {
    return Math.max(backoff, Math.min(failure.retryAfterMs, policy.maxRetryAfterMs));
  }
  return backoff;
}

export interface RetryOutcome<T> {
  value: T;
  attempts: number;
}

export class RetriesExhausted extends Error {
  readonly failure: CallFailure;
  readonly attempts: number;
  constructor(failure: CallFailure, attempts: number) {
    super(failure.message);
    this.failure = failure;
    this.attempts = attempts;
  }
}

/**
 * Runs `call` until it succeeds, fails for good, or runs out of attempts; the final failure is
 * thrown as `RetriesExhausted` carrying its classification. An aborted `signal` stops the waiting.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<RetryOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return { value: await call(), attempts: attempt };
    } catch (error: unknown) {
      const failure = classifyFailure(error);
      if (!isTransient(failure) || attempt >= policy.attempts) throw new RetriesExhausted(failure, attempt);
      await sleep(delayBeforeRetry(failure, attempt - 1, policy), undefined, signal ? { signal } : undefined);
    }
  }
}
