import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../src/common/map-bounded.js';

/** A call whose end the test decides: resolves or rejects when told. */
function gate<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('mapBounded', () => {
  it('keeps at most `limit` calls in flight and returns results in item order', async () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded(items, 3, async (n, index) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Later items finish first: the order of results must not follow the order of finishing.
      await new Promise((r) => setTimeout(r, (20 - n) % 4));
      inFlight--;
      return `${n}@${index}`;
    });
    expect(most).toBe(3);
    expect(out).toEqual(items.map((n) => `${n}@${n}`));
  });

  it('starts nothing more after a failure, and rejects only once the calls in flight have settled', async () => {
    const gates = Array.from({ length: 6 }, () => gate<number>());
    const started: number[] = [];
    let settled = false;
    const run = mapBounded([0, 1, 2, 3, 4, 5], 2, (n) => {
      started.push(n);
      return gates[n]!.promise;
    }).finally(() => {
      settled = true;
    });
    await tick();
    expect(started).toEqual([0, 1]);
    gates[0]!.reject(new Error('boom'));
    await tick();
    expect(started).toEqual([0, 1]); // nothing new after the failure
    expect(settled).toBe(false); // item 1 still runs
    gates[1]!.resolve(1);
    await expect(run).rejects.toThrow('boom');
  });

  it('stops starting items when the signal aborts, and rejects with its reason once in-flight calls are done', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const run = mapBounded(
      [0, 1, 2, 3],
      1,
      async (n) => {
        started.push(n);
        if (n === 1) controller.abort(new Error('interrupted'));
        return n;
      },
      controller.signal,
    );
    await expect(run).rejects.toThrow('interrupted');
    expect(started).toEqual([0, 1]);
  });

  it('resolves when every item ran even if the signal aborts afterwards, and runs an empty list', async () => {
    const controller = new AbortController();
    const out = await mapBounded(
      [1, 2],
      5,
      async (n) => {
        if (n === 2) controller.abort();
        return n * 10;
      },
      controller.signal,
    );
    expect(out).toEqual([10, 20]);
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
  });

  it('makes progress one item at a time when the limit is not a positive number', async () => {
    for (const limit of [0, -2, Number.NaN]) {
      let inFlight = 0;
      let most = 0;
      const out = await mapBounded([1, 2, 3], limit, async (n) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await tick();
        inFlight--;
        return n;
      });
      expect(out).toEqual([1, 2, 3]);
      expect(most).toBe(1);
    }
  });
});
