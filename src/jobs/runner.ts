import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Pool } from '../adapters/db/pool.js';
import { AppError, errorMessage } from '../errors.js';
import type { JobError, JobRecord, JobStatus } from './model.js';
import { appendEvent, claimJob, finishJob, heartbeat, isCancelRequested, setStep } from './store.js';

/** Thrown at a step boundary (or by a step that watches `ctx.signal`) when cancellation was requested. */
export class JobCancelledError extends AppError {
  constructor() {
    super('job_cancelled', 409, 'The job was cancelled');
  }
}

export interface JobContext {
  job: JobRecord;
  log: Logger;
  /** Aborted when the job's cancellation is requested; long steps pass it on. */
  signal: AbortSignal;
  /** Run one named step: records running → succeeded/failed with timestamps and an event each. */
  step<T>(name: string, fn: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T>;
  /** Mark a known step as skipped (it does not apply to this job). */
  skip(name: string, why: string): Promise<void>;
  event(type: string, message: string, data?: unknown): Promise<void>;
  /** Throws JobCancelledError when cancellation was requested. Called between steps. */
  checkCancelled(): void;
}

export interface JobOutcome {
  status: Extract<JobStatus, 'succeeded' | 'partially_failed' | 'failed'>;
  result?: unknown;
  error?: JobError;
}

export interface JobHandler {
  run(ctx: JobContext): Promise<JobOutcome>;
  /** Called once the job reached a final status, to update the job's subject (a deployment…). */
  finished?(job: JobRecord, status: JobStatus, outcome: { result?: unknown; error?: JobError | null }): Promise<void>;
}

export interface RunnerOptions {
  workerId: string;
  leaseSeconds: number;
}

/** A typed error becomes the job's error; anything else is reported without internals. */
export function toJobError(error: unknown): JobError {
  if (error instanceof AppError) {
    const details = Object.keys(error.extra).length > 0 ? error.extra : undefined;
    return details === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, details };
  }
  return { code: 'internal_error', message: 'The job failed unexpectedly; see the service log for details' };
}

export async function runJob(pool: Pool, jobId: string, handler: JobHandler, baseLog: Logger, options: RunnerOptions): Promise<void> {
  const job = await claimJob(pool, jobId, options.workerId, options.leaseSeconds);
  if (!job) return; // finished, cancelled, or held by a live worker: a duplicate delivery
  const log = baseLog.child({ jobId, kind: job.kind });
  const cancel = new AbortController();
  // Every waiting host of a bare-metal batch listens on this signal; that is not a leak.
  setMaxListeners(0, cancel.signal);
  // Renew the lease a few times per lease period; look for a cancellation every second, so a
  // cancel stops a long wait promptly.
  const beatEvery = Math.max(1, Math.floor(options.leaseSeconds / 3));
  let ticks = 0;
  const beat = setInterval(() => {
    ticks += 1;
    const check = ticks % beatEvery === 0 ? heartbeat(pool, jobId, options.workerId) : isCancelRequested(pool, jobId).then((cancelRequested) => ({ cancelRequested }));
    check
      .then((state) => {
        if (state.cancelRequested && !cancel.signal.aborted) cancel.abort(new JobCancelledError());
      })
      .catch((error: unknown) => log.warn({ err: error }, 'heartbeat failed'));
  }, 1000);

  const ctx: JobContext = {
    job,
    log,
    signal: cancel.signal,
    async step(name, fn, detail) {
      ctx.checkCancelled();
      await setStep(pool, jobId, name, 'running', null, { type: 'step.started', message: name, data: { step: name } });
      try {
        const result = await fn();
        const text = detail?.(result) ?? null;
        await setStep(pool, jobId, name, 'succeeded', text, {
          type: 'step.finished',
          message: text ? `${name}: ${text}` : name,
          data: { step: name, status: 'succeeded', detail: text },
        });
        return result;
      } catch (error: unknown) {
        const cancelled = error instanceof JobCancelledError || cancel.signal.aborted;
        const status = cancelled ? 'cancelled' : 'failed';
        const jobError = cancelled ? toJobError(new JobCancelledError()) : toJobError(error);
        await setStep(pool, jobId, name, status, jobError.message, {
          type: 'step.finished',
          message: `${name} ${status}: ${jobError.message}`,
          data: { step: name, status, detail: jobError.message },
        });
        throw cancelled ? new JobCancelledError() : error;
      }
    },
    async skip(name, why) {
      await setStep(pool, jobId, name, 'skipped', why);
    },
    event: (type, message, data) => appendEvent(pool, jobId, type, message, data),
    checkCancelled() {
      if (cancel.signal.aborted) throw new JobCancelledError();
    },
  };

  let status: JobStatus;
  let outcome: { result?: unknown; error?: JobError | null };
  try {
    // The claim itself renewed the lease and found no cancellation; the beat above takes it from here.
    await appendEvent(pool, jobId, 'job.started', `${job.kind} started${job.attempts > 1 ? ` (attempt ${job.attempts})` : ''}`, { attempt: job.attempts });
    const result = await handler.run(ctx);
    status = result.status;
    outcome = { result: result.result, error: result.error ?? null };
  } catch (error: unknown) {
    status = error instanceof JobCancelledError ? 'cancelled' : 'failed';
    outcome = { error: toJobError(error) };
    if (!(error instanceof AppError)) log.error({ err: error }, 'job failed unexpectedly');
    else log.info({ code: error.code }, `job ${status}: ${errorMessage(error)}`);
  } finally {
    clearInterval(beat);
  }
  await finishJob(pool, jobId, { status, result: outcome.result, error: outcome.error ?? null });
  await handler.finished?.(job, status, outcome);
  await appendEvent(pool, jobId, 'job.finished', outcome.error ? `${status}: ${outcome.error.message}` : status, {
    status,
    error: outcome.error ?? undefined,
  });
}
