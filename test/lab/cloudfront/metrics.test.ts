import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { MetricStat } from '../../../src/lab/backend.js';
import {
  CLOUDFRONT_NAMESPACE,
  CloudFrontMetric,
  CloudFrontTelemetry,
  STATUS_RATE_CODES,
} from '../../../src/lab/cloudfront/metrics.js';
import { MemoryMetricsStore } from '../../../src/lab/metrics-store.js';

const DIMENSIONS = [
  { name: 'DistributionId', value: 'E2QWRUHAPOMQZL' },
  { name: 'Region', value: 'Global' },
];
const NAMES = [...Object.values(CloudFrontMetric), ...STATUS_RATE_CODES.map((c) => `${c}ErrorRate`)];
const STATS: MetricStat[] = ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount', 'p50', 'p99'];

interface ViewerResponse {
  status: number;
  method: string;
  bytesDownloaded: number;
  bytesUploaded: number;
}

/** What AWS/CloudFront documents per viewer response, one datapoint at a time. */
function reference(store: MemoryMetricsStore, r: ViewerResponse, t: number): void {
  const put = (metricName: string, value: number) =>
    store.put({ namespace: CLOUDFRONT_NAMESPACE, metricName, dimensions: DIMENSIONS }, value, t);
  const family = Math.floor(r.status / 100);
  put('Requests', 1);
  if (r.method === 'GET' || r.method === 'HEAD' || r.method === 'OPTIONS')
    put('BytesDownloaded', r.bytesDownloaded);
  if (r.method === 'POST' || r.method === 'PUT') put('BytesUploaded', r.bytesUploaded);
  put('4xxErrorRate', family === 4 ? 100 : 0);
  put('5xxErrorRate', family === 5 ? 100 : 0);
  put('TotalErrorRate', family === 4 || family === 5 ? 100 : 0);
  for (const code of STATUS_RATE_CODES) put(`${code}ErrorRate`, r.status === code ? 100 : 0);
}

describe('AWS/CloudFront metrics', () => {
  test('counted per second and put in bulk, they read as one datapoint per viewer response, whenever read (property)', () => {
    const response = fc.record({
      status: fc.constantFrom(200, 304, 401, 403, 404, 429, 500, 502, 503, 504),
      method: fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE'),
      bytesDownloaded: fc.nat({ max: 5000 }),
      bytesUploaded: fc.nat({ max: 5000 }),
    });
    // Mostly forward in time, at times back (exchanges end out of order); reads in between.
    const step = fc.record({
      response,
      advanceMs: fc.oneof(fc.integer({ min: 0, max: 700 }), fc.integer({ min: -1500, max: 0 })),
      readAfter: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const bulk = new MemoryMetricsStore();
        const telemetry = new CloudFrontTelemetry(bulk, 'E2QWRUHAPOMQZL');
        const one = new MemoryMetricsStore();
        const start = Date.UTC(2026, 11, 5, 10);
        let t = start;
        const read = (store: MemoryMetricsStore) =>
          NAMES.flatMap((metricName) =>
            STATS.map((stat) =>
              store.query(
                { namespace: CLOUDFRONT_NAMESPACE, metricName, dimensions: DIMENSIONS },
                stat,
                1,
                start - 60_000,
                start + 3_600_000,
              ),
            ),
          );
        for (const s of steps) {
          t += s.advanceMs + 0.25;
          telemetry.request(s.response, t);
          reference(one, s.response, t);
          if (s.readAfter) expect(read(bulk)).toEqual(read(one));
        }
        expect(read(bulk)).toEqual(read(one));
      }),
      { numRuns: 300 },
    );
  });
});
