import type { PoolSnapshot } from '../common/concurrency/pool.js';
import type { MetricDimension, MetricId } from './backend.js';
import type { MemoryMetricsStore, SeriesHandle } from './metrics-store.js';

/**
 * The CloudWatch metrics the lab publishes, with AWS's names, namespaces and dimensions.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 */
export const Namespace = { lambda: 'AWS/Lambda', alb: 'AWS/ApplicationELB' } as const;

export const LambdaMetric = {
  invocations: 'Invocations',
  errors: 'Errors',
  throttles: 'Throttles',
  duration: 'Duration',
  concurrentExecutions: 'ConcurrentExecutions',
  unreservedConcurrentExecutions: 'UnreservedConcurrentExecutions',
  claimedAccountConcurrency: 'ClaimedAccountConcurrency',
  asyncEventsReceived: 'AsyncEventsReceived',
  asyncEventsDropped: 'AsyncEventsDropped',
  asyncEventAge: 'AsyncEventAge',
} as const;

export const AlbMetric = {
  requestCount: 'RequestCount',
  elb5xx: 'HTTPCode_ELB_5XX_Count',
  elb4xx: 'HTTPCode_ELB_4XX_Count',
  target2xx: 'HTTPCode_Target_2XX_Count',
  target3xx: 'HTTPCode_Target_3XX_Count',
  target4xx: 'HTTPCode_Target_4XX_Count',
  target5xx: 'HTTPCode_Target_5XX_Count',
  lambdaUserError: 'LambdaUserError',
  lambdaInternalError: 'LambdaInternalError',
  lambdaTargetProcessedBytes: 'LambdaTargetProcessedBytes',
  targetResponseTime: 'TargetResponseTime',
} as const;

/** ELB status codes with their own metric (HTTPCode_ELB_<code>_Count). */
const ELB_CODE_METRICS = new Set([500, 502, 503, 504]);

const NONE: MetricDimension[] = [];

export interface AlbRequestMetrics {
  /** `targetgroup/<name>/<id>` of the matched rule's target group. */
  targetGroup: string;
  elbStatus: number | undefined;
  targetStatus: number | undefined;
  /** User (function/caller) or internal (Lambda service) failure, as the ALB classifies error_reason. */
  lambdaError: 'user' | 'internal' | undefined;
  /** Seconds, lab time; undefined when the target was not reached. */
  targetResponseTime: number | undefined;
  processedBytes: number;
}

export class LabTelemetry {
  private readonly fnDims = new Map<string, MetricDimension[]>();
  private readonly lbDims: MetricDimension[];
  private readonly tgDims = new Map<string, MetricDimension[]>();

  constructor(
    readonly store: MemoryMetricsStore,
    /** `app/<name>/<id>` */
    readonly loadBalancer: string,
  ) {
    this.lbDims = [{ name: 'LoadBalancer', value: loadBalancer }];
  }

  /**
   * Datapoint for a metric identified by (namespace, name, dimension list object). Series handles
   * are cached per dimension list and name, so the request path does no key building.
   */
  private put(
    namespace: string,
    metricName: string,
    dimensions: MetricDimension[],
    value: number,
    t: number,
  ): void {
    const cache = namespace === Namespace.lambda ? this.lambdaSeries : this.albSeries;
    let byName = cache.get(dimensions);
    if (!byName) {
      byName = new Map();
      cache.set(dimensions, byName);
    }
    let series = byName.get(metricName);
    if (!series) {
      const id: MetricId = { namespace, metricName, dimensions };
      series = this.store.seriesOf(id);
      byName.set(metricName, series);
    }
    this.store.putTo(series, value, t);
  }
  private readonly lambdaSeries = new Map<MetricDimension[], Map<string, SeriesHandle>>();
  private readonly albSeries = new Map<MetricDimension[], Map<string, SeriesHandle>>();

  private fn(name: string): MetricDimension[] {
    let d = this.fnDims.get(name);
    if (!d) {
      d = [{ name: 'FunctionName', value: name }];
      this.fnDims.set(name, d);
    }
    return d;
  }

  private tg(targetGroup: string): MetricDimension[] {
    let d = this.tgDims.get(targetGroup);
    if (!d) {
      d = [
        { name: 'LoadBalancer', value: this.loadBalancer },
        { name: 'TargetGroup', value: targetGroup },
      ];
      this.tgDims.set(targetGroup, d);
    }
    return d;
  }

  private lambda(metricName: string, fn: string, value: number, t: number): void {
    this.put(Namespace.lambda, metricName, this.fn(fn), value, t);
    this.put(Namespace.lambda, metricName, NONE, value, t);
  }

  /** One invocation that ran (throttled ones are not invocations). `durationMs` in lab ms. */
  invocation(fn: string, durationMs: number, error: boolean, t: number): void {
    let s = this.invocationSeries.get(fn);
    if (!s) {
      const series = (name: string) => [
        this.store.seriesOf({ namespace: Namespace.lambda, metricName: name, dimensions: this.fn(fn) }),
        this.store.seriesOf({ namespace: Namespace.lambda, metricName: name, dimensions: NONE }),
      ];
      s = [
        ...series(LambdaMetric.invocations),
        ...series(LambdaMetric.errors),
        ...series(LambdaMetric.duration),
      ];
      this.invocationSeries.set(fn, s);
    }
    const store = this.store;
    store.putTo(s[0]!, 1, t);
    store.putTo(s[1]!, 1, t);
    store.putTo(s[2]!, error ? 1 : 0, t);
    store.putTo(s[3]!, error ? 1 : 0, t);
    store.putTo(s[4]!, durationMs, t);
    store.putTo(s[5]!, durationMs, t);
  }
  /** Per function: Invocations, Errors, Duration, each per function and account-wide. */
  private readonly invocationSeries = new Map<string, SeriesHandle[]>();

  throttle(fn: string, t: number): void {
    this.lambda(LambdaMetric.throttles, fn, 1, t);
  }

  asyncReceived(fn: string, t: number): void {
    this.put(Namespace.lambda, LambdaMetric.asyncEventsReceived, this.fn(fn), 1, t);
  }

  asyncDropped(fn: string, t: number): void {
    this.put(Namespace.lambda, LambdaMetric.asyncEventsDropped, this.fn(fn), 1, t);
  }

  asyncAge(fn: string, ageMs: number, t: number): void {
    this.put(Namespace.lambda, LambdaMetric.asyncEventAge, this.fn(fn), ageMs, t);
  }

  /**
   * One sample per lab second: per-function and account-wide ConcurrentExecutions (the peak since
   * the previous sample, so Maximum sees bursts shorter than a second), the account's unreserved
   * and claimed concurrency.
   */
  concurrency(
    pool: PoolSnapshot,
    peaks: { account: number; byFunction: Map<string, number> },
    t: number,
  ): void {
    for (const f of pool.functions) {
      const v = Math.max(f.inFlight, peaks.byFunction.get(f.name) ?? 0);
      this.put(Namespace.lambda, LambdaMetric.concurrentExecutions, this.fn(f.name), v, t);
    }
    const ns = Namespace.lambda;
    this.put(
      ns,
      LambdaMetric.concurrentExecutions,
      NONE,
      Math.max(pool.concurrentExecutions, peaks.account),
      t,
    );
    this.put(ns, LambdaMetric.unreservedConcurrentExecutions, NONE, pool.unreservedConcurrentExecutions, t);
    this.put(ns, LambdaMetric.claimedAccountConcurrency, NONE, pool.claimedAccountConcurrency, t);
  }

  /** One ALB request, published per load balancer and per load balancer + target group. */
  albRequest(m: AlbRequestMetrics, t: number): void {
    let tg = this.albTargetGroups.get(m.targetGroup);
    if (!tg) {
      const dims = this.tg(m.targetGroup);
      const pair = (metricName: string): SeriesPair => [
        this.store.seriesOf({ namespace: Namespace.alb, metricName, dimensions: this.lbDims }),
        this.store.seriesOf({ namespace: Namespace.alb, metricName, dimensions: dims }),
      ];
      tg = {
        pair,
        requestCount: pair(AlbMetric.requestCount),
        targetFamily: [2, 3, 4, 5].map((f) => pair(TARGET_FAMILY[f]!)),
        targetResponseTime: pair(AlbMetric.targetResponseTime),
        processedBytes: pair(AlbMetric.lambdaTargetProcessedBytes),
        other: new Map(),
      };
      this.albTargetGroups.set(m.targetGroup, tg);
    }
    const store = this.store;
    store.putTo(tg.requestCount[0], 1, t);
    store.putTo(tg.requestCount[1], 1, t);
    if (m.elbStatus !== undefined) {
      const family = Math.floor(m.elbStatus / 100);
      if (family === 5) this.alb(tg, AlbMetric.elb5xx, 1, false, t);
      if (family === 4) this.alb(tg, AlbMetric.elb4xx, 1, false, t);
      if (ELB_CODE_METRICS.has(m.elbStatus)) this.alb(tg, `HTTPCode_ELB_${m.elbStatus}_Count`, 1, false, t);
    }
    if (m.targetStatus !== undefined) {
      const family = Math.floor(m.targetStatus / 100);
      if (family >= 2 && family <= 5) {
        const p = tg.targetFamily[family - 2]!;
        store.putTo(p[0], 1, t);
        store.putTo(p[1], 1, t);
      }
    }
    if (m.lambdaError === 'user') this.alb(tg, AlbMetric.lambdaUserError, 1, true, t);
    if (m.lambdaError === 'internal') this.alb(tg, AlbMetric.lambdaInternalError, 1, true, t);
    if (m.targetResponseTime !== undefined) {
      store.putTo(tg.targetResponseTime[0], m.targetResponseTime, t);
      store.putTo(tg.targetResponseTime[1], m.targetResponseTime, t);
    }
    if (m.processedBytes > 0) store.putTo(tg.processedBytes[0], m.processedBytes, t);
  }
  private readonly albTargetGroups = new Map<string, AlbTargetGroupSeries>();

  /** A datapoint per load balancer and, with `both`, per load balancer + target group. */
  private alb(tg: AlbTargetGroupSeries, metricName: string, value: number, both: boolean, t: number): void {
    let pair = tg.other.get(metricName);
    if (!pair) {
      pair = tg.pair(metricName);
      tg.other.set(metricName, pair);
    }
    this.store.putTo(pair[0], value, t);
    if (both) this.store.putTo(pair[1], value, t);
  }
}

/** [per load balancer, per load balancer + target group] */
type SeriesPair = [SeriesHandle, SeriesHandle];

/** Series handles of one target group: those of every request, and the rest by metric name. */
interface AlbTargetGroupSeries {
  pair: (metricName: string) => SeriesPair;
  requestCount: SeriesPair;
  /** HTTPCode_Target_2XX_Count .. 5XX. */
  targetFamily: SeriesPair[];
  targetResponseTime: SeriesPair;
  processedBytes: SeriesPair;
  other: Map<string, SeriesPair>;
}

/** HTTPCode_Target_<family>XX_Count by status family. */
const TARGET_FAMILY: (string | undefined)[] = [
  undefined,
  undefined,
  AlbMetric.target2xx,
  AlbMetric.target3xx,
  AlbMetric.target4xx,
  AlbMetric.target5xx,
];
