/**
 * Each root-cause rule, from a lab scenario that produces the situation: real ALB traffic, real
 * access logs read back over the lab's S3 API, real metrics over its CloudWatch API, a real probe
 * run joined by trace id. Loopback only; every run is bounded (a few seconds).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runDiagnosis } from '../../src/diagnose/run.js';
import { applyChanges } from '../../src/fix/apply.js';
import { recommendFix } from '../../src/fix/recommend.js';
import { startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { builtinScenario } from '../../src/lab/builtin.js';
import { startLab } from '../../src/lab/index.js';
import type { Scenario, ScenarioInput } from '../../src/lab/scenario.js';
import { runProbe } from '../../src/probe/runner.js';
import { fakeCli } from '../helpers/cli.js';
import { NO_AWS_CONFIG_ENV } from '../helpers/memory-backend.js';
import { scenarioWith } from '../lab/helpers.js';

type FnInput = ScenarioInput['functions'][number];

type Diagnosed = Awaited<ReturnType<typeof runDiagnosis>>;
type Lab = Awaited<ReturnType<typeof startLab>>;

async function diagnoseScenario(
  scenario: Scenario,
  opts: {
    paths: string[];
    rate: number;
    seconds: number;
    warmupMs?: number;
    /** Read CloudWatch (default true); false diagnoses from the logs, the probe and ELBv2 alone. */
    cloudwatch?: boolean;
    /** Runs on the diagnosed lab before it closes (to apply a fix and probe again). */
    afterDiagnosis?: (ctx: {
      lab: Lab;
      endpointUrl: string;
      dir: string;
      diagnosed: Diagnosed;
    }) => Promise<void>;
  },
) {
  const lab = await startLab(scenario, { albPort: 0 });
  const endpoint = await startAwsEndpoint(lab.backend, { port: 0 });
  try {
    const wallRef = Date.now();
    const labRef = lab.clock.now();
    const scale = scenario.timeScale;
    await sleep(opts.warmupMs ?? 500);
    const dir = await mkdtemp(join(tmpdir(), 'ts-e2e-'));
    const start = lab.clock.now();
    await runProbe({
      urls: opts.paths.map((p) => `${lab.albUrl}${p}`),
      rate: opts.rate,
      durationMs: opts.seconds * 1000,
      outDir: dir,
      seed: 7,
      timeoutMs: 5000,
    });
    const end = lab.clock.now();
    await lab.flush();
    const { accessLogs } = scenario.loadBalancer;
    const prefix = accessLogs.prefix ? `${accessLogs.prefix}/` : '';
    const diagnosed = await runDiagnosis({
      logs: [
        `s3://${accessLogs.bucket}/${prefix}AWSLogs/${scenario.account.id}/elasticloadbalancing/${scenario.account.region}/`,
      ],
      probeDir: dir,
      endpointUrl: endpoint.url,
      region: scenario.account.region,
      cloudwatch: opts.cloudwatch ?? true,
      sinceMs: start - 60_000,
      untilMs: end + 60_000,
      probeTimeMap: (wall) => labRef + (wall - wallRef) * scale,
    });
    await opts.afterDiagnosis?.({ lab, endpointUrl: endpoint.url, dir, diagnosed });
    return diagnosed;
  } finally {
    await endpoint.close();
    await lab.close();
  }
}

const synthetic = (
  name: string,
  extra: Partial<FnInput> = {},
  model: Record<string, unknown> = {},
): FnInput => ({
  name,
  timeout: '3s',
  synthetic: { duration: { kind: 'lognormal', median: '200ms', p99: '600ms' }, ...model },
  ...extra,
});

describe('diagnose on lab scenarios (one per root cause)', { timeout: 90_000 }, () => {
  it('account-concurrency-exhausted: the built-in noisy neighbour', async () => {
    const scenario = builtinScenario('noisy-neighbour') as Scenario;
    const { diagnosis, evidence } = await diagnoseScenario(scenario, {
      paths: ['/api/cart', '/'],
      rate: 5,
      seconds: 5,
      warmupMs: 2500,
    });
    expect(diagnosis.rootCause).toBe('account-concurrency-exhausted');
    expect(diagnosis.culprit).toBe('reports-worker');
    expect(diagnosis.victims).toEqual(expect.arrayContaining(['api', 'web']));
    const text = diagnosis.findings[0]?.evidence.map((e) => e.text).join('\n') ?? '';
    // Every probe failure was found in the ALB logs by its trace id, as LambdaThrottling.
    const m = /ALB logs: (\d+) of (\d+) probe failures found by trace id: \d+ LambdaThrottling/.exec(text);
    expect(m?.[1]).toBe(m?.[2]);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    expect(evidence.probe?.urls.every((u) => u.failed > 0)).toBe(true);
    // The throttled target groups are named with the functions behind them, asked of ELBv2.
    expect(text).toMatch(
      /ALB logs: LambdaThrottling by target group: (?=[^\n]*api-tg -> function api \(\d+\))(?=[^\n]*web-tg -> function web \(\d+\))/,
    );
  });

  it('account-concurrency-exhausted without CloudWatch: the victims are the functions behind the throttled target groups', async () => {
    const scenario = builtinScenario('noisy-neighbour') as Scenario;
    const { diagnosis, evidence } = await diagnoseScenario(scenario, {
      paths: ['/api/cart', '/'],
      rate: 5,
      seconds: 4,
      warmupMs: 2500,
      cloudwatch: false,
    });
    expect(evidence.metrics).toBeUndefined();
    expect(diagnosis.rootCause).toBe('account-concurrency-exhausted');
    expect(diagnosis.culprit).toBeNull();
    expect([...diagnosis.victims].sort()).toEqual(['api', 'web']);
    expect(diagnosis.gaps.filter((g) => /target group/.test(g))).toEqual([]);
  });

  it('account-concurrency-exhausted without a culprit: the built-in shared-pool, fixed by guarantees', async () => {
    // The built-in shared-pool: the runaway split in two workers of 8 executions each.
    const scenario = builtinScenario('shared-pool') as Scenario;
    let before = 0;
    let after = Number.NaN;
    let guaranteed: string[] = [];
    const { diagnosis } = await diagnoseScenario(scenario, {
      paths: ['/api/cart', '/'],
      rate: 5,
      seconds: 5,
      warmupMs: 2500,
      // The fix `fix` recommends (guarantees for the starved functions), applied through the lab's
      // Lambda API, must stop the failures.
      afterDiagnosis: async ({ lab, endpointUrl, dir, diagnosed }) => {
        before = (diagnosed.evidence.probe?.failed ?? 0) / (diagnosed.evidence.probe?.total ?? 1);
        const fix = recommendFix(diagnosed.diagnosis, diagnosed.evidence.metrics);
        guaranteed = fix.changes.map((c) => c.function).sort();
        await applyChanges(fix.changes, {
          endpointUrl,
          region: scenario.account.region,
          apply: true,
          rollbackPath: join(dir, 'rollback.json'),
        });
        await sleep(500);
        const { summary } = await runProbe({
          urls: ['/api/cart', '/'].map((p) => `${lab.albUrl}${p}`),
          rate: 5,
          durationMs: 5000,
          seed: 9,
          timeoutMs: 5000,
        });
        after = summary.failed / summary.total;
      },
    });
    expect(diagnosis.rootCause).toBe('account-concurrency-exhausted');
    expect(diagnosis.culprit).toBeNull();
    expect(guaranteed).toEqual(['api', 'web']);
    expect(before).toBeGreaterThan(0.1);
    expect(after).toBeLessThan(0.05);
    // Both workers are named as holding the pool (a starved function may trail them).
    expect(diagnosis.headline).toMatch(
      /^Several functions together \((?=[^)]*reports-worker)(?=[^)]*export-worker)/,
    );
    expect(diagnosis.victims).toEqual(expect.arrayContaining(['api', 'web']));
  });

  it('function-reserved-concurrency-too-low: a function throttled at its own cap', async () => {
    const scenario = scenarioWith([synthetic('capped', { reservedConcurrency: 2 })], {
      timeScale: 10,
      account: { concurrencyLimit: 50, unreservedMinimum: 5 },
      traffic: [{ path: '/capped', rate: 15 }],
    });
    const { diagnosis } = await diagnoseScenario(scenario, { paths: ['/capped'], rate: 5, seconds: 4 });
    expect(diagnosis.rootCause).toBe('function-reserved-concurrency-too-low');
    expect(diagnosis.culprit).toBe('capped');
  });

  it('scaling-rate-limit: a burst faster than the scaling rate while the pool has room', async () => {
    const scenario = scenarioWith([synthetic('bursty', {}, { duration: { kind: 'fixed', value: '2s' } })], {
      timeScale: 10,
      account: {
        concurrencyLimit: 200,
        unreservedMinimum: 20,
        scalingRate: { increment: 3, interval: '10s' },
      },
      traffic: [{ path: '/bursty', rate: 20 }],
    });
    const { diagnosis } = await diagnoseScenario(scenario, { paths: ['/bursty'], rate: 5, seconds: 4 });
    expect(diagnosis.rootCause).toBe('scaling-rate-limit');
    expect(diagnosis.culprit).toBe('bursty');
  });

  it('function-errors: unhandled errors in the function', async () => {
    const scenario = scenarioWith([synthetic('flaky', {}, { errorRate: 0.3 })], { timeScale: 10 });
    const { diagnosis } = await diagnoseScenario(scenario, { paths: ['/flaky'], rate: 10, seconds: 3 });
    expect(diagnosis.rootCause).toBe('function-errors');
    expect(diagnosis.findings[0]?.evidence.map((e) => e.text).join('\n')).toMatch(/LambdaUnhandled/);
  });

  it('invalid-response: a handler that returns garbage', async () => {
    const scenario = scenarioWith([{ name: 'garbage', timeout: '3s', handler: { module: 'garbage.mjs' } }], {
      timeScale: 10,
    });
    const { diagnosis } = await diagnoseScenario(scenario, { paths: ['/garbage'], rate: 10, seconds: 3 });
    expect(diagnosis.rootCause).toBe('invalid-response');
  });

  it('function-timeout: a handler that never answers', async () => {
    const scenario = scenarioWith([{ name: 'stuck', timeout: '1s', handler: { module: 'hangs.mjs' } }], {
      timeScale: 10,
    });
    const { diagnosis } = await diagnoseScenario(scenario, { paths: ['/stuck'], rate: 5, seconds: 3 });
    expect(diagnosis.rootCause).toBe('function-timeout');
    expect(diagnosis.culprit).toBe('stuck');
  });

  it('healthy: nothing wrong (and the CLI exits 0 on it)', async () => {
    const scenario = scenarioWith([synthetic('fine')], { timeScale: 10 });
    let cli: { code: number; doc: { rootCause: string } } | undefined;
    const { diagnosis } = await diagnoseScenario(scenario, {
      paths: ['/fine'],
      rate: 10,
      seconds: 2,
      afterDiagnosis: async ({ endpointUrl, dir }) => {
        const { accessLogs } = scenario.loadBalancer;
        const prefix = accessLogs.prefix ? `${accessLogs.prefix}/` : '';
        const c = fakeCli({ env: NO_AWS_CONFIG_ENV });
        const code = await main(
          [
            'diagnose',
            '--json',
            '--probe',
            dir,
            '--logs',
            `s3://${accessLogs.bucket}/${prefix}AWSLogs/${scenario.account.id}/elasticloadbalancing/${scenario.account.region}/`,
            '--endpoint-url',
            endpointUrl,
            '--region',
            scenario.account.region,
          ],
          c.ctx,
        );
        cli = { code, doc: JSON.parse(c.out.join('')) };
      },
    });
    expect(diagnosis.rootCause).toBe('healthy');
    expect(diagnosis.findings).toEqual([]);
    expect(cli?.doc.rootCause).toBe('healthy');
    expect(cli?.code).toBe(0);
  });
});
