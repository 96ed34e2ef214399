import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { collectMetrics } from '../../src/metrics/collect.js';
import { createFakeBackend, type FakeBackend, REGION } from '../lab/aws-api/fake-backend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
let backend: FakeBackend;
let endpoint: { url: string; close(): Promise<void> };

const lambdaMetric = (metricName: string, fn?: string) => ({
  namespace: 'AWS/Lambda',
  metricName,
  dimensions: fn ? [{ name: 'FunctionName', value: fn }] : [],
});

beforeAll(async () => {
  backend = createFakeBackend();
  // 90 functions x 6 series + 4 account series = 544 queries: more than one GetMetricData call.
  backend.addFunction('reports-worker');
  backend.addFunction('api');
  backend.addFunction('web', 5);
  for (let i = 0; i < 87; i++) backend.addFunction(`idle-${String(i).padStart(2, '0')}`);
  for (let m = 0; m < 10; m++) {
    const t = T0 + m * 60_000;
    const storm = m >= 3 && m < 8;
    backend.addDatapoint(lambdaMetric('ConcurrentExecutions', 'reports-worker'), t, storm ? 40 : 5);
    backend.addDatapoint(lambdaMetric('ConcurrentExecutions', 'api'), t, storm ? 3 : 6);
    backend.addDatapoint(lambdaMetric('ConcurrentExecutions', 'web'), t, 2);
    backend.addDatapoint(lambdaMetric('Throttles', 'api'), t, storm ? 25 : 0);
    backend.addDatapoint(lambdaMetric('Invocations', 'api'), t, 600);
    backend.addDatapoint(lambdaMetric('Duration', 'api'), t, 120);
    backend.addDatapoint(lambdaMetric('ConcurrentExecutions'), t, storm ? 45 : 13);
    backend.addDatapoint(
      {
        namespace: 'AWS/ApplicationELB',
        metricName: 'HTTPCode_ELB_502_Count',
        dimensions: [{ name: 'LoadBalancer', value: 'app/shop/50dc6c495c0c9188' }],
      },
      t,
      storm ? 25 : 0,
    );
  }
  endpoint = await startAwsEndpoint(backend, { port: 0 });
});
afterAll(async () => endpoint?.close());

describe('collectMetrics against an AWS-compatible endpoint', () => {
  it('reads every function, batches past 500 queries, and names the noisy neighbour', async () => {
    const r = await collectMetrics({
      endpointUrl: endpoint.url,
      region: REGION,
      startMs: T0,
      endMs: T0 + 10 * 60_000,
    });
    expect(r.functions).toHaveLength(90);
    expect(r.account.limit).toBe(50);
    const worker = r.functions.find((f) => f.name === 'reports-worker');
    expect(worker?.series.concurrentExecutions.values).toEqual([5, 5, 5, 40, 40, 40, 40, 40, 5, 5]);
    expect(r.functions.find((f) => f.name === 'web')?.reserved).toBe(5);
    expect(r.functions.find((f) => f.name === 'api')?.series.durationAvg.values[0]).toBe(120);
    expect(r.accountSeries.concurrentExecutions.timestampsMs[0]).toBe(T0);
    expect(r.alb).toEqual([expect.objectContaining({ loadBalancer: 'app/shop/50dc6c495c0c9188' })]);
    expect(r.alb[0]?.series.elb502.values.reduce((a, b) => a + b, 0)).toBe(125);
    expect(r.ranking.culprit).toBe('reports-worker');
    expect(r.ranking.victims).toEqual(['api']);
    expect(r.ranking.throttledPeriodsMs).toHaveLength(5);
    expect(r.ranking.functions[0]?.share).toBeCloseTo(40 / 45, 5);
  });

  it('reports an empty window as a warning, not an error', async () => {
    const r = await collectMetrics({
      endpointUrl: endpoint.url,
      region: REGION,
      startMs: T0 - 7_200_000,
      endMs: T0 - 3_600_000,
    });
    expect(r.warnings.join('\n')).toMatch(/no AWS\/Lambda ConcurrentExecutions datapoints/);
    expect(r.ranking.culprit).toBeNull();
  });

  it('names the endpoint problem when it cannot be reached', async () => {
    await expect(
      collectMetrics({ endpointUrl: 'http://127.0.0.1:9', region: REGION, startMs: T0, endMs: T0 + 60_000 }),
    ).rejects.toThrow(/Lambda ListFunctions/);
  });
});
