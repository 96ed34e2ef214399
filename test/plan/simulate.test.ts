import { describe, expect, it } from 'vitest';
import { ThrottlescopeError } from '../../src/common/errors.js';
import { Random } from '../../src/common/random.js';
import { erlangB } from '../../src/plan/erlang.js';
import { type DurationModel, type SimulationInput, simulate } from '../../src/plan/simulate.js';

function singleFunction(load: number, servers: number, duration: DurationModel, seed = 42): SimulationInput {
  const meanMs = 100;
  const ratePerSecond = (load * 1000) / meanMs;
  // Long enough for about 200,000 arrivals whatever the load.
  const durationMs = (200_000 / ratePerSecond) * 1000;
  return {
    accountLimit: servers,
    unreservedMinimum: 0,
    durationMs,
    warmupMs: 2_000,
    seed,
    functions: [{ name: 'api', arrivals: { kind: 'poisson', ratePerSecond }, duration }],
  };
}

describe('simulate', () => {
  // Wilson assumes independent trials; throttles cluster in time, so allow several half-widths.
  const CI_WIDENING = 4;
  const grid: [number, number][] = [
    [5, 5],
    [10, 8],
    [20, 25],
    [3, 6],
  ];
  const durations: DurationModel[] = [
    { kind: 'exponential', meanMs: 100 },
    { kind: 'deterministic', ms: 100 },
  ];
  for (const duration of durations) {
    for (const [load, servers] of grid) {
      it(`agrees with Erlang B for A=${load}, c=${servers}, ${duration.kind} durations`, () => {
        const result = simulate(singleFunction(load, servers, duration));
        const f = result.functions[0]!;
        const expected = erlangB(load, servers);
        const halfWidth = (f.ci95[1] - f.ci95[0]) / 2;
        expect(f.offered).toBeGreaterThan(190_000);
        expect(Math.abs(f.throttleFraction - expected)).toBeLessThanOrEqual(CI_WIDENING * halfWidth);
        expect(f.byCause.account).toBe(f.throttled);
        expect(f.peakConcurrency).toBe(servers);
      });
    }
  }

  it('agrees with Erlang B for lognormal durations too (insensitivity to the distribution)', () => {
    const sigma = 1;
    const median = 100 / Math.exp((sigma * sigma) / 2);
    const f = simulate(singleFunction(8, 10, { kind: 'lognormal', medianMs: median, sigma })).functions[0]!;
    const halfWidth = (f.ci95[1] - f.ci95[0]) / 2;
    expect(Math.abs(f.throttleFraction - erlangB(8, 10))).toBeLessThanOrEqual(CI_WIDENING * halfWidth);
  });

  it('keeps a reserved function unaffected by a saturating unreserved neighbour', () => {
    const api = {
      name: 'api',
      reserved: 12,
      arrivals: { kind: 'poisson', ratePerSecond: 80 },
      duration: { kind: 'exponential', meanMs: 100 },
    } as const;
    const hog = {
      name: 'hog',
      arrivals: { kind: 'poisson', ratePerSecond: 5_000 },
      duration: { kind: 'exponential', meanMs: 200 },
    } as const;
    const base = { accountLimit: 100, unreservedMinimum: 10, durationMs: 200_000, warmupMs: 1_000, seed: 7 };
    const alone = simulate({ ...base, functions: [api] });
    const crowded = simulate({ ...base, functions: [api, hog] });
    const hogResult = crowded.functions[1]!;
    // The hog offers 1000 erlangs to an 88-wide shared pool: nearly everything is throttled.
    expect(hogResult.throttleFraction).toBeGreaterThan(0.85);
    expect(hogResult.byCause.account).toBe(hogResult.throttled);
    expect(hogResult.peakConcurrency).toBe(88);
    // Per-function random streams: the api sees exactly the same arrivals and outcomes.
    expect(crowded.functions[0]).toEqual(alone.functions[0]);
    expect(alone.functions[0]!.byCause.account).toBe(0);
    expect(alone.functions[0]!.throttled).toBe(alone.functions[0]!.byCause.reserved);
  });

  it('lets an unreserved neighbour starve an unreserved api', () => {
    const result = simulate({
      accountLimit: 100,
      unreservedMinimum: 10,
      durationMs: 100_000,
      seed: 3,
      functions: [
        {
          name: 'api',
          arrivals: { kind: 'poisson', ratePerSecond: 80 },
          duration: { kind: 'exponential', meanMs: 100 },
        },
        {
          name: 'hog',
          arrivals: { kind: 'poisson', ratePerSecond: 5_000 },
          duration: { kind: 'exponential', meanMs: 200 },
        },
      ],
    });
    expect(result.functions[0]!.throttleFraction).toBeGreaterThan(0.5);
    expect(result.functions[0]!.byCause.account).toBe(result.functions[0]!.throttled);
  });

  it('attributes scaling-rate throttles to scaling', () => {
    const result = simulate({
      accountLimit: 1000,
      unreservedMinimum: 100,
      scaling: { increment: 10, intervalMs: 10_000 },
      durationMs: 5_000,
      seed: 1,
      functions: [
        {
          name: 'burst',
          arrivals: { kind: 'poisson', ratePerSecond: 1000 },
          duration: { kind: 'deterministic', ms: 1000 },
        },
      ],
    });
    const f = result.functions[0]!;
    expect(f.byCause.scaling).toBeGreaterThan(0);
    expect(f.byCause.scaling).toBe(f.throttled);
    expect(f.peakConcurrency).toBe(10);
  });

  it('follows a per-minute schedule', () => {
    const result = simulate({
      accountLimit: 1000,
      unreservedMinimum: 100,
      durationMs: 4 * 60_000,
      seed: 11,
      functions: [
        {
          name: 'cron',
          arrivals: { kind: 'schedule', perMinute: [6000, 0] },
          duration: { kind: 'deterministic', ms: 1 },
        },
      ],
    });
    // Two cycles of 6000 then 0: about 12000 arrivals (sd ~110).
    expect(Math.abs(result.functions[0]!.offered - 12_000)).toBeLessThan(600);
  });

  it('is reproducible: the same seed gives identical output, another seed differs', () => {
    const input = singleFunction(10, 8, { kind: 'lognormal', medianMs: 80, sigma: 0.6 }, 1234);
    const first = simulate(input);
    const second = simulate(structuredClone(input));
    expect(second).toEqual(first);
    expect(simulate({ ...input, seed: 1235 })).not.toEqual(first);
    expect(first.events).toBeGreaterThan(0);
  });

  it('rejects invalid input with TS_PLAN_INVALID', () => {
    const good = singleFunction(1, 1, { kind: 'exponential', meanMs: 100 });
    const bad: SimulationInput[] = [
      { ...good, durationMs: 0 },
      { ...good, seed: 1.5 },
      { ...good, functions: [] },
      { ...good, warmupMs: good.durationMs },
      { ...good, functions: [{ ...good.functions[0]!, arrivals: { kind: 'poisson', ratePerSecond: -1 } }] },
      { ...good, functions: [{ ...good.functions[0]!, arrivals: { kind: 'schedule', perMinute: [] } }] },
      { ...good, functions: [{ ...good.functions[0]!, duration: { kind: 'exponential', meanMs: 0 } }] },
    ];
    for (const input of bad) {
      expect(() => simulate(input)).toThrow(ThrottlescopeError);
      try {
        simulate(input);
      } catch (error) {
        expect((error as ThrottlescopeError).code).toBe('TS_PLAN_INVALID');
      }
    }
  });
});

describe('Random', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = new Random(5);
    const b = new Random(5);
    const draws = Array.from({ length: 100_000 }, () => a.nextOpenUnit());
    expect(Array.from({ length: 100_000 }, () => b.nextOpenUnit())).toEqual(draws);
    expect(Math.min(...draws)).toBeGreaterThan(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const sum = draws.reduce((total, u) => total + u, 0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('draws exponentials with the requested mean', () => {
    const random = new Random(9);
    let sum = 0;
    for (let k = 0; k < 200_000; k++) sum += random.exponential(3);
    expect(sum / 200_000).toBeCloseTo(3, 1);
  });
});
