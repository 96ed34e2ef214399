/** An in-memory LabBackend for the AWS endpoint's tests: plain objects, a real ConcurrencyPool. */
import { createHash } from 'node:crypto';
import { ConcurrencyPool } from '../../../src/common/concurrency/pool.js';
import type {
  LabBackend,
  LabFunctionInfo,
  LabInvokeResult,
  LabMetricsStore,
  LabObjectStore,
  MetricDimension,
  MetricId,
  MetricStat,
  StoredObject,
} from '../../../src/lab/backend.js';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

export interface FakeBackend extends LabBackend {
  pool: ConcurrencyPool;
  addFunction(name: string, reserved?: number): void;
  addObject(
    bucket: string,
    key: string,
    body: string | Buffer,
    contentType?: string,
    lastModifiedMs?: number,
  ): StoredObject;
  addDatapoint(metric: MetricId, timestampMs: number, value: number): void;
  invocations: { name: string; payload: string; type: string }[];
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sameDims(a: MetricDimension[], b: MetricDimension[]): boolean {
  if (a.length !== b.length) return false;
  const key = (d: MetricDimension[]) =>
    d
      .map((x) => `${x.name}=${x.value}`)
      .sort()
      .join('|');
  return key(a) === key(b);
}

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

export function createFakeBackend(): FakeBackend {
  const buckets = new Map<string, { createdMs: number; objects: Map<string, StoredObject> }>();
  const s3: LabObjectStore = {
    buckets: () => [...buckets].map(([name, b]) => ({ name, createdMs: b.createdMs })),
    hasBucket: (bucket) => buckets.has(bucket),
    list: (bucket, prefix) =>
      [...(buckets.get(bucket)?.objects.values() ?? [])]
        .filter((o) => o.key.startsWith(prefix))
        .sort((a, b) => byUtf8(a.key, b.key)),
    get: (bucket, key) => buckets.get(bucket)?.objects.get(key),
    put: (bucket, key, body, contentType) =>
      put(bucket, key, body, contentType, Date.UTC(2024, 4, 1, 12, 0, 0)),
  };
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

  const points: { metric: MetricId; t: number; v: number }[] = [];
  const cloudwatch: LabMetricsStore = {
    list(filter) {
      const out: MetricId[] = [];
      for (const { metric } of points) {
        if (filter?.namespace !== undefined && metric.namespace !== filter.namespace) continue;
        if (filter?.metricName !== undefined && metric.metricName !== filter.metricName) continue;
        const dims = filter?.dimensions ?? [];
        if (
          !dims.every((f) =>
            metric.dimensions.some(
              (d) => d.name === f.name && (f.value === undefined || d.value === f.value),
            ),
          )
        ) {
          continue;
        }
        if (
          !out.some(
            (m) =>
              m.namespace === metric.namespace &&
              m.metricName === metric.metricName &&
              sameDims(m.dimensions, metric.dimensions),
          )
        ) {
          out.push(metric);
        }
      }
      return out;
    },
    query(metric, stat, periodSec, startMs, endMs) {
      const periodMs = periodSec * 1000;
      const bucketsByT = new Map<number, number[]>();
      for (const p of points) {
        if (p.t < startMs || p.t >= endMs) continue;
        if (p.metric.namespace !== metric.namespace || p.metric.metricName !== metric.metricName) continue;
        if (!sameDims(p.metric.dimensions, metric.dimensions)) continue;
        const t = Math.floor(p.t / periodMs) * periodMs;
        const list = bucketsByT.get(t) ?? [];
        list.push(p.v);
        bucketsByT.set(t, list);
      }
      const ts = [...bucketsByT.keys()].sort((a, b) => a - b);
      return { timestampsMs: ts, values: ts.map((t) => aggregate(bucketsByT.get(t)!, stat)) };
    },
  };

  const pool = new ConcurrencyPool({ accountLimit: 50, unreservedMinimum: 10 });
  const functions = new Map<string, Omit<LabFunctionInfo, 'reserved'>>();
  const invocations: FakeBackend['invocations'] = [];
  const info = (name: string): LabFunctionInfo | undefined => {
    const f = functions.get(name);
    return f ? { ...f, reserved: pool.reservedOf(name) } : undefined;
  };
  const lambda: FakeBackend['lambda'] = {
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

  return {
    region: REGION,
    accountId: ACCOUNT,
    s3,
    cloudwatch,
    lambda,
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
    addObject(bucket, key, body, contentType, lastModifiedMs = Date.UTC(2024, 4, 1, 12, 0, 0)) {
      return put(
        bucket,
        key,
        typeof body === 'string' ? Buffer.from(body) : body,
        contentType,
        lastModifiedMs,
      );
    },
    addDatapoint(metric, t, v) {
      points.push({ metric, t, v });
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
