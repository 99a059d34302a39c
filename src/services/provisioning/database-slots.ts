import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '../../adapters/db/pool.js';
import type { SlotPool } from './slots.js';

/**
 * Provisioning slots held in PostgreSQL (table `ironic_slots`), so the cap per Ironic holds
 * across jobs and replicas, as Metal3's 20-hosts-at-once limit does across its hosts. Each slot
 * is a leased row; held ones are renewed every third of the lease while any is held; `close()`
 * gives back the rest. A waiter looks again every `pollMs`.
 */
export class DatabaseSlots implements SlotPool {
  private readonly held: string[] = [];
  private renewal: NodeJS.Timeout | undefined;
  private ensured: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly name: string,
    private readonly capacity: number,
    private readonly options: { leaseMs?: number; pollMs?: number; onError?: (error: unknown) => void } = {},
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? 60_000;
  }

  private ensureRows(): Promise<void> {
    this.ensured ??= this.pool
      .query(
        `INSERT INTO ironic_slots (pool, slot) SELECT $1, s FROM generate_series(0, $2 - 1) AS s ON CONFLICT DO NOTHING`,
        [this.name, this.capacity],
      )
      .then(() => undefined);
    return this.ensured;
  }

  async tryAcquire(): Promise<boolean> {
    await this.ensureRows();
    const holder = randomUUID();
    const { rows } = await this.pool.query<{ slot: number }>(
      `UPDATE ironic_slots SET holder = $3, lease_until = now() + make_interval(secs => $4)
        WHERE (pool, slot) = (SELECT pool, slot FROM ironic_slots
                               WHERE pool = $1 AND slot < $2 AND (holder IS NULL OR lease_until < now())
                               ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING slot`,
      [this.name, this.capacity, holder, this.leaseMs / 1000],
    );
    if (rows.length === 0) return false;
    this.held.push(holder);
    if (!this.renewal) {
      this.renewal = setInterval(() => void this.renew(), Math.max(1000, this.leaseMs / 3));
      this.renewal.unref();
    }
    return true;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (await this.tryAcquire()) return;
      await sleep(this.options.pollMs ?? 1000, undefined, signal ? { signal } : {});
    }
  }

  release(): void {
    const holder = this.held.pop();
    if (holder === undefined) return;
    if (this.held.length === 0) this.stopRenewing();
    this.pool.query(`UPDATE ironic_slots SET holder = NULL, lease_until = NULL WHERE holder = $1`, [holder]).catch((error: unknown) => this.options.onError?.(error));
  }

  /** Give back every slot still held and stop renewing. */
  async close(): Promise<void> {
    this.stopRenewing();
    const holders = this.held.splice(0);
    if (holders.length > 0) await this.pool.query(`UPDATE ironic_slots SET holder = NULL, lease_until = NULL WHERE holder = ANY($1)`, [holders]);
  }

  private stopRenewing(): void {
    clearInterval(this.renewal);
    this.renewal = undefined;
  }

  private async renew(): Promise<void> {
    if (this.held.length === 0) return;
    try {
      await this.pool.query(`UPDATE ironic_slots SET lease_until = now() + make_interval(secs => $2) WHERE holder = ANY($1)`, [this.held, this.leaseMs / 1000]);
    } catch (error: unknown) {
      this.options.onError?.(error);
    }
  }
}
