import { createHmac } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { AppError } from '../errors.js';
import type { Deployment } from './deployments/model.js';

/**
 * Deployment callbacks: when a deployment reaches a final status, a POST of its summary to the
 * `callbackUrl` given with the request, signed `X-Slipway-Signature: sha256=<hex HMAC-SHA256 of
 * the body>` with CALLBACK_SECRET. Delivered by the `notify` task queue, which retries with
 * backoff. Callback URLs may not point at loopback or private addresses unless the operator
 * allows it, so a user cannot make the service call its own internal network.
 */
export const CALLBACK_SIGNATURE_HEADER = 'x-slipway-signature';

export function checkCallbackUrl(url: string, allowPrivate: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (!allowPrivate) {
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (host === 'localhost' || host.endsWith('.localhost') || (net.isIP(host) && isPrivateAddress(host))) {
      return 'must not point at a loopback or private address (set ALLOW_PRIVATE_CALLBACKS=true to allow it)';
    }
  }
  return undefined;
}

export function isPrivateAddress(ip: string): boolean {
  if (net.isIPv4(ip)) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:')) return isPrivateAddress(lower.slice(7));
  return lower === '::1' || lower === '::' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80');
}

/** `deployment.finished` when a deploy or undeploy ends; `deployment.health` when a live deployment's health or sync changes. */
export function callbackBody(d: Deployment, event: 'deployment.finished' | 'deployment.health' = 'deployment.finished'): string {
  return JSON.stringify({
    event,
    id: d.id,
    status: d.status,
    solutionId: d.solutionId,
    revisionId: d.revisionId,
    namespace: d.namespace,
    services: d.services,
    error: d.error,
    ...(event === 'deployment.health' ? { health: d.health, sync: d.sync } : {}),
    at: event === 'deployment.health' ? (d.health?.checkedAt ?? d.updatedAt) : d.updatedAt,
  });
}

export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class CallbackFailedError extends AppError {
  constructor(message: string) {
    super('callback_failed', 502, message);
  }
}

/** One delivery attempt; throws so the task queue retries it. */
export async function deliverCallback(url: string, body: string, secret: string, allowPrivate: boolean, timeoutMs = 10_000): Promise<void> {
  const problem = checkCallbackUrl(url, allowPrivate);
  if (problem) throw new CallbackFailedError(`callback ${url} ${problem}`);
  if (!allowPrivate) {
    // Resolve now: a name may point at a private address even when the URL did not show one.
    const { address } = await lookup(new URL(url).hostname);
    if (isPrivateAddress(address)) throw new CallbackFailedError(`callback host resolves to a private address`);
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CALLBACK_SIGNATURE_HEADER]: signBody(body, secret) },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((error: unknown) => {
    throw new CallbackFailedError(`callback POST failed: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (response.status < 200 || response.status >= 300) throw new CallbackFailedError(`callback answered HTTP ${response.status}`);
}
