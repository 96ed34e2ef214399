import { describe, expect, it } from 'vitest';
import type { MetricsEvidence, TimeSeries } from '../../src/diagnose/evidence.js';
import { diagnose } from '../../src/diagnose/rules.js';
import { recommendFix } from '../../src/fix/recommend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const s = (values: number[]): TimeSeries => ({ timestampsMs: values.map((_, i) => T0 + i * 60_000), values });

const N = 6;
const steady = (v: number) => s(Array(N).fill(v));

/** A function's history over N minutes, each minute the same (durations in ms). */
function steadyFunction(
  name: string,
  h: { concurrency: number; throttles: number; invocations: number; durationMs: number },
): MetricsEvidence['functions'][number] {
  return {
    name,
    series: {
      concurrentExecutions: steady(h.concurrency),
      throttles: steady(h.throttles),
      invocations: steady(h.invocations),
      errors: steady(0),
      durationAvg: steady(h.durationMs),
    },
  };
}

function metricsOf(functions: MetricsEvidence['functions'], accountConcurrency: number): MetricsEvidence {
  return {
    window: { startMs: T0, endMs: T0 + N * 60_000, periodSec: 60 },
    account: { limit: 20 },
    functions,
    accountSeries: { concurrentExecutions: steady(accountConcurrency) },
  };
}

const API = { concurrency: 2, throttles: 30, invocations: 600, durationMs: 150 };

function noisyNeighbour(): MetricsEvidence {
  return metricsOf(
    [
      steadyFunction('reports-worker', {
        concurrency: 17,
        throttles: 300,
        invocations: 1020,
        durationMs: 1000,
      }),
      steadyFunction('api', API),
      steadyFunction('web', { concurrency: 1, throttles: 20, invocations: 300, durationMs: 150 }),
    ],
    20,
  );
}

/** The pool held by two workers together (9 and 8 of 20), api starved. */
function twoWorkers(): MetricsEvidence {
  const busy = (name: string, concurrency: number) =>
    steadyFunction(name, { concurrency, throttles: 0, invocations: 1020, durationMs: 1000 });
  return metricsOf([busy('worker-a', 9), busy('worker-b', 8), steadyFunction('api', API)], 19);
}

describe('recommendFix', () => {
  it('caps the noisy neighbour so that the shared pool has room again, within the reservable limit', () => {
    const metrics = noisyNeighbour();
    const d = diagnose({ window: { startMs: T0, endMs: T0 + 360_000 }, gaps: [], metrics });
    expect(d.culprit).toBe('reports-worker');
    const fix = recommendFix(d, metrics);
    expect(fix.function).toBe('reports-worker');
    expect(fix.reservedConcurrency).toBeGreaterThan(0);
    expect(fix.reservedConcurrency).toBeLessThan(17);
    const totalReserved = fix.changes.reduce((n, c) => n + (c.after ?? 0), 0);
    expect(totalReserved).toBeLessThanOrEqual(20 - 2);
    expect(fix.snippets.awsCli).toContain(
      `aws lambda put-function-concurrency --function-name reports-worker --reserved-concurrent-executions ${fix.reservedConcurrency}`,
    );
    expect(fix.snippets.terraform).toContain(`reserved_concurrent_executions = ${fix.reservedConcurrency}`);
    expect(fix.reasoning.join('\n')).toMatch(/AWS keeps 2 unreserved/);
  });

  it('refuses to guess without a culprit or without metrics', () => {
    const metrics = noisyNeighbour();
    const healthy = diagnose({ window: { startMs: T0, endMs: T0 + 1 }, gaps: [] });
    expect(() => recommendFix(healthy, metrics)).toThrow(/names no function/);
    const d = diagnose({ window: { startMs: T0, endMs: T0 + 360_000 }, gaps: [], metrics });
    expect(() => recommendFix(d, undefined)).toThrow(/without CloudWatch metrics/);
  });

  it('gives the starved functions guarantees, instead of capping one, when several hold the exhausted pool', () => {
    const metrics = twoWorkers();
    const d = diagnose({ window: { startMs: T0, endMs: T0 + 360_000 }, gaps: [], metrics });
    expect(d.rootCause).toBe('account-concurrency-exhausted');
    expect(d.culprit).toBeNull();
    const fix = recommendFix(d, metrics);
    // api: 600 invocations a minute of 150 ms = 1.5 concurrent on average; a guarantee above that.
    expect(fix.function).toBe('api');
    expect(fix.changes).toEqual([{ function: 'api', before: null, after: fix.reservedConcurrency }]);
    expect(fix.reservedConcurrency).toBeGreaterThanOrEqual(3);
    expect(fix.reservedConcurrency).toBeLessThanOrEqual(18);
    expect(fix.reasoning.join('\n')).toMatch(
      /capping one would leave the others to fill it, so the throttled functions get guarantees instead/,
    );
    expect(fix.snippets.awsCli).toBe(
      `aws lambda put-function-concurrency --function-name api --reserved-concurrent-executions ${fix.reservedConcurrency}`,
    );
  });

  it('says what helps when the guarantees the starved functions need cannot be reserved', () => {
    const metrics = twoWorkers();
    metrics.account.limit = 4; // at most 2 reservable: not enough for api's load
    const d = diagnose({ window: { startMs: T0, endMs: T0 + 360_000 }, gaps: [], metrics });
    expect(d.rootCause).toBe('account-concurrency-exhausted');
    expect(d.culprit).toBeNull();
    let error: unknown;
    try {
      recommendFix(d, metrics);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'TS_FIX_NO_CULPRIT', exitCode: 6 });
    expect((error as Error).message).toMatch(
      /^no single function to cap: Several functions together \(worker-a, worker-b\) .*do not fit in what the account may reserve.*reserve concurrency for the functions that must not be throttled \(api\)/,
    );
  });
});
