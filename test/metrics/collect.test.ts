import { existsSync } from 'node:fs';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabBackend } from '../../src/lab/backend.js';
import { type CollectClients, collectMetrics, type MetricsReport } from '../../src/metrics/index.js';
import {
  albMetric,
  createMemoryBackend,
  lambdaMetric,
  type MemoryBackend,
  REGION,
} from '../helpers/memory-backend.js';

const SERVER = new URL('../../src/lab/aws-api/server.ts', import.meta.url);
type Endpoint = { url: string; close(): Promise<void> };
type StartFn = (b: LabBackend, o: { host?: string; port?: number }) => Promise<Endpoint>;

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;
const LB = 'app/shop/50dc6c495c0c9188';
const TG = 'targetgroup/api/73e2d6bc24d8a067';
const storm = (m: number) => m >= 3 && m < 8;

/** 90 functions (one reserved), a 5-minute storm in which reports-worker fills the shared pool. */
function seedIncident(b: MemoryBackend, idle = 87): void {
  b.addFunction('reports-worker');
  b.addFunction('api');
  b.addFunction('web', 10);
  for (let i = 0; i < idle; i++) b.addFunction(`idle-${String(i).padStart(2, '0')}`);
  for (let m = 0; m < 10; m++) {
    const t = T0 + m * MIN;
    const s = storm(m);
    // Two raw datapoints per minute: Maximum and Sum must aggregate them.
    for (const dt of [0, 30_000]) {
      b.addDatapoint(lambdaMetric('ConcurrentExecutions', 'reports-worker'), t + dt, s ? (dt ? 80 : 70) : 5);
      b.addDatapoint(lambdaMetric('ConcurrentExecutions', 'api'), t + dt, s ? 8 : 6);
      b.addDatapoint(lambdaMetric('Throttles', 'api'), t + dt, s ? 12.5 : 0);
      b.addDatapoint(lambdaMetric('Invocations', 'api'), t + dt, 300);
      b.addDatapoint(lambdaMetric('Duration', 'api'), t + dt, dt ? 140 : 100);
    }
    b.addDatapoint(lambdaMetric('ConcurrentExecutions', 'web'), t, 2);
    b.addDatapoint(lambdaMetric('ConcurrentExecutions'), t, s ? 90 : 13);
    b.addDatapoint(lambdaMetric('UnreservedConcurrentExecutions'), t, s ? 88 : 11);
    b.addDatapoint(lambdaMetric('Throttles'), t, s ? 25 : 0);
    b.addDatapoint(albMetric('HTTPCode_ELB_502_Count', LB, TG), t, s ? 25 : 0);
    b.addDatapoint(albMetric('HTTPCode_ELB_502_Count', LB), t, s ? 25 : 0);
    b.addDatapoint(albMetric('RequestCount', LB, TG), t, 600);
    b.addDatapoint(albMetric('LambdaUserError', LB, TG), t, 0);
    // Per-AZ sets exist in CloudWatch too; the collector must skip them.
    b.addDatapoint(
      {
        namespace: 'AWS/ApplicationELB',
        metricName: 'HTTPCode_ELB_502_Count',
        dimensions: [
          { name: 'LoadBalancer', value: LB },
          { name: 'AvailabilityZone', value: 'eu-west-1a' },
        ],
      },
      t,
      s ? 25 : 0,
    );
  }
}

interface Recorded {
  command: string;
  input: Record<string, unknown>;
}

/** SDK clients against the endpoint, recording every command sent. */
function clientsFor(url: string, log: Recorded[]): CollectClients & { destroy(): void } {
  const config = {
    region: REGION,
    endpoint: url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  const lambda = new LambdaClient(config);
  const cloudwatch = new CloudWatchClient(config);
  for (const c of [lambda, cloudwatch]) {
    c.middlewareStack.add(
      (next, context) => async (args) => {
        log.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
  }
  return {
    lambda,
    cloudwatch,
    destroy() {
      lambda.destroy();
      cloudwatch.destroy();
    },
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const minutes = (...ms: number[]) => ms.map((m) => T0 + m * MIN);

describe.skipIf(!existsSync(SERVER))('collectMetrics against the lab AWS endpoint', () => {
  let backend: MemoryBackend;
  let endpoint: Endpoint;
  let log: Recorded[];
  let clients: CollectClients & { destroy(): void };
  let report: MetricsReport;

  beforeAll(async () => {
    const { startAwsEndpoint } = (await import(SERVER.href)) as { startAwsEndpoint: StartFn };
    backend = createMemoryBackend({ accountLimit: 100 });
    seedIncident(backend);
    endpoint = await startAwsEndpoint(backend, { host: '127.0.0.1', port: 0 });
    log = [];
    clients = clientsFor(endpoint.url, log);
    report = await collectMetrics(clients, { startMs: T0 + 15_000, endMs: T0 + 10 * MIN });
  });
  afterAll(async () => {
    clients?.destroy();
    await endpoint?.close();
  });

  it('lists every function across ListFunctions pages, with reserved concurrency', () => {
    expect(report.functions).toHaveLength(90);
    expect(log.filter((c) => c.command === 'ListFunctionsCommand')).toHaveLength(2);
    expect(log.filter((c) => c.command === 'GetFunctionConcurrencyCommand')).toHaveLength(90);
    const names = report.functions.map((f) => f.name);
    expect(names).toEqual([...names].sort());
    const web = report.functions.find((f) => f.name === 'web');
    expect(web?.reserved).toBe(10);
    expect(web?.arn).toMatch(/^arn:aws:lambda:eu-west-1:\d{12}:function:web$/);
    expect(report.functions.filter((f) => f.reserved !== null).map((f) => f.name)).toEqual(['web']);
    expect(report.account).toEqual({ limit: 100, unreservedLimit: 90, limitAssumed: false });
    expect(report.region).toBe(REGION);
  });

  it('batches GetMetricData within 500 queries per call and keeps every series', () => {
    const calls = log.filter((c) => c.command === 'GetMetricDataCommand');
    const sizes = calls.map((c) => (c.input.MetricDataQueries as unknown[]).length);
    // 90 functions x 6 + 4 account + 2 ALB sets x 5 = 554 queries.
    expect(sum(sizes)).toBe(554);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    for (const n of sizes) expect(n).toBeLessThanOrEqual(500);
  });

  it('aligns the window and series to the period and aggregates with the right statistic', () => {
    expect(report.window).toEqual({ startMs: T0, endMs: T0 + 10 * MIN, periodSec: 60 });
    const worker = report.functions.find((f) => f.name === 'reports-worker')!;
    expect(worker.series.concurrentExecutions).toEqual({
      timestampsMs: minutes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
      values: [5, 5, 5, 80, 80, 80, 80, 80, 5, 5],
    });
    const api = report.functions.find((f) => f.name === 'api')!;
    expect(api.series.throttles.values).toEqual([0, 0, 0, 25, 25, 25, 25, 25, 0, 0]);
    expect(api.series.invocations.values[0]).toBe(600);
    expect(api.series.durationAvg.values[0]).toBe(120);
    expect(api.series.durationMax.values[0]).toBe(140);
    expect(api.series.errors).toEqual({ timestampsMs: [], values: [] });
    expect(report.accountSeries.unreservedConcurrentExecutions.values[4]).toBe(88);
    expect(report.accountSeries.claimedAccountConcurrency.values).toEqual([]);
    for (const f of report.functions) {
      const ts = f.series.concurrentExecutions.timestampsMs;
      for (const t of ts) expect(t % MIN).toBe(0);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
  });

  it('discovers the ALB LoadBalancer and LoadBalancer+TargetGroup sets, not the per-AZ ones', () => {
    expect(report.alb.map((a) => [a.loadBalancer, a.targetGroup])).toEqual([
      [LB, undefined],
      [LB, TG],
    ]);
    const tg = report.alb[1]!;
    expect(sum(tg.series.elb502.values)).toBe(125);
    expect(sum(tg.series.requests.values)).toBe(6000);
    expect(tg.series.lambdaUserError.values).toEqual(new Array(10).fill(0));
    expect(tg.series.lambdaInternalError.values).toEqual([]);
  });

  it('names the noisy neighbour and its victims', () => {
    expect(report.ranking.culprit).toBe('reports-worker');
    expect(report.ranking.victims).toEqual(['api']);
    expect(report.ranking.throttledPeriodsMs).toEqual(minutes(3, 4, 5, 6, 7));
    expect(report.ranking.poolFullPeriods).toBe(5);
    expect(report.ranking.sharedPoolSize).toBe(90);
    expect(report.ranking.functions[0]).toMatchObject({
      name: 'reports-worker',
      unreserved: true,
      peakConcurrency: 80,
    });
    expect(report.ranking.functions[0]?.share).toBeCloseTo(80 / 90, 6);
    expect(report.warnings).toEqual([]);
  });

  it('follows NextToken when a page holds fewer datapoints than the call returns', async () => {
    const paged: Recorded[] = [];
    const c = clientsFor(endpoint.url, paged);
    try {
      const r = await collectMetrics(c, { startMs: T0, endMs: T0 + 10 * MIN, maxDatapointsPerPage: 7 });
      expect(paged.filter((x) => x.command === 'GetMetricDataCommand').some((x) => x.input.NextToken)).toBe(
        true,
      );
      expect(r).toEqual(report);
    } finally {
      c.destroy();
    }
  });

  it('splits the window in time when a query would exceed the datapoint limit', async () => {
    const split: Recorded[] = [];
    const small = createMemoryBackend({ accountLimit: 100 });
    seedIncident(small, 0);
    const ep = await startAwsEndpoint(small);
    const c = clientsFor(ep.url, split);
    try {
      const whole = await collectMetrics(c, { startMs: T0, endMs: T0 + 10 * MIN });
      split.length = 0;
      const sliced = await collectMetrics(c, {
        startMs: T0,
        endMs: T0 + 10 * MIN,
        limits: { maxQueries: 4, maxDatapoints: 4 },
      });
      const calls = split.filter((x) => x.command === 'GetMetricDataCommand');
      for (const x of calls) {
        const span = (x.input.EndTime as Date).getTime() - (x.input.StartTime as Date).getTime();
        expect(span).toBeLessThanOrEqual(4 * MIN);
        expect((x.input.MetricDataQueries as unknown[]).length).toBe(1);
      }
      expect(calls.length).toBe(3 * (3 * 6 + 4 + 2 * 5));
      expect(sliced).toEqual(whole);
      expect(sliced.ranking.culprit).toBe('reports-worker');
    } finally {
      c.destroy();
      await ep.close();
    }
  });

  it('reports an empty window as warnings, not an error', async () => {
    const c = clientsFor(endpoint.url, []);
    try {
      const r = await collectMetrics(c, { startMs: T0 - 2 * 3_600_000, endMs: T0 - 3_600_000 });
      expect(r.functions).toHaveLength(90);
      expect(r.accountSeries.concurrentExecutions.values).toEqual([]);
      expect(r.warnings.join('\n')).toMatch(/no AWS\/Lambda datapoints in eu-west-1/);
      expect(r.ranking).toMatchObject({
        culprit: null,
        victims: [],
        sentence: 'no throttling in the window',
      });
      expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    } finally {
      c.destroy();
    }
  });

  it('builds its own clients from a connection (placeholder credentials for an endpoint)', async () => {
    const r = await collectMetrics({
      endpointUrl: endpoint.url,
      region: REGION,
      env: {},
      startMs: T0,
      endMs: T0 + 10 * MIN,
    });
    expect(r).toEqual(report);
  });

  it('names the operation when the endpoint cannot be reached', async () => {
    await expect(
      collectMetrics({
        endpointUrl: 'http://127.0.0.1:9',
        region: REGION,
        env: {},
        startMs: T0,
        endMs: T0 + MIN,
      }),
    ).rejects.toMatchObject({ code: 'TS_AWS_UNREACHABLE', exitCode: 4, message: /Lambda ListFunctions/ });
  });

  async function startAwsEndpoint(b: LabBackend): Promise<Endpoint> {
    const { startAwsEndpoint: start } = (await import(SERVER.href)) as { startAwsEndpoint: StartFn };
    return start(b, { host: '127.0.0.1', port: 0 });
  }
});
