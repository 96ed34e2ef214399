import { describe, expect, it } from 'vitest';
import { ThrottlescopeError } from '../../src/common/errors.js';
import { type PlanInput, recommendReserved } from '../../src/plan/recommend.js';
import { type SimulationInput, simulate } from '../../src/plan/simulate.js';

function queueAccount(reserved?: number): SimulationInput {
  return {
    accountLimit: 100,
    unreservedMinimum: 10,
    durationMs: 10 * 60_000,
    warmupMs: 30_000,
    seed: 5,
    functions: [
      {
        name: 'worker',
        reserved,
        arrivals: { kind: 'poisson', ratePerSecond: 0 },
        duration: { kind: 'deterministic', ms: 2_000 },
        // 20 erlangs of messages, but the poller keeps at most 5 in flight.
        queues: [{ name: 'jobs', arrivals: { kind: 'poisson', ratePerSecond: 10 }, maxConcurrency: 5 }],
      },
    ],
  };
}

describe('simulate with queue sources', () => {
  it('holds a queue consumer at its poller maximum, queueing instead of throttling', () => {
    const r = simulate(queueAccount()).functions[0]!;
    expect(r.peakConcurrency).toBe(5);
    expect(r.throttled).toBe(0);
    // 5 in flight for 2 s each: 2.5 invocations a second, the rest waits.
    expect(r.offered / (9.5 * 60)).toBeCloseTo(2.5, 1);
    expect(r.queue!.arrived).toBeGreaterThan(5_500);
    expect(r.queue!.backlog).toBeGreaterThan(4_000);
  });

  it('backs off after a throttle as the lab poller does', () => {
    const r = simulate(queueAccount(2)).functions[0]!;
    expect(r.peakConcurrency).toBe(2);
    expect(r.byCause.reserved).toBe(r.throttled);
    // Each completion frees a slot and the poller's next attempt over the cap is throttled,
    // pausing it: a slot freed during the pause idles until it ends. So the consumer completes
    // fewer than the 1 message/s its 2 slots of 2 s allow (why an event source mapping's maximum
    // concurrency caps a queue consumer better than reserved concurrency does).
    const completions = r.offered - r.throttled;
    const perSecond = completions / (9.5 * 60);
    expect(perSecond).toBeGreaterThan(0.4);
    expect(perSecond).toBeLessThan(0.9);
    expect(r.throttled).toBeLessThanOrEqual(completions + 9.5 * 60);
  });

  it('validates queues', () => {
    const bad = queueAccount();
    bad.functions[0]!.queues![0]!.maxConcurrency = 0;
    expect(() => simulate(bad)).toThrow(/maxConcurrency must be an integer >= 1/);
    const twice = queueAccount();
    twice.functions[0]!.queues!.push({ ...twice.functions[0]!.queues![0]! });
    expect(() => simulate(twice)).toThrow(/listed twice/);
    const uniform = queueAccount();
    uniform.functions[0]!.duration = { kind: 'uniform', minMs: 5, maxMs: 1 };
    expect(() => simulate(uniform)).toThrow(ThrottlescopeError);
  });
});

describe('recommendReserved with a long history', () => {
  function longHistory(): PlanInput {
    const minutes = 24 * 60;
    const functions = Array.from({ length: 6 }, (_, k) => ({
      name: `fn-${k}`,
      albFacing: k < 2,
      arrivals: {
        kind: 'schedule' as const,
        // A daily curve peaking at minute 900.
        perMinute: Array.from(
          { length: minutes },
          (_, m) => 600 * (1 + k) * (1.2 + Math.cos(((m - 900) / minutes) * 2 * Math.PI)),
        ),
      },
      duration: { kind: 'exponential' as const, meanMs: 150 },
    }));
    return { accountLimit: 200, unreservedMinimum: 20, functions };
  }

  it('predicts over the busiest stretch when the whole history is over the event budget', () => {
    const rec = recommendReserved(longHistory(), { maxEventsPerRun: 200_000 });
    const w = rec.predictionWindow!;
    expect(w.ofMinutes).toBe(1440);
    expect(w.minutes).toBeGreaterThanOrEqual(10);
    expect(w.minutes).toBeLessThan(1440);
    // The busiest stretch is centred on the peak.
    expect(w.startMinute).toBeLessThanOrEqual(900);
    expect(w.startMinute + w.minutes).toBeGreaterThan(900);
    expect(rec.warnings.join('\n')).toMatch(/busiest \d+ minutes/);
  });

  it('simulates the whole history when it fits', () => {
    const input = longHistory();
    for (const f of input.functions) {
      if (f.arrivals.kind === 'schedule') f.arrivals.perMinute = f.arrivals.perMinute.slice(0, 30);
    }
    const rec = recommendReserved(input, { maxEventsPerRun: 10_000_000 });
    expect(rec.predictionWindow).toBeUndefined();
  });
});
