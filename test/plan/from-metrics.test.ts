import { describe, expect, it } from 'vitest';
import {
  type FunctionHistory,
  type MetricsHistory,
  planFromMetrics,
  plannedFromMetrics,
  unreservedMinimumFor,
} from '../../src/plan/from-metrics.js';
import { recommendReserved } from '../../src/plan/recommend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

/** A series with datapoints only at the given minutes (CloudWatch leaves empty buckets out). */
function sparse(points: Record<number, number>, periodMs = MIN) {
  const minutes = Object.keys(points)
    .map(Number)
    .sort((a, b) => a - b);
  return { timestampsMs: minutes.map((m) => T0 + m * periodMs), values: minutes.map((m) => points[m]!) };
}

function fn(
  name: string,
  series: Partial<FunctionHistory['series']>,
  reserved: number | null = null,
): FunctionHistory {
  return {
    name,
    reserved,
    series: {
      invocations: series.invocations ?? sparse({}),
      throttles: series.throttles ?? sparse({}),
      concurrentExecutions: series.concurrentExecutions ?? sparse({}),
      durationAvg: series.durationAvg,
    },
  };
}

function report(functions: FunctionHistory[], periodSec = 60, minutes = 6): MetricsHistory {
  return { window: { startMs: T0, endMs: T0 + minutes * MIN, periodSec }, account: { limit: 20 }, functions };
}

describe('planFromMetrics', () => {
  it('builds dense per-minute schedules from sparse Invocations + Throttles', () => {
    const plan = planFromMetrics(
      report([
        fn('api', {
          invocations: sparse({ 0: 600, 2: 300, 5: 60 }),
          throttles: sparse({ 2: 30, 3: 10 }),
          durationAvg: sparse({ 0: 100, 2: 400, 5: 100 }),
        }),
      ]),
      { albFacing: ['api'] },
    );
    const api = plan.input.functions[0]!;
    expect(api.arrivals).toEqual({ kind: 'schedule', perMinute: [600, 0, 330, 10, 0, 60] });
    // (600*100 + 300*400 + 60*100) / 960
    expect(api.duration).toEqual({ kind: 'exponential', meanMs: 193.75 });
    expect(api.albFacing).toBe(true);
    expect(api.reserved).toBeUndefined();
    expect(plan.minutes).toBe(6);
    expect(plan.startMs).toBe(T0);
    expect(plan.input.accountLimit).toBe(20);
    expect(plan.input.unreservedMinimum).toBe(2);
  });

  it('spreads 5-minute periods over their minutes and adds up sub-minute ones', () => {
    const five = planFromMetrics(
      report([fn('batch', { invocations: sparse({ 0: 500, 1: 1000 }, 5 * MIN) })], 300, 10),
    );
    expect(five.input.functions[0]!.arrivals).toEqual({
      kind: 'schedule',
      perMinute: [100, 100, 100, 100, 100, 200, 200, 200, 200, 200],
    });
    const tenSeconds = {
      timestampsMs: [T0, T0 + 10_000, T0 + 70_000],
      values: [5, 7, 11],
    };
    const fine = planFromMetrics(report([fn('batch', { invocations: tenSeconds })], 10, 2));
    expect(fine.input.functions[0]!.arrivals).toEqual({ kind: 'schedule', perMinute: [12, 11] });
  });

  it('keeps reserved and ALB-facing functions, leaves idle ones out, and notes estimates', () => {
    const plan = planFromMetrics(
      report([
        fn('idle', {}),
        fn('reserved-idle', {}, 5),
        fn('api', {}),
        fn('no-duration', { invocations: sparse({ 0: 600 }), concurrentExecutions: sparse({ 0: 3 }) }),
      ]),
      { albFacing: ['api', 'ghost'] },
    );
    expect(plan.input.functions.map((f) => [f.name, f.reserved, f.albFacing])).toEqual([
      ['reserved-idle', 5, false],
      ['api', undefined, true],
      ['no-duration', undefined, false],
    ]);
    expect(plan.idle).toEqual(['idle']);
    // Little's law on ConcurrentExecutions: 3 * 60 s / 600 invocations = 300 ms.
    expect(plan.input.functions[2]!.duration).toEqual({ kind: 'exponential', meanMs: 300 });
    const notes = plan.notes.join('\n');
    expect(notes).toMatch(/ghost: no metrics/);
    expect(notes).toMatch(/no-duration: no Duration datapoints/);
    expect(notes).toMatch(/api: never ran/);
  });

  it('feeds the recommender (a victim gets a guarantee, the culprit a cap)', () => {
    const minutes = Object.fromEntries(Array.from({ length: 6 }, (_, m) => [m, 0]));
    const every = (v: number) => sparse(Object.fromEntries(Object.keys(minutes).map((m) => [m, v])));
    const plan = planFromMetrics(
      report([
        fn('reports-worker', { invocations: every(300), durationAvg: every(400), throttles: every(60) }),
        fn('api', { invocations: every(600), throttles: every(30), durationAvg: every(150) }),
      ]),
      { albFacing: ['api'] },
    );
    const rec = recommendReserved(plan.input, { culprit: 'reports-worker' });
    expect(rec.functions[1]!.recommended).toBeGreaterThanOrEqual(5);
    expect(rec.functions[1]!.reason).toMatch(/ALB-facing/);
    expect(rec.functions[1]!.predictedBlockingAfter).toBeLessThan(0.005);
    expect(rec.functions[0]!.reason).toMatch(/culprit: cap at/);
    expect(rec.totalReserved).toBeLessThanOrEqual(18);
  });

  it('plannedFromMetrics covers one function over its window', () => {
    const f = plannedFromMetrics(
      fn('api', { invocations: sparse({ 1: 60 }), durationAvg: sparse({ 1: 250 }) }),
      { startMs: T0, endMs: T0 + 3 * MIN, periodSec: 60 },
      true,
    );
    expect(f.arrivals).toEqual({ kind: 'schedule', perMinute: [0, 60, 0] });
    expect(f.duration).toEqual({ kind: 'exponential', meanMs: 250 });
  });

  it('rejects an unusable account limit and scales the unreserved minimum', () => {
    expect(() => planFromMetrics({ ...report([]), account: { limit: 0 } })).toThrow(/account limit/);
    expect(unreservedMinimumFor(20)).toBe(2);
    expect(unreservedMinimumFor(1000)).toBe(100);
    expect(unreservedMinimumFor(5000)).toBe(100);
  });
});
