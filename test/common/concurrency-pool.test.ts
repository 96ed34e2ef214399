import { describe, expect, it } from 'vitest';
import { ConcurrencyPool, PoolConfigError } from '../../src/common/concurrency/pool.js';

const config = { accountLimit: 10, unreservedMinimum: 2 };

describe('ConcurrencyPool', () => {
  it('throttles unreserved functions once the shared pool is full, whoever holds it', () => {
    const pool = new ConcurrencyPool(config, [{ name: 'hog' }, { name: 'api' }]);
    const hog = pool.indexOf('hog');
    const api = pool.indexOf('api');
    for (let k = 0; k < 10; k++) expect(pool.tryAcquire(hog, 0).ok).toBe(true);
    expect(pool.tryAcquire(api, 0)).toEqual({ ok: false, cause: 'account' });
    pool.release(hog);
    expect(pool.tryAcquire(api, 0).ok).toBe(true);
    expect(pool.snapshot().concurrentExecutions).toBe(10);
  });

  it('guarantees reserved capacity while a neighbour saturates the rest, and caps the reserved function', () => {
    const pool = new ConcurrencyPool(config, [{ name: 'hog' }, { name: 'api', reserved: 3 }]);
    const hog = pool.indexOf('hog');
    const api = pool.indexOf('api');
    let hogGot = 0;
    for (let k = 0; k < 20; k++) if (pool.tryAcquire(hog, 0).ok) hogGot++;
    expect(hogGot).toBe(7);
    for (let k = 0; k < 3; k++) expect(pool.tryAcquire(api, 0).ok).toBe(true);
    expect(pool.tryAcquire(api, 0)).toEqual({ ok: false, cause: 'reserved' });
    const s = pool.snapshot();
    expect(s.unreservedConcurrentExecutions).toBe(7);
    expect(s.claimedAccountConcurrency).toBe(10);
    expect(s.unreservedPoolSize).toBe(7);
  });

  it('throttles every call of a function with reserved concurrency 0', () => {
    const pool = new ConcurrencyPool(config, [{ name: 'off', reserved: 0 }]);
    expect(pool.tryAcquire(0, 0)).toEqual({ ok: false, cause: 'reserved' });
  });

  it('refuses reservations that leave less than the unreserved minimum, as AWS does', () => {
    const pool = new ConcurrencyPool(config, [{ name: 'a', reserved: 5 }, { name: 'b' }]);
    expect(pool.maxReservable('b')).toBe(3);
    expect(() => pool.setReserved('b', 4)).toThrow(PoolConfigError);
    expect(() => pool.setReserved('b', 4)).toThrow(/below its minimum value of \[2\]/);
    pool.setReserved('b', 3);
    expect(pool.reservedOf('b')).toBe(3);
  });

  it('moves in-flight executions between the shared pool and the reservation when the reservation changes', () => {
    const pool = new ConcurrencyPool(config, [{ name: 'hog' }, { name: 'api' }]);
    for (let k = 0; k < 6; k++) pool.tryAcquire(0, 0);
    pool.setReserved('hog', 4);
    // Running executions finish; new ones see the cap at once.
    expect(pool.snapshot().unreservedConcurrentExecutions).toBe(0);
    expect(pool.tryAcquire(0, 0)).toEqual({ ok: false, cause: 'reserved' });
    for (let k = 0; k < 6; k++) expect(pool.tryAcquire(1, 0).ok).toBe(true);
    for (let k = 0; k < 6; k++) pool.release(0);
    expect(pool.tryAcquire(0, 0).ok).toBe(true);
    pool.setReserved('hog', undefined);
    expect(pool.snapshot().unreservedConcurrentExecutions).toBe(7);
  });

  it('limits how fast one function scales up per interval', () => {
    const pool = new ConcurrencyPool(
      { accountLimit: 100, unreservedMinimum: 10, scaling: { increment: 5, intervalMs: 1000 } },
      [{ name: 'burst' }],
    );
    let got = 0;
    for (let k = 0; k < 20; k++) if (pool.tryAcquire(0, 0).ok) got++;
    expect(got).toBe(5);
    expect(pool.tryAcquire(0, 500)).toEqual({ ok: false, cause: 'scaling' });
    for (let k = 0; k < 20; k++) if (pool.tryAcquire(0, 1000).ok) got++;
    expect(got).toBe(10);
  });

  it('refuses to release what was never acquired', () => {
    const pool = new ConcurrencyPool(config, [{ name: 'a' }]);
    expect(() => pool.release(0)).toThrow(/nothing in flight/);
  });
});
