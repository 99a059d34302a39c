import { setTimeout as sleep } from 'node:timers/promises';
import { assessSolution, type ExpectedSolution, type SolutionHealth } from '../../domain/health/index.js';
import { errorMessage } from '../../errors.js';
import type { ClusterClient } from './cluster-client.js';
import { DeployNotReadyError, KubernetesRequestError } from './errors.js';

export interface WaitForReadyOptions {
  timeoutMs: number;
  /** Between reads when there is no working watch; capped at 1000 ms. */
  pollMs?: number;
  /** Label selector for the solution's Deployments, PVCs and Services. */
  selector?: string;
  signal?: AbortSignal;
  /** Called with the first assessment and whenever it changes. */
  onChange?: (health: SolutionHealth) => void;
}

const MAX_POLL_MS = 1000;
/** With a working watch, the state is read again on every change, and at least this often. */
const WATCHED_REREAD_MS = 5000;

/**
 * Reads the namespace — again on every change its watch reports (polling when the watch does not
 * work) — and assesses it (the pure health assessment) until every expected object is
 * ready. Rejects with DeployNotReadyError, listing each object's reason, when the deadline passes
 * or as soon as an object failed in a way waiting cannot fix. A read that fails transiently is
 * retried on the next poll; one that cannot succeed (forbidden, TLS) is thrown at once.
 */
export async function waitForReady(
  client: Pick<ClusterClient, 'readState'> & Partial<Pick<ClusterClient, 'watchNamespace'>>,
  namespace: string,
  expected: ExpectedSolution,
  options: WaitForReadyOptions,
): Promise<SolutionHealth> {
  const pollMs = Math.min(Math.max(options.pollMs ?? MAX_POLL_MS, 10), MAX_POLL_MS);
  const deadline = Date.now() + options.timeoutMs;
  let last: SolutionHealth | undefined;
  let lastKey = '';
  let lastError: string | undefined;
  // Changes come by watch: re-assessed as soon as a Pod turns Ready, not on the next poll. A
  // watch that starts after the first read still misses nothing: it begins with every object as
  // it is then (ADDED).
  const watch = client.watchNamespace?.(namespace);
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        const health = assessSolution(await client.readState(namespace, options.selector), expected);
        lastError = undefined;
        last = health;
        const key = JSON.stringify(health);
        if (key !== lastKey) {
          lastKey = key;
          options.onChange?.(health);
        }
        if (health.ready) return health;
        if (health.terminal) throw new DeployNotReadyError(health, { timeoutMs: options.timeoutMs });
      } catch (error: unknown) {
        if (!(error instanceof KubernetesRequestError && error.transient)) throw error;
        lastError = errorMessage(error);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new DeployNotReadyError(last, { timeoutMs: options.timeoutMs, ...(lastError ? { lastError } : {}) });
      }
      if (watch?.healthy()) await watch.next(Math.min(WATCHED_REREAD_MS, remaining), options.signal);
      else await sleep(Math.min(pollMs, remaining), undefined, options.signal ? { signal: options.signal } : undefined);
    }
  } finally {
    watch?.stop();
  }
}
