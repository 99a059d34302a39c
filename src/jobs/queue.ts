import PgBoss from 'pg-boss';
import type { Queryable } from '../adapters/db/pool.js';
import type { JobKind } from './model.js';

/**
 * The job queue: pg-boss on the application's own database (schema `pgboss`). One pg-boss queue
 * per job kind; the message is only the job id, the job row holds everything else. Enqueueing
 * takes the caller's transaction, so a job row and its queue entry exist together or not at all.
 */
export interface JobQueue {
  /** Enqueue inside the caller's transaction. Not idempotent: call once per job row. */
  enqueue(db: Queryable, kind: JobKind, jobId: string, options?: { expireInSeconds?: number; redelivery?: boolean }): Promise<void>;
  /**
   * Internal tasks that are not user-visible jobs (deployment callbacks): a pg-boss message with
   * its own retries. Enqueued in the caller's transaction.
   */
  enqueueTask(db: Queryable, task: TaskName, data: Record<string, unknown>): Promise<void>;
  workTask(task: TaskName, handler: (data: Record<string, unknown>) => Promise<void>): Promise<void>;
  /** Start `concurrency` pollers for a kind; each handles one job at a time. */
  work(kind: JobKind, concurrency: number, handler: (jobId: string) => Promise<void>): Promise<void>;
  /**
   * Wake this process's pollers of a kind now instead of at their next poll. Call after the
   * transaction that enqueued has committed; other replicas pick jobs up at their next poll.
   */
  wake(kind: JobKind): void;
  /** Stop fetching, wait for running handlers up to `timeoutMs`, close connections. */
  stop(timeoutMs: number): Promise<void>;
}

export const TASKS = ['notify'] as const;
export type TaskName = (typeof TASKS)[number];

export async function startJobQueue(
  databaseUrl: string,
  kinds: readonly JobKind[],
  onError: (error: unknown) => void,
): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: 'pgboss',
    max: 4,
    // A handler that outlives this (a crashed worker) is retried by another replica; handlers
    // are written to be safe to run twice.
    retryLimit: 2,
    retryDelay: 2,
    retryBackoff: true,
  });
  boss.on('error', onError);
  await boss.start();
  for (const kind of kinds) {
    if (!(await boss.getQueue(kind))) await boss.createQueue(kind, { name: kind, policy: 'standard' });
  }
  for (const task of TASKS) {
    if (!(await boss.getQueue(task))) await boss.createQueue(task, { name: task, policy: 'standard', retryLimit: 8, retryDelay: 2, retryBackoff: true });
  }
  const workerIds = new Map<JobKind, string[]>();
  return {
    wake(kind) {
      for (const id of workerIds.get(kind) ?? []) boss.notifyWorker(id);
    },
    async enqueue(db, kind, jobId, options = {}) {
      await boss.send(kind, { jobId }, {
        // The first message carries the job's id; a redelivery after a dead worker gets its own.
        ...(options.redelivery ? {} : { id: jobId }),
        expireInSeconds: options.expireInSeconds ?? 3600,
        db: { executeSql: async (text: string, values: unknown[]) => db.query(text, values) },
      });
    },
    async enqueueTask(db, task, data) {
      await boss.send(task, data, {
        retryLimit: 8,
        retryDelay: 2,
        retryBackoff: true,
        db: { executeSql: async (text: string, values: unknown[]) => db.query(text, values) },
      });
    },
    async workTask(task, handler) {
      await boss.work<Record<string, unknown>>(task, { batchSize: 1, pollingIntervalSeconds: 1 }, async (jobs) => {
        for (const job of jobs) await handler(job.data);
      });
    },
    async work(kind, concurrency, handler) {
      for (let i = 0; i < concurrency; i += 1) {
        const id = await boss.work<{ jobId: string }>(kind, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          for (const job of jobs) await handler(job.data.jobId);
        });
        workerIds.set(kind, [...(workerIds.get(kind) ?? []), id]);
      }
    },
    async stop(timeoutMs) {
      await boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
    },
  };
}
