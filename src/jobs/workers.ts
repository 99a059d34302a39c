import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { inTransaction, type Pool } from '../adapters/db/pool.js';
import type { JobKind } from './model.js';
import type { JobQueue } from './queue.js';
import { runJob, type JobHandler } from './runner.js';
import { appendEvent, finishJob, getJob, releaseJob, staleJobs } from './store.js';

export const MAX_ATTEMPTS = 3;

export interface Workers {
  workerId: string;
  stop(): void;
}

/**
 * Attach a handler to each job kind's queue, and sweep for jobs whose worker died (killed,
 * crashed, lost its machine): those go back on the queue to be resumed by any replica — the
 * handlers are safe to run again — or, after MAX_ATTEMPTS, end as failed with the reason.
 */
export async function startWorkers(
  queue: JobQueue,
  pool: Pool,
  handlers: Partial<Record<JobKind, JobHandler>>,
  options: { concurrency: number; leaseSeconds: number },
  log: Logger,
): Promise<Workers> {
  const workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  for (const [kind, handler] of Object.entries(handlers) as Array<[JobKind, JobHandler]>) {
    await queue.work(kind, options.concurrency, (jobId) => runJob(pool, jobId, handler, log, { workerId, leaseSeconds: options.leaseSeconds }));
  }
  const sweep = () =>
    sweepStaleJobs(pool, queue, handlers, options.leaseSeconds, log).catch((error: unknown) => log.warn({ err: error }, 'sweeping stale jobs failed'));
  void sweep();
  const timer = setInterval(sweep, Math.max(1000, options.leaseSeconds * 500));
  return { workerId, stop: () => clearInterval(timer) };
}

export async function sweepStaleJobs(
  pool: Pool,
  queue: JobQueue,
  handlers: Partial<Record<JobKind, JobHandler>>,
  leaseSeconds: number,
  log: Logger,
): Promise<number> {
  const exhausted = await inTransaction(pool, async (tx) => {
    const stale = await staleJobs(tx, leaseSeconds);
    const givenUp = [];
    for (const job of stale) {
      if (job.attempts >= MAX_ATTEMPTS) {
        const error = { code: 'worker_lost', message: `The worker running this job stopped ${job.attempts} times; giving up` };
        await finishJob(tx, job.id, { status: 'failed', error });
        await appendEvent(tx, job.id, 'job.finished', `failed: ${error.message}`, { status: 'failed', error });
        givenUp.push(job.id);
      } else {
        await releaseJob(tx, job.id);
        await appendEvent(tx, job.id, 'job.resumed', `The worker running this job stopped; it is queued again (attempt ${job.attempts + 1} of ${MAX_ATTEMPTS})`);
        await queue.enqueue(tx, job.kind, job.id, { redelivery: true });
        log.warn({ jobId: job.id, kind: job.kind }, 'resuming a job whose worker stopped');
      }
    }
    return givenUp;
  });
  for (const kind of Object.keys(handlers) as JobKind[]) queue.wake(kind);
  for (const id of exhausted) {
    const job = await getJob(pool, id);
    if (job) await handlers[job.kind]?.finished?.(job, 'failed', { error: job.error });
  }
  return exhausted.length;
}
