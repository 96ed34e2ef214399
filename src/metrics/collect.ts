import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  ListMetricsCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { type AwsConnection, awsClientConfig, toRemoteError } from '../common/aws.js';
import type { TimeSeries } from '../diagnose/evidence.js';
import { type NoisyNeighbourRanking, rankNoisyNeighbours } from './rank.js';

/** GetMetricData limits: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html */
export const GetMetricDataLimits = { maxQueries: 500, maxDatapoints: 100_800 } as const;

export interface FunctionMetrics {
  name: string;
  arn: string;
  /** Reserved concurrency; null = none (shared pool). */
  reserved: number | null;
  timeoutSec?: number | undefined;
  memoryMb?: number | undefined;
  series: {
    concurrentExecutions: TimeSeries;
    throttles: TimeSeries;
    invocations: TimeSeries;
    errors: TimeSeries;
    durationAvg: TimeSeries;
    durationMax: TimeSeries;
  };
}

export interface AlbMetrics {
  loadBalancer: string;
  targetGroup?: string | undefined;
  series: {
    elb502: TimeSeries;
    elb5xx: TimeSeries;
    requests: TimeSeries;
    lambdaUserError: TimeSeries;
    lambdaInternalError: TimeSeries;
  };
}

/** The `metrics --json` document (docs/metrics.md); diagnose, fix and plan read it. */
export interface MetricsReport {
  window: { startMs: number; endMs: number; periodSec: number };
  region: string;
  account: { limit: number; unreservedLimit: number };
  functions: FunctionMetrics[];
  accountSeries: {
    concurrentExecutions: TimeSeries;
    unreservedConcurrentExecutions: TimeSeries;
    claimedAccountConcurrency: TimeSeries;
    throttles: TimeSeries;
  };
  alb: AlbMetrics[];
  ranking: NoisyNeighbourRanking;
  warnings: string[];
}

export interface CollectOptions extends AwsConnection {
  startMs: number;
  endMs: number;
  periodSec?: number | undefined;
  signal?: AbortSignal | undefined;
}

interface Query {
  namespace: string;
  metricName: string;
  dimensions: { Name: string; Value: string }[];
  stat: string;
}

const empty = (): TimeSeries => ({ timestampsMs: [], values: [] });

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/**
 * Runs any number of metric queries through GetMetricData: batched to the per-call query and
 * datapoint limits, time-split when one query alone would exceed them, NextToken followed.
 */
export async function getMetricSeries(
  cw: CloudWatchClient,
  queries: readonly Query[],
  startMs: number,
  endMs: number,
  periodSec: number,
  signal?: AbortSignal,
): Promise<TimeSeries[]> {
  const results = queries.map(() => new Map<number, number>());
  const pointsPerQuery = Math.max(1, Math.ceil((endMs - startMs) / (periodSec * 1000)));
  // A window longer than the datapoint limit for a single query is fetched in slices.
  const sliceMs =
    pointsPerQuery > GetMetricDataLimits.maxDatapoints
      ? GetMetricDataLimits.maxDatapoints * periodSec * 1000
      : endMs - startMs;
  const slicePoints = Math.min(pointsPerQuery, GetMetricDataLimits.maxDatapoints);
  const batchSize = Math.max(
    1,
    Math.min(GetMetricDataLimits.maxQueries, Math.floor(GetMetricDataLimits.maxDatapoints / slicePoints)),
  );
  for (let from = startMs; from < endMs; from += sliceMs) {
    const to = Math.min(endMs, from + sliceMs);
    for (let b = 0; b < queries.length; b += batchSize) {
      const batch = queries.slice(b, b + batchSize);
      const MetricDataQueries: MetricDataQuery[] = batch.map((q, i) => ({
        Id: `q${b + i}`,
        ReturnData: true,
        MetricStat: {
          Metric: { Namespace: q.namespace, MetricName: q.metricName, Dimensions: q.dimensions },
          Period: periodSec,
          Stat: q.stat,
        },
      }));
      let token: string | undefined;
      do {
        let page: GetMetricDataCommandOutput;
        try {
          page = await cw.send(
            new GetMetricDataCommand({
              MetricDataQueries,
              StartTime: new Date(from),
              EndTime: new Date(to),
              ScanBy: 'TimestampAscending',
              NextToken: token,
            }),
            { abortSignal: signal },
          );
        } catch (error) {
          throw toRemoteError(error, 'CloudWatch GetMetricData');
        }
        const out = page.MetricDataResults as
          | { Id?: string; Timestamps?: Date[]; Values?: number[] }[]
          | undefined;
        for (const r of out ?? []) {
          const index = Number((r.Id ?? 'q-1').slice(1));
          const map = results[index];
          if (!map) continue;
          const stamps = r.Timestamps ?? [];
          for (let i = 0; i < stamps.length; i++) map.set((stamps[i] as Date).getTime(), r.Values?.[i] ?? 0);
        }
        token = page.NextToken;
      } while (token);
    }
  }
  return results.map((m) => {
    const ts = [...m.keys()].sort((a, b) => a - b);
    return { timestampsMs: ts, values: ts.map((t) => m.get(t) ?? 0) };
  });
}

const FUNCTION_METRICS = [
  ['concurrentExecutions', 'ConcurrentExecutions', 'Maximum'],
  ['throttles', 'Throttles', 'Sum'],
  ['invocations', 'Invocations', 'Sum'],
  ['errors', 'Errors', 'Sum'],
  ['durationAvg', 'Duration', 'Average'],
  ['durationMax', 'Duration', 'Maximum'],
] as const;

const ACCOUNT_METRICS = [
  ['concurrentExecutions', 'ConcurrentExecutions', 'Maximum'],
  ['unreservedConcurrentExecutions', 'UnreservedConcurrentExecutions', 'Maximum'],
  ['claimedAccountConcurrency', 'ClaimedAccountConcurrency', 'Maximum'],
  ['throttles', 'Throttles', 'Sum'],
] as const;

const ALB_METRICS = [
  ['elb502', 'HTTPCode_ELB_502_Count'],
  ['elb5xx', 'HTTPCode_ELB_5XX_Count'],
  ['requests', 'RequestCount'],
  ['lambdaUserError', 'LambdaUserError'],
  ['lambdaInternalError', 'LambdaInternalError'],
] as const;

/** Reads Lambda and ALB CloudWatch metrics for a window and ranks the functions by pool share. */
export async function collectMetrics(options: CollectOptions): Promise<MetricsReport> {
  const periodSec = options.periodSec ?? 60;
  const config = await awsClientConfig(options);
  const lambda = new LambdaClient(config);
  const cw = new CloudWatchClient(config);
  const warnings: string[] = [];
  try {
    const functions: { name: string; arn: string; timeoutSec?: number; memoryMb?: number }[] = [];
    let marker: string | undefined;
    do {
      let page: import('@aws-sdk/client-lambda').ListFunctionsCommandOutput;
      try {
        page = await lambda.send(new ListFunctionsCommand({ Marker: marker }), {
          abortSignal: options.signal,
        });
      } catch (error) {
        throw toRemoteError(error, 'Lambda ListFunctions');
      }
      for (const f of page.Functions ?? []) {
        if (f.FunctionName)
          functions.push({
            name: f.FunctionName,
            arn: f.FunctionArn ?? '',
            timeoutSec: f.Timeout,
            memoryMb: f.MemorySize,
          });
      }
      marker = page.NextMarker;
    } while (marker);
    let limit = 1000;
    let unreservedLimit = 1000;
    try {
      const s = await lambda.send(new GetAccountSettingsCommand({}), { abortSignal: options.signal });
      limit = s.AccountLimit?.ConcurrentExecutions ?? limit;
      unreservedLimit = s.AccountLimit?.UnreservedConcurrentExecutions ?? limit;
    } catch (error) {
      warnings.push(
        `${toRemoteError(error, 'Lambda GetAccountSettings').message}; assuming the default limit of 1000`,
      );
    }
    const reserved = await mapLimited(functions, 8, async (f) => {
      try {
        const r = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: f.name }), {
          abortSignal: options.signal,
        });
        return r.ReservedConcurrentExecutions ?? null;
      } catch (error) {
        warnings.push(toRemoteError(error, `Lambda GetFunctionConcurrency ${f.name}`).message);
        return null;
      }
    });

    // ALB dimension sets, as CloudWatch has them (a target group's metrics carry LoadBalancer too).
    const albSets = new Map<string, { loadBalancer: string; targetGroup?: string }>();
    for (const [, metricName] of ALB_METRICS) {
      let token: string | undefined;
      do {
        let page: import('@aws-sdk/client-cloudwatch').ListMetricsCommandOutput;
        try {
          page = await cw.send(
            new ListMetricsCommand({
              Namespace: 'AWS/ApplicationELB',
              MetricName: metricName,
              NextToken: token,
            }),
            {
              abortSignal: options.signal,
            },
          );
        } catch (error) {
          throw toRemoteError(error, 'CloudWatch ListMetrics');
        }
        for (const m of page.Metrics ?? []) {
          const dims = new Map((m.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? '']));
          if (dims.has('AvailabilityZone')) continue;
          const lb = dims.get('LoadBalancer');
          if (!lb) continue;
          const tg = dims.get('TargetGroup');
          if ([...dims.keys()].some((k) => k !== 'LoadBalancer' && k !== 'TargetGroup')) continue;
          albSets.set(`${lb}|${tg ?? ''}`, tg ? { loadBalancer: lb, targetGroup: tg } : { loadBalancer: lb });
        }
        token = page.NextToken;
      } while (token);
    }
    const albList = [...albSets.values()].sort((a, b) =>
      `${a.loadBalancer}${a.targetGroup}`.localeCompare(`${b.loadBalancer}${b.targetGroup}`),
    );

    const queries: Query[] = [];
    for (const f of functions) {
      for (const [, metricName, stat] of FUNCTION_METRICS) {
        queries.push({
          namespace: 'AWS/Lambda',
          metricName,
          dimensions: [{ Name: 'FunctionName', Value: f.name }],
          stat,
        });
      }
    }
    for (const [, metricName, stat] of ACCOUNT_METRICS)
      queries.push({ namespace: 'AWS/Lambda', metricName, dimensions: [], stat });
    for (const a of albList) {
      const dimensions = [{ Name: 'LoadBalancer', Value: a.loadBalancer }];
      if (a.targetGroup) dimensions.push({ Name: 'TargetGroup', Value: a.targetGroup });
      for (const [, metricName] of ALB_METRICS)
        queries.push({ namespace: 'AWS/ApplicationELB', metricName, dimensions, stat: 'Sum' });
    }
    const series = await getMetricSeries(
      cw,
      queries,
      options.startMs,
      options.endMs,
      periodSec,
      options.signal,
    );
    let q = 0;
    const take = () => series[q++] ?? empty();
    const fnMetrics: FunctionMetrics[] = functions.map((f, i) => {
      const s = Object.fromEntries(
        FUNCTION_METRICS.map(([key]) => [key, take()]),
      ) as FunctionMetrics['series'];
      return {
        name: f.name,
        arn: f.arn,
        reserved: reserved[i] ?? null,
        timeoutSec: f.timeoutSec,
        memoryMb: f.memoryMb,
        series: s,
      };
    });
    const accountSeries = Object.fromEntries(
      ACCOUNT_METRICS.map(([key]) => [key, take()]),
    ) as MetricsReport['accountSeries'];
    const alb: AlbMetrics[] = albList.map((a) => ({
      ...a,
      series: Object.fromEntries(ALB_METRICS.map(([key]) => [key, take()])) as AlbMetrics['series'],
    }));
    if (functions.length === 0) warnings.push('no Lambda functions in this account and region');
    if (accountSeries.concurrentExecutions.values.length === 0) {
      warnings.push(
        `no AWS/Lambda ConcurrentExecutions datapoints between ${new Date(options.startMs).toISOString()} and ${new Date(options.endMs).toISOString()}`,
      );
    }
    const report: Omit<MetricsReport, 'ranking'> = {
      window: { startMs: options.startMs, endMs: options.endMs, periodSec },
      region: config.region,
      account: { limit, unreservedLimit },
      functions: fnMetrics,
      accountSeries,
      alb,
      warnings,
    };
    return { ...report, ranking: rankNoisyNeighbours(report) };
  } finally {
    lambda.destroy();
    cw.destroy();
  }
}
