/**
 * Drives one provisioner step to its end: call, wait `retryAfterMs` ± 10 % jitter (as
 * Metal3 requeues), call again, until the step is done, fails, runs out of time or is cancelled.
 * Thrown errors (Ironic unreachable) are retried with backoff a bounded number of times in a row.
 */
import type { Progress, StepOptions } from '../../domain/baremetal/provisioner.js';
import type { HostError, HostErrorType } from '../../domain/baremetal/states.js';
import { errorMessage } from '../../errors.js';

export interface Clock {
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  random: () => number;
}

export interface PollLimits {
  deadline: number;
  signal?: AbortSignal;
  /** Thrown errors tolerated in a row before the step fails. */
  maxConsecutiveFailures: number;
  /** The error type when the step fails by throwing. */
  errorType: HostErrorType;
}

export type PollOutcome =
  | { kind: 'done'; progress: Progress }
  | { kind: 'failed'; error: HostError }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

const FAILURE_BACKOFF_BASE_MS = 1_000;
const FAILURE_BACKOFF_MAX_MS = 30_000;

/**
 * Calls `step` until it is done. `restartOnFailure` is true on the first call only: entering a
 * step is a deliberate (re)try, polling it is not. `onProgress` sees every answer.
 */
export async function pollStep(
  step: (options: StepOptions) => Promise<Progress>,
  limits: PollLimits,
  clock: Clock,
  onProgress: (progress: Progress) => Promise<void>,
): Promise<PollOutcome> {
  let first = true;
  let failures = 0;
  for (;;) {
    if (limits.signal?.aborted) return { kind: 'cancelled' };
    if (clock.now() >= limits.deadline) return { kind: 'timeout' };
    let waitMs: number;
    try {
      const progress = await step({ restartOnFailure: first });
      first = false;
      failures = 0;
      await onProgress(progress);
      if (progress.error) return { kind: 'failed', error: progress.error };
      if (progress.done) return { kind: 'done', progress };
      waitMs = withJitter(progress.retryAfterMs, clock.random);
    } catch (error: unknown) {
      if (limits.signal?.aborted) return { kind: 'cancelled' };
      failures += 1;
      if (failures >= limits.maxConsecutiveFailures) {
        return { kind: 'failed', error: { type: limits.errorType, message: `${errorMessage(error)} (${failures} attempts in a row)` } };
      }
      waitMs = withJitter(Math.min(FAILURE_BACKOFF_MAX_MS, FAILURE_BACKOFF_BASE_MS * 2 ** (failures - 1)), clock.random);
    }
    const remaining = limits.deadline - clock.now();
    if (remaining <= 0) return { kind: 'timeout' };
    const slept = await sleepUnlessAborted(Math.min(waitMs, remaining), limits.signal, clock);
    if (!slept) return { kind: 'cancelled' };
  }
}

/**
 * `ms` give or take 10 %, so hosts started together do not poll Ironic in lock step. Centred on
 * `ms` (a poll interval, never a server's minimum): a jitter that only adds would make every
 * host notice each transition 12 % later on average, which the Ironic benchmark showed.
 */
export function withJitter(ms: number, random: () => number): number {
  return Math.round(ms * (0.9 + 0.2 * random()));
}

/** False when the signal aborted (before or during the sleep). */
export async function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined, clock: Clock): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await clock.sleep(ms, signal);
  } catch (error: unknown) {
    if (signal?.aborted) return false;
    throw error;
  }
  return !signal?.aborted;
}
