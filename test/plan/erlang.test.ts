import { describe, expect, it } from 'vitest';
import { ThrottlescopeError } from '../../src/common/errors.js';
import { erlangB, minServersFor, offeredLoad } from '../../src/plan/erlang.js';

describe('erlangB', () => {
  it('matches published table values', () => {
    expect(erlangB(1, 1)).toBeCloseTo(0.5, 12);
    expect(erlangB(10, 10)).toBeCloseTo(0.2146, 4);
    expect(erlangB(100, 100)).toBeCloseTo(0.0757, 4);
    expect(erlangB(2, 5)).toBeCloseTo(0.0367, 4);
    expect(erlangB(5, 10)).toBeCloseTo(0.01838, 5);
  });

  it('reduces to A/(1+A) with one server', () => {
    for (const load of [0.01, 0.5, 3, 250]) expect(erlangB(load, 1)).toBeCloseTo(load / (1 + load), 12);
  });

  it('handles the edges: no servers blocks everything, no load blocks nothing', () => {
    expect(erlangB(7, 0)).toBe(1);
    expect(erlangB(0, 5)).toBe(0);
  });

  it('stays finite and in (0, 1) for very large inputs', () => {
    const b = erlangB(1e5, 1e5);
    expect(Number.isFinite(b)).toBe(true);
    expect(b).toBeGreaterThan(0);
    expect(b).toBeLessThan(1);
    // Heavy-traffic approximation for A = c: B ~ sqrt(2 / (pi * c)).
    expect(b).toBeCloseTo(Math.sqrt(2 / (Math.PI * 1e5)), 4);
    expect(erlangB(1e5, 1)).toBeCloseTo(1e5 / (1 + 1e5), 12);
    expect(erlangB(1, 1e5)).toBe(0);
  });

  it('decreases as servers are added', () => {
    let previous = 1;
    for (let c = 1; c <= 60; c++) {
      const b = erlangB(30, c);
      expect(b).toBeLessThan(previous);
      previous = b;
    }
  });

  it('rejects invalid inputs with TS_PLAN_INVALID', () => {
    for (const [load, servers] of [
      [-1, 1],
      [Number.NaN, 1],
      [Number.POSITIVE_INFINITY, 1],
      [1, -1],
      [1, 1.5],
      [1, Number.NaN],
    ] as const) {
      expect(() => erlangB(load, servers)).toThrow(ThrottlescopeError);
      try {
        erlangB(load, servers);
      } catch (error) {
        expect((error as ThrottlescopeError).code).toBe('TS_PLAN_INVALID');
        expect((error as ThrottlescopeError).exitCode).toBe(2);
      }
    }
  });
});

describe('minServersFor', () => {
  it('returns the smallest server count that meets the target', () => {
    for (const load of [0.1, 1, 7.5, 42, 300, 5000]) {
      for (const target of [0.1, 0.01, 0.001]) {
        const { servers, blocking } = minServersFor(load, target);
        expect(blocking).toBeLessThanOrEqual(target);
        expect(blocking).toBeCloseTo(erlangB(load, servers), 12);
        expect(erlangB(load, servers - 1)).toBeGreaterThan(target);
      }
    }
  });

  it('handles large loads', () => {
    const { servers, blocking } = minServersFor(1e5, 0.001);
    expect(servers).toBeGreaterThan(1e5);
    expect(blocking).toBeLessThanOrEqual(0.001);
    expect(erlangB(1e5, servers - 1)).toBeGreaterThan(0.001);
  });

  it('needs no servers for no load', () => {
    expect(minServersFor(0, 0.01).servers).toBe(0);
  });

  it('rejects targets outside (0, 1]', () => {
    expect(() => minServersFor(1, 0)).toThrow(/target blocking/);
    expect(() => minServersFor(1, 1.5)).toThrow(/target blocking/);
    expect(() => minServersFor(-1, 0.1)).toThrow(/offered load/);
  });
});

describe('offeredLoad', () => {
  it("applies Little's law in erlangs", () => {
    expect(offeredLoad(100, 250)).toBeCloseTo(25, 12);
    expect(offeredLoad(0, 250)).toBe(0);
    expect(() => offeredLoad(-1, 10)).toThrow(ThrottlescopeError);
    expect(() => offeredLoad(1, Number.NaN)).toThrow(ThrottlescopeError);
  });
});
