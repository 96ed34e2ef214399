/**
 * Reads the CloudWatch evidence for a window: every Lambda function's concurrency, throttles,
 * invocations, errors and duration; the account-wide pool; the ALB's 5xx and Lambda target errors;
 * the account limit and each function's reserved concurrency. Then ranks the functions
 * (rank.ts). The result, `MetricsReport`, is the `metrics --json` document (docs/metrics.md).
 */
import {
  type CloudWatchClient,
  ListMetricsCommand,
  type ListMetricsCommandOutput,
  type MetricDataQuery,
  paginateGetMetricData,
} from '@aws-sdk/client-cloudwatch';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  type LambdaClient,
  ListFunctionsCommand,
  type ListFunctionsCommandOutput,
} from '@aws-sdk/client-lambda';
import { type AwsConnection, awsClientConfig, toRemoteError } from '../common/aws.js';
import { ThrottlescopeError, UsageError } from '../common/errors.js';
import { mapBounded } from '../common/map-bounded.js';
import { type NoisyNeighbourRanking, rankNoisyNeighbours } from './rank.js';
import { alignDown, alignUp, emptySeries, type TimeSeries } from './series.js';

/** GetMetricData per-call limits: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html */
export const GetMetricDataLimits = { maxQueries: 500, maxDatapoints: 100_800 } as const;

/** The default account concurrency limit, assumed when GetAccountSettings is refused. */
const DEFAULT_ACCOUNT_LIMIT = 1000;

export interface FunctionMetrics {
  name: string;
  /** Empty when the function was found through CloudWatch only (ListFunctions refused). */
  arn: string;
  /** Reserved concurrency; null = none (draws from the shared pool), or unknown (see warnings). */
  reserved: number | null;
  timeoutSec?: number | undefined;
  memoryMb?: number | undefined;
  series: {
    /** ConcurrentExecutions, Maximum. */
    concurrentExecutions: TimeSeries;
    /** Throttles, Sum. */
    throttles: TimeSeries;
    /** Invocations, Sum. */
    invocations: TimeSeries;
    /** Errors, Sum. */
    errors: TimeSeries;
    /** Duration, Average (ms). */
    durationAvg: TimeSeries;
    /** Duration, Maximum (ms). */
    durationMax: TimeSeries;
  };
}

export interface AlbMetrics {
  /** `app/<name>/<id>`. */
  loadBalancer: string;
  /** `targetgroup/<name>/<id>`; absent for the load balancer as a whole. */
  targetGroup?: string | undefined;
  /** All Sum. */
  series: {
    elb502: TimeSeries;
    elb5xx: TimeSeries;
    requests: TimeSeries;
    lambdaUserError: TimeSeries;
    lambdaInternalError: TimeSeries;
  };
}

/** The `metrics --json` document (docs/metrics.md, a public interface); diagnose, fix and plan read it. */
export interface MetricsReport {
  /** Aligned to the period: startMs rounded down, endMs rounded up. */
  window: { startMs: number; endMs: number; periodSec: number };
  region: string;
  account: {
    /** AccountLimit.ConcurrentExecutions. */
    limit: number;
    /** AccountLimit.UnreservedConcurrentExecutions (the limit minus all reservations). */
    unreservedLimit: number;
    /** True when GetAccountSettings was refused and the default of 1000 is assumed. */
    limitAssumed: boolean;
  };
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

export interface CollectClients {
  lambda: LambdaClient;
  cloudwatch: CloudWatchClient;
}

export interface CollectOptions {
  startMs: number;
  endMs: number;
  /** Seconds per datapoint: 1, 5, 10, 30 or a multiple of 60. Default 60. */
  periodSec?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Parallel GetFunctionConcurrency calls (default 8). */
  concurrency?: number | undefined;
  /** GetMetricData MaxDatapoints per page (default: the API's, 100,800); pages follow NextToken. */
  maxDatapointsPerPage?: number | undefined;
  /** Per-call limits to batch to (default GetMetricDataLimits). */
  limits?: { maxQueries: number; maxDatapoints: number } | undefined;
  /** "Now", for the data-retention warning (default Date.now()). */
  nowMs?: number | undefined;
  /** Called after each GetMetricData call. */
  onProgress?: ((p: MetricsProgress) => void) | undefined;
}

/** CloudWatch reads so far: GetMetricData calls done, of those planned (pages can add more). */
export interface MetricsProgress {
  queriesDone: number;
  queriesTotal: number;
}

export interface MetricQuery {
  namespace: string;
  metricName: string;
  dimensions: { name: string; value: string }[];
  stat: string;
}

/** One GetMetricData call (before pagination): queries [first, first+count) over [startMs, endMs). */
export interface MetricDataCall {
  startMs: number;
  endMs: number;
  first: number;
  count: number;
}

/**
 * Splits `queryCount` queries over an aligned window into calls within the per-call limits:
 * at most `maxQueries` queries and `maxDatapoints` datapoints each. A window longer than
 * `maxDatapoints` periods is cut into time slices of whole periods.
 */
export function planMetricDataCalls(
  queryCount: number,
  startMs: number,
  endMs: number,
  periodSec: number,
  limits: { maxQueries: number; maxDatapoints: number } = GetMetricDataLimits,
): MetricDataCall[] {
  if (queryCount === 0 || endMs <= startMs) return [];
  const periodMs = periodSec * 1000;
  const points = Math.max(1, Math.ceil((endMs - startMs) / periodMs));
  const slicePoints = Math.min(points, limits.maxDatapoints);
  const batch = Math.max(1, Math.min(limits.maxQueries, Math.floor(limits.maxDatapoints / slicePoints)));
  const calls: MetricDataCall[] = [];
  for (let from = startMs; from < endMs; from += slicePoints * periodMs) {
    const to = Math.min(endMs, from + slicePoints * periodMs);
    for (let first = 0; first < queryCount; first += batch) {
      calls.push({ startMs: from, endMs: to, first, count: Math.min(batch, queryCount - first) });
    }
  }
  return calls;
}

/** Runs one AWS call; failures become one-line ThrottlescopeErrors naming the operation. */
async function call<T>(operation: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (signal?.aborted) {
      throw new ThrottlescopeError('TS_INTERRUPTED', `${operation}: interrupted`, {
        cause: error,
      });
    }
    throw toRemoteError(error, operation);
  }
}

/** Refusals we can work around (with a warning); anything else (no credentials, unreachable) is fatal. */
const degradable = (e: ThrottlescopeError) => e.code === 'TS_AWS_ACCESS_DENIED';

/**
 * An SDK v3 paginator's pages, a failure to fetch one becoming the one-line error `call` gives.
 * Failures of the caller's loop body are not the paginator's and pass as they are.
 */
async function* remotePages<P>(
  operation: string,
  signal: AbortSignal | undefined,
  pages: AsyncIterable<P>,
): AsyncGenerator<P> {
  const iterator = pages[Symbol.asyncIterator]();
  for (;;) {
    const next = await call(operation, signal, () => iterator.next());
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Runs any number of metric queries through GetMetricData: batched to the per-call query and
 * datapoint limits, time-split when needed, NextToken followed. Returns one series per query
 * (ascending) and the messages CloudWatch attached (partial or forbidden results).
 */
export async function getMetricSeries(
  cw: CloudWatchClient,
  queries: readonly MetricQuery[],
  window: { startMs: number; endMs: number; periodSec: number },
  options: Pick<CollectOptions, 'signal' | 'maxDatapointsPerPage' | 'limits' | 'onProgress'> = {},
): Promise<{ series: TimeSeries[]; messages: string[] }> {
  const results = queries.map(() => new Map<number, number>());
  const messages = new Set<string>();
  const plan = planMetricDataCalls(
    queries.length,
    window.startMs,
    window.endMs,
    window.periodSec,
    options.limits ?? GetMetricDataLimits,
  );
  let queriesDone = 0;
  for (const c of plan) {
    const MetricDataQueries: MetricDataQuery[] = queries.slice(c.first, c.first + c.count).map((q, i) => ({
      Id: `q${c.first + i}`,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: q.namespace,
          MetricName: q.metricName,
          Dimensions: q.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
        },
        Period: window.periodSec,
        Stat: q.stat,
      },
    }));
    const pages = paginateGetMetricData(
      { client: cw },
      {
        MetricDataQueries,
        StartTime: new Date(c.startMs),
        EndTime: new Date(c.endMs),
        ScanBy: 'TimestampAscending',
        MaxDatapoints: options.maxDatapointsPerPage,
      },
      { abortSignal: options.signal },
    );
    for await (const page of remotePages('CloudWatch GetMetricData', options.signal, pages)) {
      for (const r of page.MetricDataResults ?? []) {
        const index = Number((r.Id ?? '').slice(1));
        const map = results[index];
        if (!map || !Number.isInteger(index)) continue;
        const ts = r.Timestamps ?? [];
        for (let i = 0; i < ts.length; i++) {
          const v = r.Values?.[i];
          if (typeof v === 'number' && Number.isFinite(v)) map.set((ts[i] as Date).getTime(), v);
        }
        if (r.StatusCode === 'Forbidden' || r.StatusCode === 'InternalError') {
          const q = queries[index];
          const what = q ? `${q.namespace} ${q.metricName}` : (r.Id ?? '?');
          const detail = (r.Messages ?? []).map((m) => m.Value ?? m.Code).join('; ');
          messages.add(`GetMetricData ${r.StatusCode} for ${what}${detail ? `: ${detail}` : ''}`);
        }
      }
      for (const m of page.Messages ?? [])
        messages.add(`GetMetricData: ${m.Code ?? ''} ${m.Value ?? ''}`.trim());
      queriesDone += 1;
      options.onProgress?.({
        queriesDone,
        queriesTotal: Math.max(plan.length, queriesDone + (page.NextToken ? 1 : 0)),
      });
    }
  }
  return {
    series: results.map((m) => {
      const ts = [...m.keys()].sort((a, b) => a - b);
      return { timestampsMs: ts, values: ts.map((t) => m.get(t) ?? 0) };
    }),
    messages: [...messages],
  };
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

/** Periods CloudWatch accepts: high resolution 1, 5, 10, 30 s, else a multiple of 60. */
export function validPeriod(periodSec: number): boolean {
  return (
    Number.isInteger(periodSec) &&
    ([1, 5, 10, 30].includes(periodSec) || (periodSec > 0 && periodSec % 60 === 0))
  );
}

/** CloudWatch keeps 1-minute data 15 days, 5-minute 63 days, 1-hour 455 days (sub-minute: 3 hours). */
function retentionWarning(startMs: number, periodSec: number, nowMs: number): string | undefined {
  const age = nowMs - startMs;
  const day = 86_400_000;
  const need = (p: number, days: string) =>
    `the window starts ${Math.floor(age / day)} day(s) ago: CloudWatch keeps ${days}; use --period ${p} or more`;
  if (periodSec < 60 && age > 3 * 3_600_000) return need(60, 'sub-minute datapoints 3 hours');
  if (periodSec < 300 && age > 15 * day) return need(300, '1-minute datapoints 15 days');
  if (periodSec < 3600 && age > 63 * day) return need(3600, '5-minute datapoints 63 days');
  return undefined;
}

async function listAll<P, T>(
  operation: string,
  signal: AbortSignal | undefined,
  fetchPage: (token: string | undefined) => Promise<P>,
  items: (page: P) => T[],
  nextToken: (page: P) => string | undefined,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await call(operation, signal, () => fetchPage(token));
    out.push(...items(page));
    token = nextToken(page) || undefined;
    if (token !== undefined) {
      if (seen.has(token)) break; // a server repeating a token would loop forever
      seen.add(token);
    }
  } while (token);
  return out;
}

type FunctionInfo = {
  name: string;
  arn: string;
  timeoutSec?: number | undefined;
  memoryMb?: number | undefined;
};

async function discoverFunctions(
  clients: CollectClients,
  signal: AbortSignal | undefined,
  warnings: string[],
): Promise<FunctionInfo[]> {
  try {
    const fns = await listAll(
      'Lambda ListFunctions',
      signal,
      (Marker) =>
        clients.lambda.send(new ListFunctionsCommand({ Marker, MaxItems: 50 }), {
          abortSignal: signal,
        }) as Promise<ListFunctionsCommandOutput>,
      (p) =>
        (p.Functions ?? []).flatMap((f) =>
          f.FunctionName
            ? [
                {
                  name: f.FunctionName,
                  arn: f.FunctionArn ?? '',
                  timeoutSec: f.Timeout,
                  memoryMb: f.MemorySize,
                },
              ]
            : [],
        ),
      (p) => p.NextMarker,
    );
    return fns;
  } catch (error) {
    if (!(error instanceof ThrottlescopeError) || !degradable(error)) throw error;
    warnings.push(`${error.message}; functions taken from CloudWatch (ListMetrics) instead`);
  }
  // Without ListFunctions, the functions that published ConcurrentExecutions are the ones that matter.
  try {
    const metrics = await listAll(
      'CloudWatch ListMetrics',
      signal,
      (NextToken) =>
        clients.cloudwatch.send(
          new ListMetricsCommand({
            Namespace: 'AWS/Lambda',
            MetricName: 'ConcurrentExecutions',
            Dimensions: [{ Name: 'FunctionName' }],
            NextToken,
          }),
          { abortSignal: signal },
        ) as Promise<ListMetricsCommandOutput>,
      (p) => p.Metrics ?? [],
      (p) => p.NextToken,
    );
    const names = new Set<string>();
    for (const m of metrics) {
      const dims = m.Dimensions ?? [];
      if (dims.length !== 1) continue;
      const v = dims[0]?.Name === 'FunctionName' ? dims[0].Value : undefined;
      if (v) names.add(v);
    }
    return [...names].map((name) => ({ name, arn: '' }));
  } catch (error) {
    if (!(error instanceof ThrottlescopeError) || !degradable(error)) throw error;
    warnings.push(`${error.message}; no per-function metrics`);
    return [];
  }
}

async function discoverAlbDimensions(
  clients: CollectClients,
  signal: AbortSignal | undefined,
  warnings: string[],
): Promise<{ loadBalancer: string; targetGroup?: string }[]> {
  const sets = new Map<string, { loadBalancer: string; targetGroup?: string }>();
  try {
    for (const [, metricName] of ALB_METRICS) {
      const metrics = await listAll(
        'CloudWatch ListMetrics',
        signal,
        (NextToken) =>
          clients.cloudwatch.send(
            new ListMetricsCommand({ Namespace: 'AWS/ApplicationELB', MetricName: metricName, NextToken }),
            { abortSignal: signal },
          ) as Promise<ListMetricsCommandOutput>,
        (p) => p.Metrics ?? [],
        (p) => p.NextToken,
      );
      for (const m of metrics) {
        const dims = new Map((m.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? '']));
        const lb = dims.get('LoadBalancer');
        if (!lb) continue;
        // Only the LoadBalancer and LoadBalancer+TargetGroup sets (not per AvailabilityZone).
        if ([...dims.keys()].some((k) => k !== 'LoadBalancer' && k !== 'TargetGroup')) continue;
        const tg = dims.get('TargetGroup');
        sets.set(`${lb}\u0000${tg ?? ''}`, tg ? { loadBalancer: lb, targetGroup: tg } : { loadBalancer: lb });
      }
    }
  } catch (error) {
    if (!(error instanceof ThrottlescopeError) || !degradable(error)) throw error;
    warnings.push(`${error.message}; no ALB metrics`);
    return [];
  }
  return [...sets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** Reads Lambda and ALB CloudWatch metrics for a window and ranks the functions by pool share. */
export function collectMetrics(clients: CollectClients, options: CollectOptions): Promise<MetricsReport>;
/** The same, building the clients from a connection (region, profile, endpoint; see awsClientConfig). */
export function collectMetrics(
  options: CollectOptions & AwsConnection & { env?: NodeJS.ProcessEnv | undefined },
): Promise<MetricsReport>;
export function collectMetrics(
  a: CollectClients | (CollectOptions & AwsConnection & { env?: NodeJS.ProcessEnv | undefined }),
  b?: CollectOptions,
): Promise<MetricsReport> {
  if ('lambda' in a && 'cloudwatch' in a && b) return collectWithClients(a, b);
  return collectMetricsWithConnection(a as CollectOptions & AwsConnection);
}

/** Builds Lambda and CloudWatch clients from a connection, collects, and closes them. */
export async function collectMetricsWithConnection(
  options: CollectOptions & AwsConnection & { env?: NodeJS.ProcessEnv | undefined },
): Promise<MetricsReport> {
  checkWindow(options);
  const config = await awsClientConfig(options, options.env ?? process.env);
  const [{ LambdaClient }, { CloudWatchClient }] = await Promise.all([
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-cloudwatch'),
  ]);
  const lambda = new LambdaClient(config);
  const cloudwatch = new CloudWatchClient(config);
  try {
    return await collectWithClients({ lambda, cloudwatch }, options);
  } finally {
    lambda.destroy();
    cloudwatch.destroy();
  }
}

function checkWindow(options: CollectOptions): void {
  const periodSec = options.periodSec ?? 60;
  if (!validPeriod(periodSec)) {
    throw new UsageError(
      `metrics: the period must be 1, 5, 10, 30 or a multiple of 60 seconds, got ${periodSec}`,
    );
  }
  if (
    !(Number.isFinite(options.startMs) && Number.isFinite(options.endMs) && options.endMs > options.startMs)
  ) {
    throw new UsageError('metrics: the window must end after it starts');
  }
}

async function collectWithClients(clients: CollectClients, options: CollectOptions): Promise<MetricsReport> {
  checkWindow(options);
  const periodSec = options.periodSec ?? 60;
  const signal = options.signal;
  const startMs = alignDown(options.startMs, periodSec);
  const endMs = alignUp(options.endMs, periodSec);
  const warnings: string[] = [];
  const region = await clients.lambda.config.region().catch(() => 'unknown');

  const functions = (await discoverFunctions(clients, signal, warnings)).sort((x, y) =>
    x.name < y.name ? -1 : x.name > y.name ? 1 : 0,
  );

  let limit = DEFAULT_ACCOUNT_LIMIT;
  let unreservedLimit: number | undefined;
  let limitAssumed = false;
  try {
    const s = await call('Lambda GetAccountSettings', signal, () =>
      clients.lambda.send(new GetAccountSettingsCommand({}), { abortSignal: signal }),
    );
    limit = s.AccountLimit?.ConcurrentExecutions ?? limit;
    unreservedLimit = s.AccountLimit?.UnreservedConcurrentExecutions;
  } catch (error) {
    if (!(error instanceof ThrottlescopeError) || !degradable(error)) throw error;
    limitAssumed = true;
    warnings.push(`${error.message}; assuming the default account limit of ${DEFAULT_ACCOUNT_LIMIT}`);
  }

  const reservedFailures: ThrottlescopeError[] = [];
  const reserved = await mapBounded(functions, options.concurrency ?? 8, async (f) => {
    try {
      const r = await call(`Lambda GetFunctionConcurrency ${f.name}`, signal, () =>
        clients.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: f.name }), {
          abortSignal: signal,
        }),
      );
      return typeof r.ReservedConcurrentExecutions === 'number' ? r.ReservedConcurrentExecutions : null;
    } catch (error) {
      if (!(error instanceof ThrottlescopeError) || !degradable(error)) throw error;
      reservedFailures.push(error);
      return null;
    }
  });
  if (reservedFailures.length > 0) {
    warnings.push(
      `reserved concurrency unknown for ${reservedFailures.length} function(s), taken as none: ${reservedFailures[0]?.message}`,
    );
  }
  unreservedLimit ??= Math.max(0, limit - reserved.reduce<number>((n, r) => n + (r ?? 0), 0));

  const albSets = await discoverAlbDimensions(clients, signal, warnings);

  const queries: MetricQuery[] = [];
  for (const f of functions) {
    for (const [, metricName, stat] of FUNCTION_METRICS) {
      queries.push({
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: [{ name: 'FunctionName', value: f.name }],
        stat,
      });
    }
  }
  for (const [, metricName, stat] of ACCOUNT_METRICS) {
    queries.push({ namespace: 'AWS/Lambda', metricName, dimensions: [], stat });
  }
  for (const a of albSets) {
    const dimensions = [{ name: 'LoadBalancer', value: a.loadBalancer }];
    if (a.targetGroup) dimensions.push({ name: 'TargetGroup', value: a.targetGroup });
    for (const [, metricName] of ALB_METRICS) {
      queries.push({ namespace: 'AWS/ApplicationELB', metricName, dimensions, stat: 'Sum' });
    }
  }
  const { series, messages } = await getMetricSeries(
    clients.cloudwatch,
    queries,
    { startMs, endMs, periodSec },
    options,
  );
  warnings.push(...messages);

  let q = 0;
  const take = () => series[q++] ?? emptySeries();
  const fnMetrics: FunctionMetrics[] = functions.map((f, i) => {
    const s = Object.fromEntries(FUNCTION_METRICS.map(([key]) => [key, take()])) as FunctionMetrics['series'];
    const out: FunctionMetrics = { name: f.name, arn: f.arn, reserved: reserved[i] ?? null, series: s };
    if (f.timeoutSec !== undefined) out.timeoutSec = f.timeoutSec;
    if (f.memoryMb !== undefined) out.memoryMb = f.memoryMb;
    return out;
  });
  const accountSeries = Object.fromEntries(
    ACCOUNT_METRICS.map(([key]) => [key, take()]),
  ) as MetricsReport['accountSeries'];
  const alb: AlbMetrics[] = albSets.map((a) => ({
    ...a,
    series: Object.fromEntries(ALB_METRICS.map(([key]) => [key, take()])) as AlbMetrics['series'],
  }));

  const window = `${new Date(startMs).toISOString()} to ${new Date(endMs).toISOString()}`;
  if (functions.length === 0) warnings.push(`no Lambda functions in ${region}`);
  const anyLambdaData =
    accountSeries.concurrentExecutions.values.length > 0 ||
    fnMetrics.some(
      (f) => f.series.concurrentExecutions.values.length > 0 || f.series.invocations.values.length > 0,
    );
  if (!anyLambdaData) {
    warnings.push(
      `no AWS/Lambda datapoints in ${region} from ${window} (nothing ran, or the wrong region or window)`,
    );
  } else if (accountSeries.concurrentExecutions.values.length === 0) {
    warnings.push(
      `no account-wide ConcurrentExecutions datapoints from ${window}: shares use the sum over functions`,
    );
  }
  if (albSets.length === 0 && !warnings.some((w) => w.includes('no ALB metrics'))) {
    warnings.push(
      `no AWS/ApplicationELB metrics in ${region} (no load balancer, or no requests in the last two weeks)`,
    );
  }
  const retention = retentionWarning(startMs, periodSec, options.nowMs ?? Date.now());
  if (retention) warnings.push(retention);

  const partial: Omit<MetricsReport, 'ranking'> = {
    window: { startMs, endMs, periodSec },
    region,
    account: { limit, unreservedLimit, limitAssumed },
    functions: fnMetrics,
    accountSeries,
    alb,
    warnings,
  };
  return { ...partial, ranking: rankNoisyNeighbours(partial) };
}
