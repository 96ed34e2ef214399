/**
 * A small in-memory LabBackend for the metrics tests: plain objects, seeded datapoints, no
 * runtime. Written against src/lab/backend.ts only (not the lab's own fakes), so the collector is
 * tested against the interface the lab's AWS endpoint serves.
 */
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
} from '../../src/lab/backend.js';

export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';

export interface TinyBackend extends LabBackend {
  addFunction(name: string, reserved?: number): void;
  addDatapoint(metric: MetricId, timestampMs: number, value: number): void;
  /** Lambda metric shorthand: `lambda('Throttles', 'api')`, or account-wide without a function. */
  lambdaMetric(metricName: string, functionName?: string): MetricId;
  albMetric(metricName: string, loadBalancer: string, targetGroup?: string): MetricId;
  limit: number;
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
      const sorted = [...values].sort((a, b) => a - b);
      const p = Number(stat.slice(1)) / 100;
      return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
    }
  }
}

export function createTinyBackend(opts: { limit?: number } = {}): TinyBackend {
  const functions = new Map<string, LabFunctionInfo>();
  const points = new Map<string, { metric: MetricId; data: { t: number; v: number }[] }>();

  const s3: LabObjectStore = {
    buckets: () => [],
    hasBucket: () => false,
    list: () => [],
    get: () => undefined,
    put: (_bucket, key, body): StoredObject => ({ key, body, lastModifiedMs: 0, etag: '"0"' }),
  };

  const cloudwatch: LabMetricsStore = {
    list(filter = {}) {
      return [...points.values()]
        .map((p) => p.metric)
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
      const entry = points.get(metricKey(metric));
      const buckets = new Map<number, number[]>();
      const p = periodSec * 1000;
      for (const { t, v } of entry?.data ?? []) {
        if (t < startMs || t >= endMs) continue;
        const b = Math.floor(t / p) * p;
        const list = buckets.get(b) ?? [];
        list.push(v);
        buckets.set(b, list);
      }
      const timestampsMs = [...buckets.keys()].sort((a, b) => a - b);
      return { timestampsMs, values: timestampsMs.map((t) => aggregate(buckets.get(t) ?? [], stat)) };
    },
  };

  const backend: TinyBackend = {
    region: REGION,
    accountId: ACCOUNT,
    limit: opts.limit ?? 100,
    s3,
    cloudwatch,
    lambda: {
      listFunctions: () => [...functions.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
      getFunction: (name) => functions.get(name),
      account: () => {
        const reserved = [...functions.values()].reduce((n, f) => n + (f.reserved ?? 0), 0);
        return {
          concurrentExecutionsLimit: backend.limit,
          unreservedConcurrentExecutions: backend.limit - reserved,
          functionCount: functions.size,
        };
      },
      putReserved(name, reserved) {
        const f = functions.get(name);
        if (f) f.reserved = reserved;
      },
      deleteReserved(name) {
        const f = functions.get(name);
        if (f) f.reserved = undefined;
      },
      invoke(): Promise<LabInvokeResult> {
        return Promise.resolve({ statusCode: 200, payload: Buffer.from('null') });
      },
    },
    addFunction(name, reserved) {
      functions.set(name, {
        name,
        arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
        runtime: 'nodejs20.x',
        handler: 'index.handler',
        memoryMb: 128,
        timeoutSec: 3,
        lastModified: '2026-11-24T00:00:00.000+0000',
        reserved,
      });
    },
    addDatapoint(metric, t, v) {
      const key = metricKey(metric);
      const entry = points.get(key) ?? { metric, data: [] };
      entry.data.push({ t, v });
      points.set(key, entry);
    },
    lambdaMetric: (metricName, fn) => ({
      namespace: 'AWS/Lambda',
      metricName,
      dimensions: fn ? [{ name: 'FunctionName', value: fn }] : [],
    }),
    albMetric: (metricName, lb, tg) => ({
      namespace: 'AWS/ApplicationELB',
      metricName,
      dimensions: [{ name: 'LoadBalancer', value: lb }, ...(tg ? [{ name: 'TargetGroup', value: tg }] : [])],
    }),
  };
  return backend;
}
