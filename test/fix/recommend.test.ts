import { describe, expect, it } from 'vitest';
import type { MetricsEvidence, TimeSeries } from '../../src/diagnose/evidence.js';
import { diagnose } from '../../src/diagnose/rules.js';
import { recommendFix } from '../../src/fix/recommend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const s = (values: number[]): TimeSeries => ({ timestampsMs: values.map((_, i) => T0 + i * 60_000), values });

function noisyNeighbour(): MetricsEvidence {
  const n = 6;
  const worker = Array(n).fill(17);
  const api = Array(n).fill(2);
  const web = Array(n).fill(1);
  return {
    window: { startMs: T0, endMs: T0 + n * 60_000, periodSec: 60 },
    account: { limit: 20 },
    functions: [
      {
        name: 'reports-worker',
        series: {
          concurrentExecutions: s(worker),
          throttles: s(Array(n).fill(300)),
          invocations: s(Array(n).fill(1020)),
          errors: s(Array(n).fill(0)),
          durationAvg: s(Array(n).fill(1000)),
        },
      },
      {
        name: 'api',
        series: {
          concurrentExecutions: s(api),
          throttles: s(Array(n).fill(30)),
          invocations: s(Array(n).fill(600)),
          errors: s(Array(n).fill(0)),
          durationAvg: s(Array(n).fill(150)),
        },
      },
      {
        name: 'web',
        series: {
          concurrentExecutions: s(web),
          throttles: s(Array(n).fill(20)),
          invocations: s(Array(n).fill(300)),
          errors: s(Array(n).fill(0)),
          durationAvg: s(Array(n).fill(150)),
        },
      },
    ],
    accountSeries: { concurrentExecutions: s(Array(n).fill(20)) },
  };
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

  it('says what helps, instead of capping one function, when several hold the exhausted pool', () => {
    const metrics = noisyNeighbour();
    const [worker, api, web] = metrics.functions;
    // Two workers of 9 and 8 share the full pool; api is starved.
    metrics.functions = [
      {
        ...worker!,
        name: 'worker-a',
        series: {
          ...worker!.series,
          concurrentExecutions: s(Array(6).fill(9)),
          throttles: s(Array(6).fill(0)),
        },
      },
      {
        ...worker!,
        name: 'worker-b',
        series: {
          ...worker!.series,
          concurrentExecutions: s(Array(6).fill(8)),
          throttles: s(Array(6).fill(0)),
        },
      },
      api!,
      { ...web!, series: { ...web!.series, throttles: s(Array(6).fill(0)) } },
    ];
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
      /^no single function to cap: Several functions together \(worker-a, worker-b\) .*Reserve concurrency for the functions that must not be throttled \(api\)/,
    );
  });
});
