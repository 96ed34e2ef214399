import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinScenario, NOISY_NEIGHBOUR } from '../../src/lab/builtin.js';
import { distributionMean } from '../../src/lab/lambda/distribution.js';
import { type ScenarioInput, validateScenario } from '../../src/lab/scenario.js';
import { erlangB } from '../../src/plan/erlang.js';
import {
  durationFromDistribution,
  planFromScenario,
  rateSchedule,
  simulationFromPlan,
} from '../../src/plan/from-scenario.js';
import { recommendReserved } from '../../src/plan/recommend.js';
import { meanDurationMs, simulate } from '../../src/plan/simulate.js';

const Z99 = 2.3263478740408408;

function noisy() {
  return planFromScenario(builtinScenario('noisy-neighbour')!);
}

function scenario(patch: Partial<ScenarioInput>) {
  return validateScenario(
    { ...structuredClone(NOISY_NEIGHBOUR), ...patch },
    { baseDir: fileURLToPath(new URL('../fixtures/handlers/', import.meta.url)) },
  );
}

describe('planFromScenario on the built-in noisy-neighbour', () => {
  it('routes ALB traffic to api and web, and models reports-worker as a capped queue consumer', () => {
    const plan = noisy();
    expect(plan.albFacing).toEqual(['api', 'web']);
    const [api, web, worker] = plan.input.functions;
    expect(api!.name).toBe('api');
    expect(api!.albFacing).toBe(true);
    expect(api!.arrivals).toEqual({ kind: 'poisson', ratePerSecond: 5 });
    expect(web!.albFacing).toBe(true);
    expect(web!.arrivals).toEqual({ kind: 'poisson', ratePerSecond: 7.5 });
    expect(worker!.name).toBe('reports-worker');
    expect(worker!.albFacing).toBe(false);
    expect(worker!.arrivals).toEqual({ kind: 'poisson', ratePerSecond: 0 });
    expect(worker!.queues).toEqual([
      {
        name: 'reports-queue',
        arrivals: { kind: 'poisson', ratePerSecond: 5 },
        maxConcurrency: 16,
        backoff: { firstMs: 1_000, maxMs: 30_000 },
      },
    ]);
    expect(plan.input.accountLimit).toBe(20);
    expect(plan.input.unreservedMinimum).toBe(2);
    expect(plan.input.scaling).toEqual({ increment: 1000, intervalMs: 10_000 });
    expect(plan.routes).toEqual([
      { source: 'api clients', targetGroup: 'api-tg', priority: 10, function: 'api', ratePerSecond: 5 },
      { source: 'web clients', targetGroup: 'web-tg', priority: 0, function: 'web', ratePerSecond: 7.5 },
    ]);
    expect(plan.minutes).toBe(10);
    expect(plan.notes).toEqual([]);
  });

  it('maps lognormal median/p99 to sigma, with the same mean the lab samples', () => {
    const plan = noisy();
    const api = plan.input.functions[0]!;
    expect(api.duration).toEqual({ kind: 'lognormal', medianMs: 280, sigma: Math.log(900 / 280) / Z99 });
    const labApi = builtinScenario('noisy-neighbour')!.functions[0]!.synthetic!.duration;
    expect(meanDurationMs(api.duration)).toBeCloseTo(distributionMean(labApi), 9);
    expect(durationFromDistribution({ kind: 'fixed', value: 50 })).toEqual({ kind: 'deterministic', ms: 50 });
    expect(durationFromDistribution({ kind: 'exponential', mean: 70 })).toEqual({
      kind: 'exponential',
      meanMs: 70,
    });
    const uniform = durationFromDistribution({ kind: 'uniform', min: 10, max: 30 });
    expect(uniform).toEqual({ kind: 'uniform', minMs: 10, maxMs: 30 });
    expect(meanDurationMs(uniform)).toBe(20);
  });

  it('predicts the ALB throttle fraction the lab measures (about one request in five)', () => {
    const plan = noisy();
    const result = simulate(simulationFromPlan(plan, { seed: 1 }));
    const [api, web, worker] = result.functions;
    const offered = api!.offered + web!.offered;
    const fraction = (api!.throttled + web!.throttled) / offered;
    // 16 of 20 held by the queue consumer leave 4 for 3.13 erlangs: Erlang B says 22%.
    expect(fraction).toBeGreaterThan(0.08);
    expect(fraction).toBeLessThan(0.45);
    expect(Math.abs(fraction - erlangB(3.13, 4))).toBeLessThan(0.05);
    expect(api!.byCause.account).toBe(api!.throttled);
    expect(worker!.peakConcurrency).toBe(16);
    expect(worker!.queue!.backlog).toBeGreaterThan(1000);
    // Same seed, same run.
    expect(simulate(simulationFromPlan(plan, { seed: 1 }))).toEqual(result);
  });

  it('capping reports-worker brings api and web throttling down', () => {
    const plan = noisy();
    const before = simulate(simulationFromPlan(plan, { seed: 2 }));
    plan.input.functions[2]!.reserved = 4;
    const after = simulate(simulationFromPlan(plan, { seed: 2 }));
    for (const i of [0, 1]) {
      expect(before.functions[i]!.throttleFraction).toBeGreaterThan(0.08);
      expect(after.functions[i]!.throttleFraction).toBeLessThan(0.01);
    }
    const worker = after.functions[2]!;
    expect(worker.peakConcurrency).toBe(4);
    expect(worker.byCause.reserved).toBe(worker.throttled);
    expect(worker.throttled).toBeGreaterThan(0);
  });

  it('recommends guarantees for api and web and caps the queue consumer in what is left', () => {
    const plan = noisy();
    const rec = recommendReserved(plan.input, { culprit: 'reports-worker', simulationMs: 10 * 60_000 });
    const [api, web, worker] = rec.functions;
    expect(api!.recommended).toBe(8);
    expect(web!.recommended).toBe(7);
    expect(api!.methodBefore).toBe('simulation');
    expect(api!.predictedBlockingBefore).toBeGreaterThan(0.08);
    expect(api!.methodAfter).toBe('erlang-b');
    expect(api!.predictedBlockingAfter).toBeLessThanOrEqual(0.001);
    expect(web!.predictedBlockingAfter).toBeLessThanOrEqual(0.001);
    // A queue consumer is not a loss system: its cap may go below what it would use.
    expect(worker!.methodAfter).toBe('simulation');
    expect(worker!.recommended).toBe(3);
    expect(worker!.reason).toMatch(/culprit fed by a queue: cap at 3/);
    expect(worker!.reason).toMatch(/maximum concurrency to 3/);
    expect(rec.totalReserved).toBe(18);
    expect(rec.totalReserved).toBeLessThanOrEqual(rec.reservable);
    expect(rec.warnings.join('\n')).toMatch(/backlog grows by about 4\.86 messages\/s/);
  });
});

describe('planFromScenario conversions', () => {
  it('turns rate steps into a per-minute schedule that holds the last step', () => {
    expect(
      rateSchedule(
        [
          { at: 0, perSecond: 2 },
          { at: 90_000, perSecond: 4 },
        ],
        3,
      ),
    ).toEqual([120, 180, 240]);
    const plan = planFromScenario(
      scenario({
        traffic: [
          {
            name: 'steps',
            path: '/api/x',
            rate: [
              { at: 0, perSecond: 1 },
              { at: '12m', perSecond: 3 },
            ],
          },
          { name: 'more api', path: '/api/y', rate: 2 },
        ],
      }),
    );
    // The schedule reaches the last step even though the default horizon is 10 minutes.
    expect(plan.minutes).toBe(13);
    const api = plan.input.functions[0]!;
    expect(api.arrivals.kind).toBe('schedule');
    if (api.arrivals.kind === 'schedule') {
      expect(api.arrivals.perMinute).toHaveLength(13);
      expect(api.arrivals.perMinute[0]).toBe(180);
      expect(api.arrivals.perMinute[12]).toBe(300);
    }
  });

  it('routes by host and method, and models async sources as direct invocations', () => {
    const plan = planFromScenario(
      scenario({
        loadBalancer: {
          ...structuredClone(NOISY_NEIGHBOUR.loadBalancer),
          rules: [
            { priority: 5, host: 'api.example.com', targetGroup: 'api-tg' },
            { priority: 10, path: '/api/*', method: 'POST', targetGroup: 'api-tg' },
          ],
        },
        traffic: [
          { name: 'by host', path: '/', host: 'api.example.com', rate: 1 },
          { name: 'get api', path: '/api/orders', rate: 2 },
          { name: 'post api', method: 'POST', path: '/api/orders', rate: 3, arrivals: 'uniform' },
        ],
        background: [{ name: 'events', function: 'reports-worker', kind: 'async', rate: 0.5 }],
      }),
    );
    expect(plan.routes.map((r) => [r.source, r.function, r.priority])).toEqual([
      ['by host', 'api', 5],
      ['get api', 'web', 0],
      ['post api', 'api', 10],
    ]);
    expect(plan.input.functions[0]!.arrivals).toEqual({ kind: 'poisson', ratePerSecond: 4 });
    expect(plan.input.functions[2]!.arrivals).toEqual({ kind: 'poisson', ratePerSecond: 0.5 });
    expect(plan.input.functions[2]!.queues).toBeUndefined();
    expect(plan.notes.join('\n')).toMatch(/modelled as Poisson/);
    expect(plan.notes.join('\n')).toMatch(/async source events is modelled as direct invocations/);
  });

  it('needs the duration of a function that runs a handler module', () => {
    const input = {
      functions: [
        ...structuredClone(NOISY_NEIGHBOUR.functions).slice(0, 2),
        { name: 'reports-worker', handler: { module: 'ok.mjs' } },
      ],
    };
    expect(() => planFromScenario(scenario(input))).toThrow(
      /reports-worker.*handler module.*--handler-duration reports-worker=250ms/,
    );
    const plan = planFromScenario(scenario(input), {
      handlerDurations: { 'reports-worker': { kind: 'exponential', meanMs: 500 } },
    });
    expect(plan.input.functions[2]!.duration).toEqual({ kind: 'exponential', meanMs: 500 });
    expect(() =>
      planFromScenario(scenario(input), {
        handlerDurations: {
          'reports-worker': { kind: 'exponential', meanMs: 500 },
          ghost: { kind: 'exponential', meanMs: 1 },
        },
      }),
    ).toThrow(/ghost/);
  });

  it('keeps reservations and the scaling rule of the scenario', () => {
    const functions = structuredClone(NOISY_NEIGHBOUR.functions);
    functions[2] = { ...functions[2]!, reservedConcurrency: 6 };
    const plan = planFromScenario(
      scenario({
        functions,
        account: { ...NOISY_NEIGHBOUR.account, scalingRate: { increment: 3, interval: '2s' } },
      }),
    );
    expect(plan.input.functions[2]!.reserved).toBe(6);
    expect(plan.input.scaling).toEqual({ increment: 3, intervalMs: 2_000 });
    const off = planFromScenario(scenario({ account: { ...NOISY_NEIGHBOUR.account, scalingRate: false } }));
    expect(off.input.scaling).toBeUndefined();
    expect(() => planFromScenario(scenario({}), { minutes: 0 })).toThrow(/minutes/);
  });
});
