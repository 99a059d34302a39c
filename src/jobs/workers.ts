import type { Logger } from 'pino';
import type { Pool } from '../adapters/db/pool.js';
import type { JobKind } from './model.js';
import type { JobQueue } from './queue.js';
import { runJob, type JobHandler } from './runner.js';

/** Attach a handler to each job kind's queue. */
export async function startWorkers(
  queue: JobQueue,
  pool: Pool,
  handlers: Record<JobKind, JobHandler>,
  concurrency: number,
  log: Logger,
): Promise<void> {
  for (const [kind, handler] of Object.entries(handlers) as Array<[JobKind, JobHandler]>) {
    await queue.work(kind, concurrency, (jobId) => runJob(pool, jobId, handler, log));
  }
}
