import { describe, expect, it } from 'vitest';
import { ThrottlescopeError } from '../../src/common/errors.js';
import { erlangB, minServersFor } from '../../src/plan/erlang.js';
import { type PlanInput, recommendReserved } from '../../src/plan/recommend.js';

/** Erlangs of the batch schedule below on average: 157,200 arrivals per 3 minutes of 100 ms each. */
const BATCH_MEAN_LOAD = (157_200 / 180) * 0.1;

/** An ALB-facing api sharing a small account with a batch job that floods the unreserved pool. */
function noisyAccount(): PlanInput {
  return {
    accountLimit: 200,
    unreservedMinimum: 20,
    functions: [
      {
        name: 'api',
        albFacing: true,
        arrivals: { kind: 'poisson', ratePerSecond: 100 },
        duration: { kind: 'exponential', meanMs: 200 },
      },
      {
        // Quiet for two minutes, then a surge of 250 erlangs: more than the whole account.
        name: 'batch',
        arrivals: { kind: 'schedule', perMinute: [3_600, 3_600, 150_000] },
        duration: { kind: 'deterministic', ms: 100 },
        observedPeakConcurrency: 175,
      },
      {
        name: 'reports',
        arrivals: { kind: 'poisson', ratePerSecond: 2 },
        duration: { kind: 'exponential', meanMs: 500 },
      },
    ],
  };
}

describe('recommendReserved', () => {
  it('guarantees the ALB-facing function and caps the culprit at its own needs', () => {
    const plan = recommendReserved(noisyAccount(), { culprit: 'batch', simulationMs: 6 * 60_000, seed: 3 });
    const [api, batch, reports] = plan.functions;
    const apiNeed = minServersFor(20, 0.001).servers;
    expect(api!.current).toBeUndefined();
    expect(api!.recommended).toBe(apiNeed);
    expect(api!.reason).toMatch(/ALB-facing/);
    // Before: during the batch job's surge the api shares a full pool.
    expect(api!.methodBefore).toBe('simulation');
    expect(api!.predictedBlockingBefore).toBeGreaterThan(0.03);
    expect(api!.methodAfter).toBe('erlang-b');
    expect(api!.predictedBlockingAfter).toBeCloseTo(erlangB(20, apiNeed), 12);
    expect(api!.predictedBlockingAfter).toBeLessThanOrEqual(0.001);

    // The observed peak (175) does not fit beside the api's guarantee; the need for the batch
    // job's average 87.3 erlangs does.
    const batchNeed = minServersFor(BATCH_MEAN_LOAD, 0.001).servers;
    expect(batchNeed).toBeLessThanOrEqual(180 - apiNeed);
    expect(batch!.predictedBlockingAfter).toBeGreaterThan(batch!.predictedBlockingBefore);
    expect(batch!.recommended).toBe(batchNeed);
    expect(batch!.reason).toMatch(/culprit/);
    expect(plan.warnings.join('\n')).toMatch(/observed peak 175/);

    expect(reports!.recommended).toBeUndefined();
    expect(reports!.reason).toMatch(/unchanged/);
    expect(plan.totalReserved).toBe(apiNeed + batchNeed);
    expect(plan.totalReserved).toBeLessThanOrEqual(plan.reservable);
    expect(plan.reservable).toBe(180);
  });

  it('uses the observed peak for the culprit when it fits', () => {
    const input = noisyAccount();
    input.accountLimit = 1000;
    input.unreservedMinimum = 100;
    const plan = recommendReserved(input, { culprit: 'batch', simulationMs: 3 * 60_000 });
    expect(minServersFor(BATCH_MEAN_LOAD, 0.001).servers).toBeLessThan(175);
    expect(plan.functions[1]!.recommended).toBe(175);
    expect(plan.functions[1]!.reason).toMatch(/observed peak of 175/);
    expect(plan.warnings).toEqual([]);
  });

  it('sizes a scheduled function for its busiest minute', () => {
    const input: PlanInput = {
      accountLimit: 1000,
      unreservedMinimum: 100,
      functions: [
        {
          name: 'api',
          albFacing: true,
          arrivals: { kind: 'schedule', perMinute: [600, 6000, 600] },
          duration: { kind: 'deterministic', ms: 300 },
        },
      ],
    };
    const plan = recommendReserved(input, { targetBlocking: 0.01 });
    expect(plan.functions[0]!.recommended).toBe(minServersFor(30, 0.01).servers);
    expect(plan.functions[0]!.methodAfter).toBe('simulation');
  });

  it('fails with TS_PLAN_INFEASIBLE when the guarantees cannot fit in the account', () => {
    const input = noisyAccount();
    input.accountLimit = 30;
    input.unreservedMinimum = 10;
    expect(() => recommendReserved(input, { culprit: 'batch' })).toThrow(/raise the account limit/);
    try {
      recommendReserved(input);
    } catch (error) {
      expect((error as ThrottlescopeError).code).toBe('TS_PLAN_INFEASIBLE');
    }
  });

  it('is reproducible for a given seed', () => {
    const first = recommendReserved(noisyAccount(), { culprit: 'batch', simulationMs: 30_000, seed: 9 });
    const second = recommendReserved(noisyAccount(), { culprit: 'batch', simulationMs: 30_000, seed: 9 });
    expect(second).toEqual(first);
  });

  it('rejects an unknown culprit and a bad target', () => {
    expect(() => recommendReserved(noisyAccount(), { culprit: 'nope' })).toThrow(ThrottlescopeError);
    expect(() => recommendReserved(noisyAccount(), { targetBlocking: 0 })).toThrow(/target blocking/);
  });
});
