/**
 * An in-memory LabBackend for tests of the lab's AWS endpoint and of the code that talks to it
 * (metrics, plan, logs, fix): plain objects, seeded functions, objects and datapoints, and a real
 * ConcurrencyPool for reserved concurrency and throttling. Written against src/lab/backend.ts only
 * (not the lab's own stores), so callers are tested against the interface the endpoint serves.
 */
import { createHash } from 'node:crypto';
import { ConcurrencyPool } from '../../src/common/concurrency/pool.js';
import type {
  LabBackend,
  LabFunctionInfo,
  LabInvokeResult,
  LabLoadBalancing,
  LabMetricsStore,
  LabObjectStore,
  LabTargetGroupInfo,
  MetricDimension,
  MetricId,
  MetricStat,
  StoredObject,
} from '../../src/lab/backend.js';
import { functionArn, loadBalancerIds, targetGroupIds } from '../../src/lab/ids.js';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

/** The S3 location of this account's and region's ALB logs in `bucket` (an Athena table's LOCATION). */
export function albLogsRoot(bucket: string): string {
  return `s3://${bucket}/AWSLogs/${ACCOUNT}/elasticloadbalancing/${REGION}/`;
}

/**
 * An environment where the AWS SDK finds no credentials or config of the machine's: with an
 * endpoint override, throttlescope then signs with placeholder keys, as a user without AWS would.
 */
export const NO_AWS_CONFIG_ENV = {
  HOME: '/nonexistent',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
};

/** Last-modified time of seeded functions and objects, and of objects put through the API. */
const SEEDED_MS = Date.UTC(2024, 4, 1, 12, 0, 0);

export interface MemoryBackend extends LabBackend {
  pool: ConcurrencyPool;
  /** Every Invoke call, in order. */
  invocations: { name: string; payload: string; type: string }[];
  addFunction(name: string, reserved?: number): void;
  addObject(
    bucket: string,
    key: string,
    body: string | Buffer,
    contentType?: string,
    lastModifiedMs?: number,
  ): StoredObject;
  addDatapoint(metric: MetricId, timestampMs: number, value: number): void;
  /**
   * A Lambda target group in front of `functionNames` (AWS allows one; more test the mapping's
   * handling of what the API may return), routed to by `loadBalancer` unless it is null.
   */
  addTargetGroup(
    name: string,
    functionNames: string[],
    loadBalancer?: string | null,
  ): { arn: string; dimension: string };
  /** From now on every ELBv2 call is refused with 403 AccessDenied, as for a caller without the permission. */
  denyElbv2(): void;
}

/** A target group's ARN as the lab writes it (its id derived from the name: tests can predict it). */
export function targetGroupArn(name: string): string {
  return targetGroupIds(REGION, ACCOUNT, name).arn;
}

export function loadBalancerArn(name: string): string {
  return loadBalancerIds(REGION, ACCOUNT, name).arn;
}

/** Lambda metric shorthand: `lambdaMetric('Throttles', 'api')`, or account-wide without a function. */
export function lambdaMetric(metricName: string, functionName?: string): MetricId {
  return {
    namespace: 'AWS/Lambda',
    metricName,
    dimensions: functionName ? [{ name: 'FunctionName', value: functionName }] : [],
  };
}

export function albMetric(metricName: string, loadBalancer: string, targetGroup?: string): MetricId {
  return {
    namespace: 'AWS/ApplicationELB',
    metricName,
    dimensions: [
      { name: 'LoadBalancer', value: loadBalancer },
      ...(targetGroup ? [{ name: 'TargetGroup', value: targetGroup }] : []),
    ],
  };
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const dimKey = (d: MetricDimension[]) =>
  d
    .map((x) => `${x.name}=${x.value}`)
    .sort()
    .join('|');
const metricKey = (m: MetricId) => `${m.namespace}\u0000${m.metricName}\u0000${dimKey(m.dimensions)}`;

function aggregate(values: number[], stat: MetricStat): number {
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'SampleCount':
      return values.length;
    default: {
      const p = Number(stat.slice(1));
      const sorted = [...values].sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
      return sorted[rank - 1]!;
    }
  }
}

/** Account limit 50 unless told otherwise; the unreserved minimum is always 10. */
export function createMemoryBackend(opts: { accountLimit?: number } = {}): MemoryBackend {
  const buckets = new Map<string, { createdMs: number; objects: Map<string, StoredObject> }>();
  function put(
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string | undefined,
    ms: number,
  ): StoredObject {
    let b = buckets.get(bucket);
    if (!b) {
      b = { createdMs: Date.UTC(2024, 0, 1), objects: new Map() };
      buckets.set(bucket, b);
    }
    const obj: StoredObject = {
      key,
      body,
      lastModifiedMs: ms,
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      contentType,
    };
    b.objects.set(key, obj);
    return obj;
  }
  const s3: LabObjectStore = {
    buckets: () => [...buckets].map(([name, b]) => ({ name, createdMs: b.createdMs })),
    hasBucket: (bucket) => buckets.has(bucket),
    list: (bucket, prefix) =>
      [...(buckets.get(bucket)?.objects.values() ?? [])]
        .filter((o) => o.key.startsWith(prefix))
        .sort((a, b) => byUtf8(a.key, b.key)),
    get: (bucket, key) => buckets.get(bucket)?.objects.get(key),
    put: (bucket, key, body, contentType) => put(bucket, key, body, contentType, SEEDED_MS),
  };

  // One entry per distinct metric, in the order first seen.
  const series = new Map<string, { metric: MetricId; points: { t: number; v: number }[] }>();
  const cloudwatch: LabMetricsStore = {
    list(filter = {}) {
      return [...series.values()]
        .map((s) => s.metric)
        .filter(
          (m) =>
            (filter.namespace === undefined || m.namespace === filter.namespace) &&
            (filter.metricName === undefined || m.metricName === filter.metricName) &&
            (filter.dimensions ?? []).every((f) =>
              m.dimensions.some((d) => d.name === f.name && (f.value === undefined || d.value === f.value)),
            ),
        );
    },
    query(metric, stat, periodSec, startMs, endMs) {
      const periodMs = periodSec * 1000;
      const byPeriod = new Map<number, number[]>();
      for (const { t, v } of series.get(metricKey(metric))?.points ?? []) {
        if (t < startMs || t >= endMs) continue;
        const start = Math.floor(t / periodMs) * periodMs;
        const values = byPeriod.get(start) ?? [];
        values.push(v);
        byPeriod.set(start, values);
      }
      const timestampsMs = [...byPeriod.keys()].sort((a, b) => a - b);
      return { timestampsMs, values: timestampsMs.map((t) => aggregate(byPeriod.get(t)!, stat)) };
    },
  };

  const pool = new ConcurrencyPool({ accountLimit: opts.accountLimit ?? 50, unreservedMinimum: 10 });
  const functions = new Map<string, Omit<LabFunctionInfo, 'reserved'>>();
  const invocations: MemoryBackend['invocations'] = [];
  const info = (name: string): LabFunctionInfo | undefined => {
    const f = functions.get(name);
    return f ? { ...f, reserved: pool.reservedOf(name) } : undefined;
  };
  const lambda: LabBackend['lambda'] = {
    listFunctions: () => [...functions.keys()].map((n) => info(n)!),
    getFunction: (name) => info(name),
    account: () => {
      const snap = pool.snapshot();
      return {
        concurrentExecutionsLimit: snap.accountLimit,
        unreservedConcurrentExecutions: snap.unreservedPoolSize,
        functionCount: functions.size,
      };
    },
    putReserved: (name, reserved) => pool.setReserved(name, reserved),
    deleteReserved: (name) => pool.setReserved(name, undefined),
    // Echoes the JSON payload back; `{"fail": true}` makes an Unhandled function error.
    async invoke(name, payload, invocationType): Promise<LabInvokeResult> {
      invocations.push({ name, payload: payload.toString('utf8'), type: invocationType });
      if (invocationType === 'DryRun') return { statusCode: 204, payload: Buffer.alloc(0) };
      const i = pool.indexOf(name);
      const got = pool.tryAcquire(i, Date.now());
      if (!got.ok) {
        return {
          statusCode: 429,
          payload: Buffer.alloc(0),
          error: {
            type: 'TooManyRequestsException',
            message: 'Rate Exceeded.',
            reason:
              got.cause === 'reserved'
                ? 'ReservedFunctionConcurrentInvocationLimitExceeded'
                : 'ConcurrentInvocationLimitExceeded',
          },
        };
      }
      try {
        if (invocationType === 'Event') return { statusCode: 202, payload: Buffer.alloc(0) };
        const text = payload.toString('utf8');
        const input = text ? (JSON.parse(text) as { fail?: boolean }) : {};
        if (input.fail) {
          return {
            statusCode: 200,
            functionError: 'Unhandled',
            executedVersion: '$LATEST',
            payload: Buffer.from(JSON.stringify({ errorType: 'Error', errorMessage: 'boom' })),
          };
        }
        return {
          statusCode: 200,
          executedVersion: '$LATEST',
          payload: Buffer.from(JSON.stringify({ echo: input })),
        };
      } finally {
        pool.release(i);
      }
    },
  };

  const targetGroups = new Map<string, LabTargetGroupInfo>();
  const loadBalancers = new Set<string>();
  let elbv2Denied = false;
  const refuseIfDenied = () => {
    if (elbv2Denied) {
      throw Object.assign(
        new Error(
          `User: arn:aws:iam::${ACCOUNT}:user/ci is not authorized to perform: elasticloadbalancing:DescribeTargetGroups`,
        ),
        { awsCode: 'AccessDenied' },
      );
    }
  };
  const elbv2: LabLoadBalancing = {
    targetGroups: () => {
      refuseIfDenied();
      return [...targetGroups.values()].map((tg) => structuredClone(tg));
    },
    loadBalancerArns: () => {
      refuseIfDenied();
      return [...loadBalancers];
    },
  };

  return {
    region: REGION,
    accountId: ACCOUNT,
    s3,
    cloudwatch,
    lambda,
    elbv2,
    pool,
    invocations,
    addFunction(name, reserved) {
      pool.addFunction(name, reserved);
      functions.set(name, {
        name,
        arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
        runtime: 'nodejs20.x',
        handler: 'index.handler',
        memoryMb: 256,
        timeoutSec: 30,
        lastModified: '2024-05-01T12:00:00.000+0000',
      });
    },
    addObject(bucket, key, body, contentType, lastModifiedMs = SEEDED_MS) {
      return put(
        bucket,
        key,
        typeof body === 'string' ? Buffer.from(body) : body,
        contentType,
        lastModifiedMs,
      );
    },
    addTargetGroup(name, functionNames, loadBalancer = 'lab-alb') {
      const ids = targetGroupIds(REGION, ACCOUNT, name);
      const lbArn = loadBalancer === null ? undefined : loadBalancerArn(loadBalancer);
      if (lbArn) loadBalancers.add(lbArn);
      targetGroups.set(name, {
        name,
        arn: ids.arn,
        loadBalancerArns: lbArn ? [lbArn] : [],
        functionArns: functionNames.map((f) => functionArn(REGION, ACCOUNT, f)),
      });
      return { arn: ids.arn, dimension: ids.dimension };
    },
    denyElbv2() {
      elbv2Denied = true;
    },
    addDatapoint(metric, t, v) {
      const key = metricKey(metric);
      const entry = series.get(key) ?? { metric, points: [] };
      entry.points.push({ t, v });
      series.set(key, entry);
    },
  };
}

/** The error a call rejects with (fails the test when it resolves). */
export async function caught(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

/** A backend whose ALB has the two usual Lambda target groups: api-tg → api, web-tg → web. */
export function createBackendWithTargetGroups(): MemoryBackend {
  const backend = createMemoryBackend();
  backend.addTargetGroup('api-tg', ['api']);
  backend.addTargetGroup('web-tg', ['web']);
  return backend;
}
