import type { MetricDimension } from '../backend.js';
import type { MemoryMetricsStore, SeriesHandle } from '../metrics-store.js';

/**
 * CloudFront's CloudWatch metrics, namespace `AWS/CloudFront`, dimensions DistributionId and
 * Region=Global. Every viewer response adds 1 to Requests and one datapoint of 0 or 100 to each
 * error-rate metric, so that the Average statistic (the one AWS documents for them) over any
 * period is the percentage of viewer responses with that status.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html
 */
export const CLOUDFRONT_NAMESPACE = 'AWS/CloudFront';

export const CloudFrontMetric = {
  requests: 'Requests',
  bytesDownloaded: 'BytesDownloaded',
  bytesUploaded: 'BytesUploaded',
  rate4xx: '4xxErrorRate',
  rate5xx: '5xxErrorRate',
  totalErrorRate: 'TotalErrorRate',
} as const;

/** The additional per-status rates. */
export const STATUS_RATE_CODES = [401, 403, 404, 502, 503, 504] as const;

export class CloudFrontTelemetry {
  private readonly s: {
    requests: SeriesHandle;
    bytesDownloaded: SeriesHandle;
    bytesUploaded: SeriesHandle;
    rate4xx: SeriesHandle;
    rate5xx: SeriesHandle;
    total: SeriesHandle;
    byStatus: Map<number, SeriesHandle>;
  };

  constructor(
    private readonly store: MemoryMetricsStore,
    distributionId: string,
  ) {
    const dimensions: MetricDimension[] = [
      { name: 'DistributionId', value: distributionId },
      { name: 'Region', value: 'Global' },
    ];
    const series = (metricName: string) =>
      store.seriesOf({ namespace: CLOUDFRONT_NAMESPACE, metricName, dimensions });
    this.s = {
      requests: series(CloudFrontMetric.requests),
      bytesDownloaded: series(CloudFrontMetric.bytesDownloaded),
      bytesUploaded: series(CloudFrontMetric.bytesUploaded),
      rate4xx: series(CloudFrontMetric.rate4xx),
      rate5xx: series(CloudFrontMetric.rate5xx),
      total: series(CloudFrontMetric.totalErrorRate),
      byStatus: new Map(STATUS_RATE_CODES.map((c) => [c, series(`${c}ErrorRate`)])),
    };
    store.holdsBack(this.putHeldBack);
  }

  /** One viewer response. `bytesDownloaded` for GET/HEAD/OPTIONS, `bytesUploaded` for POST/PUT. */
  request(
    o: { status: number; method: string; bytesDownloaded: number; bytesUploaded: number },
    t: number,
  ): void {
    if (!Number.isFinite(t)) return;
    // Counted per second of lab time and put in bulk (as many datapoints, the same statistics)
    // when the second changes or the store is read: a few map updates per request, not ten series.
    const second = Math.floor(t / 1000) * 1000;
    if (second !== this.second) {
      this.putHeldBack();
      this.second = second;
    }
    this.requests++;
    const byStatus = this.byStatus;
    byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    if (o.method === 'GET' || o.method === 'HEAD' || o.method === 'OPTIONS') {
      const d = this.downloaded;
      d.set(o.bytesDownloaded, (d.get(o.bytesDownloaded) ?? 0) + 1);
    }
    if (o.method === 'POST' || o.method === 'PUT') {
      const u = this.uploaded;
      u.set(o.bytesUploaded, (u.get(o.bytesUploaded) ?? 0) + 1);
    }
  }

  /** The second being counted (start, lab ms), and its counts. */
  private second = Number.NaN;
  private requests = 0;
  private readonly byStatus = new Map<number, number>();
  private readonly downloaded = new Map<number, number>();
  private readonly uploaded = new Map<number, number>();

  /** Puts the counted second's datapoints. */
  private readonly putHeldBack = (): void => {
    const n = this.requests;
    if (n === 0) return;
    const st = this.store;
    const s = this.s;
    const t = this.second;
    st.putManyTo(s.requests, 1, n, t);
    for (const [bytes, count] of this.downloaded) st.putManyTo(s.bytesDownloaded, bytes, count, t);
    for (const [bytes, count] of this.uploaded) st.putManyTo(s.bytesUploaded, bytes, count, t);
    let n4 = 0;
    let n5 = 0;
    for (const [status, count] of this.byStatus) {
      const family = Math.floor(status / 100);
      if (family === 4) n4 += count;
      else if (family === 5) n5 += count;
    }
    rate(st, s.rate4xx, n4, n, t);
    rate(st, s.rate5xx, n5, n, t);
    rate(st, s.total, n4 + n5, n, t);
    for (const [code, handle] of s.byStatus) rate(st, handle, this.byStatus.get(code) ?? 0, n, t);
    this.requests = 0;
    this.byStatus.clear();
    this.downloaded.clear();
    this.uploaded.clear();
  };
}

/** `hits` datapoints of 100 and the rest of `n` of 0: an error rate whose Average is a percentage. */
function rate(st: MemoryMetricsStore, handle: SeriesHandle, hits: number, n: number, t: number): void {
  st.putManyTo(handle, 100, hits, t);
  st.putManyTo(handle, 0, n - hits, t);
}
