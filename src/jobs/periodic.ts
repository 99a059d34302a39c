/**
 * A task run every `intervalMs` on one replica at a time: each tick takes a session-level
 * advisory lock (`pg_try_advisory_lock`) and skips when another replica holds it, or when the
 * previous tick is still running here. A failed tick is logged and the next one tries again.
 * Stops with the returned function.
 */
import type { Logger } from 'pino';
import type { Pool } from '../adapters/db/pool.js';

export interface PeriodicTask {
  /** What the logs call it. */
  name: string;
  /** Advisory lock key, one per task. */
  lockKey: number;
  intervalMs: number;
  run: () => Promise<void>;
}

export function startPeriodic(pool: Pool, log: Logger, task: PeriodicTask): () => void {
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [task.lockKey]);
        if (!rows[0]?.locked) return;
        try {
          await task.run();
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [task.lockKey]);
        }
      } finally {
        client.release();
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick().catch((error: unknown) => log.warn({ err: error }, `${task.name} failed`)), task.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
