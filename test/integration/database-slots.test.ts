import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/adapters/db/pool.js';
import { DatabaseSlots } from '../../src/services/provisioning/database-slots.js';
import { createTestDatabase } from '../support/db.js';

/** The provisioning cap per Ironic holds across jobs (here: two slot pools, as two jobs would have). */
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe('provisioning slots in the database', () => {
  it('never lets two jobs hold more than the cap together, and hands a released slot on', async () => {
    const first = new DatabaseSlots(pool, 'http://ironic-a', 2, { pollMs: 20 });
    const second = new DatabaseSlots(pool, 'http://ironic-a', 2, { pollMs: 20 });
    const other = new DatabaseSlots(pool, 'http://ironic-b', 2, { pollMs: 20 });
    expect(await first.tryAcquire()).toBe(true);
    expect(await second.tryAcquire()).toBe(true);
    expect(await first.tryAcquire()).toBe(false);
    expect(await other.tryAcquire()).toBe(true);
    const waiting = second.acquire();
    first.release();
    await waiting;
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM ironic_slots WHERE pool = 'http://ironic-a' AND holder IS NOT NULL");
    expect(rows[0]?.n).toBe(2);
    await Promise.all([first.close(), second.close(), other.close()]);
  });

  it('frees a crashed holder\'s slot when its lease runs out', async () => {
    const crashed = new DatabaseSlots(pool, 'http://ironic-c', 1, { leaseMs: 300 });
    expect(await crashed.tryAcquire()).toBe(true);
    // The holder stops renewing without releasing, as a killed worker would.
    (crashed as unknown as { stopRenewing(): void }).stopRenewing();
    const next = new DatabaseSlots(pool, 'http://ironic-c', 1, { pollMs: 50 });
    expect(await next.tryAcquire()).toBe(false);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    await next.acquire(controller.signal);
    clearTimeout(timer);
    await next.close();
  });

  it('gives up waiting when the job is cancelled', async () => {
    const holder = new DatabaseSlots(pool, 'http://ironic-d', 1);
    expect(await holder.tryAcquire()).toBe(true);
    const waiter = new DatabaseSlots(pool, 'http://ironic-d', 1, { pollMs: 20 });
    const controller = new AbortController();
    const waiting = waiter.acquire(controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow();
    await holder.close();
  });
});
