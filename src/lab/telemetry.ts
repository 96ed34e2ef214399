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
    this.lambda(LambdaMetric.invocations, fn, 1, t);
    this.lambda(LambdaMetric.errors, fn, error ? 1 : 0, t);
    this.lambda(LambdaMetric.duration, fn, durationMs, t);
  }

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
    const tg = this.tg(m.targetGroup);
    const put = (metricName: string, value: number, both: boolean) => {
      this.put(Namespace.alb, metricName, this.lbDims, value, t);
      if (both) this.put(Namespace.alb, metricName, tg, value, t);
    };
    put(AlbMetric.requestCount, 1, true);
    if (m.elbStatus !== undefined) {
      const family = Math.floor(m.elbStatus / 100);
      if (family === 5) put(AlbMetric.elb5xx, 1, false);
      if (family === 4) put(AlbMetric.elb4xx, 1, false);
      if (ELB_CODE_METRICS.has(m.elbStatus)) put(`HTTPCode_ELB_${m.elbStatus}_Count`, 1, false);
    }
    if (m.targetStatus !== undefined) {
      const family = Math.floor(m.targetStatus / 100);
      if (family >= 2 && family <= 5) put(`HTTPCode_Target_${family}XX_Count`, 1, true);
    }
    if (m.lambdaError === 'user') put(AlbMetric.lambdaUserError, 1, true);
    if (m.lambdaError === 'internal') put(AlbMetric.lambdaInternalError, 1, true);
    if (m.targetResponseTime !== undefined) put(AlbMetric.targetResponseTime, m.targetResponseTime, true);
    if (m.processedBytes > 0) put(AlbMetric.lambdaTargetProcessedBytes, m.processedBytes, false);
  }
}
