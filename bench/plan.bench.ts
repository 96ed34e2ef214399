/**
 * Simulator throughput on a saturating account: a flood keeps the shared pool full, so every
 * code path (acquire, throttle by cause, completion) runs. `node --import tsx bench/plan.bench.ts`
 */
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
