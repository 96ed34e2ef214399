/** The collector against scripted clients: refusals it works around, refusals it cannot, and call planning. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CollectClients, collectMetrics, planMetricDataCalls } from '../../src/metrics/index.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

type Handler = (input: Record<string, unknown>) => unknown;
const denied = (action: string) => () => {
  throw Object.assign(new Error(`User: arn:aws:iam::1:user/ci is not authorized to perform: ${action}`), {
    name: 'AccessDeniedException',
    $metadata: { httpStatusCode: 403 },
  });
};

/** Clients whose `send` dispatches on the command's class name to scripted handlers. */
function scripted(handlers: Record<string, Handler>): CollectClients & { calls: string[] } {
  const calls: string[] = [];
  const client = {
    config: { region: async () => 'eu-west-1' },
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push(name);
      const h = handlers[name];
      if (!h) throw new Error(`unexpected ${name}`);
      return h(command.input);
    },
  };
  return {
    calls,
    lambda: client as unknown as LambdaClient,
    // The SDK's paginators take only a client of their service's class.
    cloudwatch: Object.setPrototypeOf({ ...client }, CloudWatchClient.prototype) as CloudWatchClient,
  };
}

/** GetMetricData answering every query with one datapoint at T0: value = query index. */
const echoMetricData: Handler = (input) => ({
  MetricDataResults: (input.MetricDataQueries as { Id: string }[]).map((q) => ({
    Id: q.Id,
    Timestamps: [new Date(T0)],
    Values: [Number(q.Id.slice(1))],
    StatusCode: 'Complete',
  })),
});

const happy: Record<string, Handler> = {
  ListFunctions: () => ({
    Functions: [{ FunctionName: 'api', FunctionArn: 'arn:api', Timeout: 3, MemorySize: 128 }],
  }),
  GetAccountSettings: () => ({
    AccountLimit: { ConcurrentExecutions: 50, UnreservedConcurrentExecutions: 50 },
  }),
  GetFunctionConcurrency: () => ({}),
  ListMetrics: () => ({ Metrics: [] }),
  GetMetricData: echoMetricData,
};

const window = { startMs: T0, endMs: T0 + 3 * MIN };

describe('collectMetrics with partial permissions', () => {
  it('assumes the default limit when GetAccountSettings is refused, and says so', async () => {
    const c = scripted({ ...happy, GetAccountSettings: denied('lambda:GetAccountSettings') });
    const r = await collectMetrics(c, window);
    expect(r.account).toEqual({ limit: 1000, unreservedLimit: 1000, limitAssumed: true });
    expect(r.warnings[0]).toMatch(
      /^Lambda GetAccountSettings: the caller lacks lambda:GetAccountSettings .*assuming the default account limit of 1000$/,
    );
  });

  it('finds functions through ListMetrics when ListFunctions is refused', async () => {
    const c = scripted({
      ...happy,
      ListFunctions: denied('lambda:ListFunctions'),
      ListMetrics: (input) =>
        input.Namespace === 'AWS/Lambda'
          ? {
              Metrics: [
                { Dimensions: [{ Name: 'FunctionName', Value: 'worker' }] },
                {
                  Dimensions: [
                    { Name: 'FunctionName', Value: 'worker' },
                    { Name: 'Resource', Value: 'worker:1' },
                  ],
                },
                { Dimensions: [{ Name: 'FunctionName', Value: 'api' }] },
              ],
            }
          : { Metrics: [] },
    });
    const r = await collectMetrics(c, window);
    expect(r.functions.map((f) => [f.name, f.arn])).toEqual([
      ['api', ''],
      ['worker', ''],
    ]);
    expect(r.warnings.join('\n')).toMatch(/lacks lambda:ListFunctions .*functions taken from CloudWatch/);
  });

  it('reports reserved concurrency it could not read in one warning', async () => {
    const fns = Array.from({ length: 20 }, (_, i) => ({ FunctionName: `f${i}`, FunctionArn: `arn:f${i}` }));
    const c = scripted({
      ...happy,
      ListFunctions: () => ({ Functions: fns }),
      GetFunctionConcurrency: denied('lambda:GetFunctionConcurrency'),
    });
    const r = await collectMetrics(c, { ...window, concurrency: 3 });
    expect(r.functions.every((f) => f.reserved === null)).toBe(true);
    expect(r.warnings.filter((w) => w.includes('GetFunctionConcurrency'))).toEqual([
      expect.stringMatching(
        /^reserved concurrency unknown for 20 function\(s\), taken as none: .*lambda:GetFunctionConcurrency/,
      ),
    ]);
  });

  it('follows ListMetrics NextToken for the ALB dimension sets', async () => {
    const c = scripted({
      ...happy,
      ListMetrics: (input) => {
        if (input.Namespace !== 'AWS/ApplicationELB' || input.MetricName !== 'HTTPCode_ELB_502_Count')
          return {};
        return input.NextToken === 'p2'
          ? { Metrics: [{ Dimensions: [{ Name: 'LoadBalancer', Value: 'app/b/2' }] }] }
          : {
              Metrics: [
                {
                  Dimensions: [
                    { Name: 'LoadBalancer', Value: 'app/a/1' },
                    { Name: 'TargetGroup', Value: 'targetgroup/t/1' },
                  ],
                },
              ],
              NextToken: 'p2',
            };
      },
    });
    const r = await collectMetrics(c, window);
    expect(r.alb.map((a) => a.targetGroup ?? a.loadBalancer)).toEqual(['targetgroup/t/1', 'app/b/2']);
    expect(c.calls.filter((x) => x === 'ListMetrics').length).toBe(6);
  });

  it('cannot work without GetMetricData: a one-line error naming the permission', async () => {
    const c = scripted({ ...happy, GetMetricData: denied('cloudwatch:GetMetricData') });
    await expect(collectMetrics(c, window)).rejects.toMatchObject({
      code: 'TS_AWS_ACCESS_DENIED',
      exitCode: 4,
      message: expect.stringMatching(
        /^CloudWatch GetMetricData: the caller lacks cloudwatch:GetMetricData \(/,
      ),
    });
  });

  it('stops at missing credentials instead of degrading', async () => {
    const noCreds = () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
    };
    const c = scripted({ ...happy, ListFunctions: noCreds });
    await expect(collectMetrics(c, window)).rejects.toMatchObject({
      code: 'TS_AWS_NO_CREDENTIALS',
      exitCode: 4,
    });
  });

  it('passes on what CloudWatch says about forbidden or partial results', async () => {
    const c = scripted({
      ...happy,
      GetMetricData: (input) => {
        const out = echoMetricData(input) as { MetricDataResults: Record<string, unknown>[] };
        out.MetricDataResults[0] = {
          ...out.MetricDataResults[0],
          StatusCode: 'Forbidden',
          Messages: [{ Code: 'Forbidden', Value: 'no access to AWS/Lambda' }],
        };
        return out;
      },
    });
    const r = await collectMetrics(c, window);
    expect(r.warnings).toContain(
      'GetMetricData Forbidden for AWS/Lambda ConcurrentExecutions: no access to AWS/Lambda',
    );
  });

  it('rejects periods CloudWatch does not accept and inverted windows', async () => {
    const c = scripted(happy);
    await expect(collectMetrics(c, { ...window, periodSec: 45 })).rejects.toMatchObject({ code: 'TS_USAGE' });
    await expect(collectMetrics(c, { startMs: T0, endMs: T0 })).rejects.toMatchObject({ code: 'TS_USAGE' });
    expect(c.calls).toEqual([]);
  });

  it('warns when the window is older than CloudWatch keeps datapoints of that period', async () => {
    const r = await collectMetrics(scripted(happy), { ...window, nowMs: T0 + 20 * 86_400_000 });
    expect(r.warnings.join('\n')).toMatch(/CloudWatch keeps 1-minute datapoints 15 days; use --period 300/);
  });
});

describe('planMetricDataCalls', () => {
  const limits = { maxQueries: 500, maxDatapoints: 100_800 };

  it('fills calls up to 500 queries for a short window', () => {
    const calls = planMetricDataCalls(1234, T0, T0 + 180 * MIN, 60, limits);
    expect(calls.map((c) => c.count)).toEqual([500, 500, 234]);
    expect(calls.every((c) => c.startMs === T0 && c.endMs === T0 + 180 * MIN)).toBe(true);
  });

  it('lowers the batch for long windows and splits a window longer than the datapoint limit', () => {
    const week = planMetricDataCalls(10, T0, T0 + 7 * 1440 * MIN, 60, limits);
    expect(week.map((c) => c.count)).toEqual([10]);
    const month = planMetricDataCalls(3, T0, T0 + 30 * 1440 * MIN, 60, limits);
    expect(month.map((c) => c.count)).toEqual([2, 1]); // 43,200 points each: two per call
    const long = planMetricDataCalls(2, T0, T0 + 100 * 1440 * MIN, 60, limits);
    expect(long).toHaveLength(4);
    expect(long[0]).toEqual({ startMs: T0, endMs: T0 + 100_800 * MIN, first: 0, count: 1 });
    expect(long[3]?.endMs).toBe(T0 + 100 * 1440 * MIN);
  });

  it('property: every call within limits, every (query, period) covered exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 50 }),
        (queries, periods, maxQueries, maxDatapoints) => {
          const end = T0 + periods * MIN;
          const calls = planMetricDataCalls(queries, T0, end, 60, { maxQueries, maxDatapoints });
          const covered = new Map<string, number>();
          for (const c of calls) {
            const pts = Math.ceil((c.endMs - c.startMs) / MIN);
            expect(c.count).toBeLessThanOrEqual(maxQueries);
            expect(c.count * pts).toBeLessThanOrEqual(Math.max(maxDatapoints, pts));
            expect(pts).toBeLessThanOrEqual(maxDatapoints);
            for (let q = c.first; q < c.first + c.count; q++) {
              for (let t = c.startMs; t < c.endMs; t += MIN)
                covered.set(`${q}@${t}`, (covered.get(`${q}@${t}`) ?? 0) + 1);
            }
          }
          expect(covered.size).toBe(queries * periods);
          expect([...covered.values()].every((n) => n === 1)).toBe(true);
        },
      ),
    );
  });
});
