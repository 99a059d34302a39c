/**
 * Where the engine gets a provisioning slot. `Slots` is the in-process one (the cap inside one
 * batch); `DatabaseSlots` (services/provisioning/database-slots.ts) holds slots in PostgreSQL so
 * the cap holds across jobs and replicas for one Ironic.
 */
export interface SlotPool {
  /** Takes a slot if one is free right now. */
  tryAcquire(): boolean | Promise<boolean>;
  /** Waits for a slot; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** Gives a slot back (to the next waiter). */
  release(): void;
}

/** A counting semaphore with a FIFO queue: at most `capacity` holders; the rest wait in order. */
export class Slots implements SlotPool {
  private available: number;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer (got ${capacity})`);
    this.available = capacity;
  }

  /** Takes a slot if one is free right now. */
  tryAcquire(): boolean {
    if (this.available === 0) return false;
    this.available -= 1;
    return true;
  }

  /** Waits for a slot; rejects with the signal's reason if it aborts first (the place is given up). */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const entry = {
        grant: (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.waiting.indexOf(entry);
        if (index !== -1) this.waiting.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** Hands the slot to the next waiter, or frees it. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.available += 1;
  }
}
