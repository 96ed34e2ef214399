/**
 * 1. Simulator throughput on a saturating account: a flood keeps the shared pool full, so every
 *    code path (acquire, throttle by cause, completion) runs. Goal: >= 2,000,000 events/s.
 * 2. `plan recommend` on a synthetic 20-function account over 24 hours of per-minute CloudWatch
 *    history (everything after the metrics fetch: conversion, sizing, before/after predictions).
 *    Goal: under 5 s.
 * `node --import tsx bench/plan.bench.ts`
 */
import { type FunctionHistory, type MetricsHistory, planFromMetrics } from '../src/plan/from-metrics.js';
import { recommendReserved } from '../src/plan/recommend.js';
import { type SimulationInput, simulate } from '../src/plan/simulate.js';

const scenario: SimulationInput = {
  accountLimit: 1000,
  unreservedMinimum: 100,
  scaling: { increment: 1000, intervalMs: 10_000 },
  durationMs: 10 * 60_000,
  warmupMs: 10_000,
  seed: 1,
  functions: [
    {
      name: 'api',
      reserved: 60,
      arrivals: { kind: 'poisson', ratePerSecond: 400 },
      duration: { kind: 'exponential', meanMs: 100 },
    },
    {
      name: 'batch',
      arrivals: { kind: 'poisson', ratePerSecond: 5_000 },
      duration: { kind: 'lognormal', medianMs: 150, sigma: 0.5 },
    },
    {
      name: 'reports',
      arrivals: { kind: 'schedule', perMinute: [600, 60_000, 6_000] },
      duration: { kind: 'deterministic', ms: 250 },
    },
  ],
};

// The first runs let V8 optimise the loop; only the timed runs count.
for (let warm = 0; warm < 2; warm++) simulate({ ...scenario, durationMs: 60_000 });

const runs = 5;
let events = 0;
const started = process.hrtime.bigint();
for (let run = 0; run < runs; run++) events += simulate({ ...scenario, seed: run + 1 }).events;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const sample = simulate(scenario).functions.map((f) => `${f.name} ${(f.throttleFraction * 100).toFixed(2)}%`);
console.log(`plan.simulate events: ${events} in ${seconds.toFixed(2)} s (throttled: ${sample.join(', ')})`);
console.log(`plan.simulate events/s: ${Math.round(events / seconds)}`);

/** 24 h of per-minute history: 5 ALB-facing APIs, a batch job with hourly surges, 14 background functions. */
function syntheticHistory(): MetricsHistory {
  const minutes = 24 * 60;
  const startMs = Date.parse('2026-11-24T00:00:00Z');
  const timestampsMs = Array.from({ length: minutes }, (_, m) => startMs + m * 60_000);
  const series = (perMinute: (m: number) => number) => ({
    timestampsMs,
    values: timestampsMs.map((_, m) => Math.round(perMinute(m))),
  });
  // Busiest in the afternoon, quietest at night.
  const diurnal = (m: number) => 1 + 0.8 * Math.sin(((m - 540) / minutes) * 2 * Math.PI);
  const fn = (
    name: string,
    perSecond: number,
    durationMs: number,
    shape: (m: number) => number = diurnal,
  ) => {
    const f: FunctionHistory = {
      name,
      reserved: null,
      series: {
        invocations: series((m) => perSecond * 60 * shape(m)),
        throttles: series(() => 0),
        concurrentExecutions: series((m) => (perSecond * shape(m) * durationMs) / 1000),
        durationAvg: series(() => durationMs),
      },
    };
    return f;
  };
  const functions: FunctionHistory[] = [
    fn('api-orders', 80, 120),
    fn('api-catalog', 60, 90),
    fn('api-search', 40, 250),
    fn('api-users', 30, 80),
    fn('web-frontend', 50, 150),
    // Ten minutes of every hour at 40x its base rate.
    fn('batch-export', 10, 2_000, (m) => (m % 60 < 10 ? 40 : 1)),
  ];
  for (let k = 0; k < 14; k++) functions.push(fn(`worker-${k}`, 1 + k, 200 + 50 * k));
  return {
    window: { startMs, endMs: startMs + minutes * 60_000, periodSec: 60 },
    account: { limit: 1000 },
    functions,
  };
}

const history = syntheticHistory();
const albFacing = ['api-orders', 'api-catalog', 'api-search', 'api-users', 'web-frontend'];
const recommendStarted = process.hrtime.bigint();
const metricsPlan = planFromMetrics(history, { albFacing });
const recommendation = recommendReserved(metricsPlan.input, { culprit: 'batch-export' });
const recommendSeconds = Number(process.hrtime.bigint() - recommendStarted) / 1e9;
const window = recommendation.predictionWindow;
const alb = recommendation.functions.filter((f) => albFacing.includes(f.name));
const worstBefore = Math.max(...alb.map((f) => f.predictedBlockingBefore));
const worstAfter = Math.max(...alb.map((f) => f.predictedBlockingAfter));
console.log(
  `plan.recommend: ${history.functions.length} functions x ${metricsPlan.minutes} min of history in ${recommendSeconds.toFixed(2)} s ` +
    `(goal < 5 s; predictions over ${window ? `the busiest ${window.minutes} of ${window.ofMinutes} min` : 'all of it'}; ` +
    `worst ALB-facing throttling ${(worstBefore * 100).toFixed(2)}% -> ${(worstAfter * 100).toFixed(3)}%, ` +
    `${recommendation.totalReserved} of ${recommendation.reservable} reserved)`,
);
console.log(`plan.recommend seconds: ${recommendSeconds.toFixed(2)}`);
