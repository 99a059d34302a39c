import { describe, expect, it } from 'vitest';
import { pacer } from '../../src/adapters/kubernetes/apply.js';
import { mapBounded } from '../../src/adapters/map-bounded.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('pacer: a wave goes on the wire a few requests per turn of the event loop', () => {
  it('lets the first batch start at once and each next batch one turn later', async () => {
    const paced = pacer(3);
    const started: number[] = [];
    const calls = Array.from({ length: 8 }, (_, i) => paced().then(() => started.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    await nextTurn();
    await nextTurn();
    expect(started.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    await Promise.all(calls);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('mapBounded', () => {
  it('keeps the input order, bounds what runs at once, and throws the first failure', async () => {
    let running = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running -= 1;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
    const seen: number[] = [];
    await expect(
      mapBounded([1, 2, 3, 4], 1, async (n) => {
        seen.push(n);
        if (n === 2) throw new Error('two failed');
        return n;
      }),
    ).rejects.toThrow('two failed');
    expect(seen).toEqual([1, 2]);
  });
});
