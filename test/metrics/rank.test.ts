import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RankInput, rankNoisyNeighbours } from '../../src/metrics/rank.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const s = (values: number[]) => ({ timestampsMs: values.map((_, i) => T0 + i * 60_000), values });
const zeros = (n: number) => s(new Array(n).fill(0));

function fn(name: string, reserved: number | null, conc: number[], thr: number[] = conc.map(() => 0)) {
  return { name, reserved, series: { concurrentExecutions: s(conc), throttles: s(thr) } };
}

/** Account series = sum over functions, as the pool would report it. */
function input(limit: number, functions: ReturnType<typeof fn>[], extra: Partial<RankInput> = {}): RankInput {
  const n = Math.max(0, ...functions.map((f) => f.series.concurrentExecutions.values.length));
  const total = Array.from({ length: n }, (_, i) =>
    functions.reduce((a, f) => a + (f.series.concurrentExecutions.values[i] ?? 0), 0),
  );
  return { account: { limit }, functions, accountSeries: { concurrentExecutions: s(total) }, ...extra };
}

describe('rankNoisyNeighbours', () => {
  it('names the unreserved function filling the shared pool, and its victims', () => {
    const r = rankNoisyNeighbours(
      input(100, [
        fn('reports-worker', null, [5, 85, 88, 86, 5]),
        fn('api', null, [10, 3, 2, 3, 10], [0, 40, 50, 45, 0]),
        fn('web', null, [4, 2, 0, 1, 4], [0, 5, 9, 0, 0]),
        fn('billing', 10, [2, 2, 2, 2, 2]),
      ]),
    );
    expect(r.culprit).toBe('reports-worker');
    expect(r.victims).toEqual(['api', 'web']);
    expect(r.throttledPeriodsMs).toEqual([T0 + 60_000, T0 + 120_000, T0 + 180_000]);
    expect(r.sharedPoolSize).toBe(90);
    expect(r.poolFullPeriods).toBe(3);
    expect(r.functions.map((f) => f.name)).toEqual(['reports-worker', 'api', 'billing', 'web']);
    const worker = r.functions[0]!;
    expect(worker).toMatchObject({
      unreserved: true,
      reserved: null,
      peakConcurrency: 88,
      peakWhileThrottled: 88,
    });
    expect(worker.share).toBeCloseTo((85 / 92 + 88 / 92 + 86 / 92) / 3, 10);
    expect(r.functions.find((f) => f.name === 'billing')).toMatchObject({
      unreserved: false,
      poolShare: null,
    });
    expect(r.functions.find((f) => f.name === 'api')).toMatchObject({ throttles: 135, throttledPeriods: 3 });
    expect(r.culpritShare).toBeCloseTo(worker.share, 10);
    expect(r.sentence).toMatch(
      /^reports-worker is the noisy neighbour: with no reserved concurrency it held 9\d% of the shared pool/,
    );
    expect(r.sentence).toMatch(/throttling api, web$/);
  });

  it('never blames a reserved function, however much it holds', () => {
    const r = rankNoisyNeighbours(
      input(100, [
        fn('batch', 60, [60, 60, 60]),
        fn('api', null, [30, 38, 38], [0, 20, 20]),
        fn('web', null, [2, 1, 1]),
      ]),
    );
    expect(r.functions[0]?.name).toBe('batch');
    expect(r.sharedPoolSize).toBe(40);
    // api holds the shared pool (38 of 40) and is itself the throttled one: it is the top unreserved user.
    expect(r.culprit).toBe('api');
    expect(r.victims).toEqual([]);
  });

  it('names no culprit when only reserved functions were throttled, at their own caps', () => {
    // api fills the 2-wide shared pool, but the only throttles are big's, at its reservation of 18:
    // a full shared pool cannot throttle a function with reserved concurrency.
    const capped = input(20, [fn('big', 18, [18, 18], [5, 5]), fn('api', null, [2, 2])]);
    const r = rankNoisyNeighbours(capped);
    expect(r.poolFullPeriods).toBe(2);
    expect(r.culprit).toBeNull();
    expect(r.victims).toEqual(['big']);
    expect(r.sentence).toMatch(/only functions with reserved concurrency were throttled then/);
    // The logs saw more throttled requests than big's Throttles: an unreserved function was starved.
    const more = rankNoisyNeighbours({ ...capped, loggedThrottles: s([5, 9]) });
    expect(more.culprit).toBe('api');
  });

  it('names no culprit when the pool had room (throttled at a reserved cap, or scaling)', () => {
    const r = rankNoisyNeighbours(
      input(1000, [fn('api', 10, [10, 10, 10], [0, 30, 30]), fn('worker', null, [50, 60, 70])]),
    );
    expect(r.throttledPeriodsMs).toHaveLength(2);
    expect(r.poolFullPeriods).toBe(0);
    expect(r.culprit).toBeNull();
    expect(r.victims).toEqual(['api']);
    expect(r.sentence).toMatch(/had room: not a noisy neighbour/);
  });

  it('names no culprit when the full pool is split evenly', () => {
    const r = rankNoisyNeighbours(
      input(100, [
        fn('a', null, [33, 33], [0, 5]),
        fn('b', null, [33, 33], [0, 5]),
        fn('c', null, [33, 33], [0, 5]),
      ]),
    );
    expect(r.poolFullPeriods).toBe(1);
    expect(r.culprit).toBeNull();
    expect(r.victims).toEqual(['a', 'b', 'c']);
    expect(r.poolExhausted).toBe(true);
    expect(r.sentence).toMatch(
      /held by several functions together \(a 33%, b 33%, c 33% of it\): no single noisy neighbour/,
    );
  });

  it('accepts a clear plurality without a majority', () => {
    const r = rankNoisyNeighbours(
      input(100, [
        fn('big', null, [45, 45], [0, 0]),
        fn('b', null, [20, 20], [0, 5]),
        fn('c', null, [20, 20], [0, 5]),
        fn('d', null, [10, 10], [0, 5]),
      ]),
    );
    expect(r.culprit).toBe('big');
  });

  it('counts ALB 502 and LambdaUserError minutes, and the account Throttles, as throttled periods', () => {
    const r = rankNoisyNeighbours(
      input(10, [fn('hog', null, [1, 10, 1, 10]), fn('api', null, [1, 0, 1, 0])], {
        alb: [{ series: { elb502: s([0, 3, 0, 0]), lambdaUserError: s([0, 0, 0, 0]) } }],
      }),
    );
    expect(r.throttledPeriodsMs).toEqual([T0 + 60_000]);
    expect(r.culprit).toBe('hog');
    const withAccount = rankNoisyNeighbours({
      ...input(10, [fn('hog', null, [1, 10, 1, 10])]),
      accountSeries: { concurrentExecutions: s([1, 10, 1, 10]), throttles: s([0, 0, 0, 4]) },
    });
    expect(withAccount.throttledPeriodsMs).toEqual([T0 + 180_000]);
  });

  it('counts logged throttles as throttled periods, and as the same throttles as the metrics', () => {
    // Minute 1: hog fills the pool (9 of 10) and api is throttled 10 times. Minutes 2 and 3: the
    // pool has room; the logs saw 5 throttled requests in minute 2 (also api's 5 Throttles) and 4
    // in minute 3, which CloudWatch missed.
    const metricsOnly = input(10, [
      fn('hog', null, [1, 9, 2, 2]),
      fn('api', null, [1, 1, 1, 1], [0, 10, 5, 0]),
    ]);
    const r = rankNoisyNeighbours({ ...metricsOnly, loggedThrottles: s([0, 0, 5, 4]) });
    expect(r.throttledPeriodsMs).toEqual([T0 + 60_000, T0 + 120_000, T0 + 180_000]);
    expect(r.poolFullPeriodsMs).toEqual([T0 + 60_000]);
    // One pool-full period of three, but it holds 10 of the 10 + max(5, 5) + 4 = 19 throttles: the
    // incident. Adding the logged 5 to api's 5 would count 24 and name no culprit.
    expect(r.culprit).toBe('hog');
    expect(r.victims).toEqual(['api']);
    // Per-function figures stay CloudWatch's: the logs do not say which function was throttled.
    expect(r.functions.find((f) => f.name === 'api')).toMatchObject({ throttles: 15, throttledPeriods: 2 });
    expect(rankNoisyNeighbours(metricsOnly).throttledPeriodsMs).toHaveLength(2);
  });

  it('uses UnreservedConcurrentExecutions for the pool when CloudWatch has it', () => {
    const base = input(100, [fn('hog', null, [0, 60]), fn('api', null, [0, 5], [0, 9])]);
    expect(rankNoisyNeighbours(base).poolFullPeriods).toBe(0);
    const full = rankNoisyNeighbours({
      ...base,
      accountSeries: { ...base.accountSeries, unreservedConcurrentExecutions: s([0, 95]) },
    });
    expect(full.poolFullPeriods).toBe(1);
    expect(full.culprit).toBe('hog');
  });

  it('handles missing datapoints, no functions and an empty window', () => {
    expect(
      rankNoisyNeighbours({
        account: { limit: 1000 },
        functions: [],
        accountSeries: { concurrentExecutions: zeros(0) },
      }),
    ).toMatchObject({
      culprit: null,
      victims: [],
      functions: [],
      sentence: 'no throttling in the window',
    });
    const sparse = rankNoisyNeighbours({
      account: { limit: 10 },
      functions: [
        {
          name: 'a',
          reserved: undefined,
          series: {
            concurrentExecutions: { timestampsMs: [T0], values: [9] },
            throttles: { timestampsMs: [T0 + 60_000], values: [2] },
          },
        },
      ],
      accountSeries: { concurrentExecutions: zeros(0) },
    });
    expect(sparse.functions[0]).toMatchObject({ share: 0, throttles: 2, unreserved: true });
    expect(sparse.culprit).toBeNull();
  });

  it('properties: shares in [0,1], sorted, culprit unreserved, victims throttled, order-independent', () => {
    const fnArb = fc.record({
      reserved: fc.option(fc.integer({ min: 0, max: 30 }), { nil: null }),
      conc: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 6, maxLength: 6 }),
      thr: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 9 })), { minLength: 6, maxLength: 6 }),
    });
    fc.assert(
      fc.property(
        fc.array(fnArb, { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 1, max: 200 }),
        fc.option(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 6, maxLength: 6 }), {
          nil: undefined,
        }),
        (fns, limit, account) => {
          const functions = fns.map((f, i) => fn(`f${i}`, f.reserved, f.conc, f.thr));
          const base = input(limit, functions);
          const data: RankInput = account
            ? { ...base, accountSeries: { concurrentExecutions: s(account) } }
            : base;
          const r = rankNoisyNeighbours(data);
          for (const f of r.functions) {
            expect(f.share).toBeGreaterThanOrEqual(0);
            expect(f.share).toBeLessThanOrEqual(1);
            if (f.poolShare !== null) {
              expect(f.poolShare).toBeGreaterThanOrEqual(0);
              expect(f.poolShare).toBeLessThanOrEqual(1);
            }
            expect(f.unreserved).toBe(f.reserved === null);
          }
          for (let i = 1; i < r.functions.length; i++) {
            expect(r.functions[i - 1]!.share).toBeGreaterThanOrEqual(r.functions[i]!.share);
          }
          if (r.culprit !== null) {
            expect(functions.find((f) => f.name === r.culprit)?.reserved).toBeNull();
            expect(r.poolFullPeriods).toBeGreaterThan(0);
            expect(r.victims).not.toContain(r.culprit);
            // Only per-function Throttles here: an unreserved function was throttled while the pool was full.
            const starved = functions.some(
              (f) =>
                f.reserved === null &&
                f.series.throttles.timestampsMs.some(
                  (t, i) => r.poolFullPeriodsMs.includes(t) && (f.series.throttles.values[i] ?? 0) > 0,
                ),
            );
            expect(starved).toBe(true);
          }
          for (const v of r.victims)
            expect(r.functions.find((f) => f.name === v)?.throttles).toBeGreaterThan(0);
          expect(r.poolFullPeriodsMs.every((t) => r.throttledPeriodsMs.includes(t))).toBe(true);
          const reversed = rankNoisyNeighbours({ ...data, functions: [...data.functions].reverse() });
          expect(reversed).toEqual(r);
          expect(JSON.parse(JSON.stringify(r))).toEqual(r);
        },
      ),
      { numRuns: 300 },
    );
  });
});
