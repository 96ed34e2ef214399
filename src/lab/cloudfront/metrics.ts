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
  }

  /** One viewer response. `bytesDownloaded` for GET/HEAD/OPTIONS, `bytesUploaded` for POST/PUT. */
  request(
    o: { status: number; method: string; bytesDownloaded: number; bytesUploaded: number },
    t: number,
  ): void {
    const st = this.store;
    const s = this.s;
    const family = Math.floor(o.status / 100);
    st.putTo(s.requests, 1, t);
    if (o.method === 'GET' || o.method === 'HEAD' || o.method === 'OPTIONS')
      st.putTo(s.bytesDownloaded, o.bytesDownloaded, t);
    if (o.method === 'POST' || o.method === 'PUT') st.putTo(s.bytesUploaded, o.bytesUploaded, t);
    st.putTo(s.rate4xx, family === 4 ? 100 : 0, t);
    st.putTo(s.rate5xx, family === 5 ? 100 : 0, t);
    st.putTo(s.total, family === 4 || family === 5 ? 100 : 0, t);
    for (const [code, handle] of s.byStatus) st.putTo(handle, o.status === code ? 100 : 0, t);
  }
}
