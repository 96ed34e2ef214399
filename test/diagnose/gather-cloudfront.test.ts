/** AWS/CloudFront metrics through the real SDK v3 CloudWatch client, against the lab's CloudWatch API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeMinutes } from '../../src/diagnose/cloudfront.js';
import { readCloudFrontMetrics } from '../../src/diagnose/gather-cloudfront.js';
import { startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { createMemoryBackend, type MemoryBackend, NO_AWS_CONFIG_ENV } from '../helpers/memory-backend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const ID = 'E2QWRUHAPOMQZL';
const metric = (metricName: string, distributionId = ID) => ({
  namespace: 'AWS/CloudFront',
  metricName,
  dimensions: [
    { name: 'DistributionId', value: distributionId },
    { name: 'Region', value: 'Global' },
  ],
});

let backend: MemoryBackend;
let endpoint: { url: string; close(): Promise<void> };

beforeAll(async () => {
  backend = createMemoryBackend();
  for (let m = 0; m < 3; m++) {
    backend.addDatapoint(metric('Requests'), T0 + m * 60_000 + 5_000, 200);
    backend.addDatapoint(metric('5xxErrorRate'), T0 + m * 60_000 + 5_000, m === 1 ? 30 : 0);
  }
  // Another distribution's figures must not be read.
  backend.addDatapoint(metric('Requests', 'EOTHER'), T0 + 5_000, 9_999);
  endpoint = await startAwsEndpoint(backend, { port: 0 });
});
afterAll(async () => endpoint?.close());

describe('readCloudFrontMetrics', () => {
  it('reads Requests (Sum) and 5xxErrorRate (Average) for DistributionId and Region=Global, per minute', async () => {
    const { metrics, messages } = await readCloudFrontMetrics(
      ID,
      { startMs: T0, endMs: T0 + 180_000, periodSec: 60 },
      { endpointUrl: endpoint.url, env: NO_AWS_CONFIG_ENV },
    );
    expect(messages).toEqual([]);
    expect(metrics.requests).toEqual({
      timestampsMs: [T0, T0 + 60_000, T0 + 120_000],
      values: [200, 200, 200],
    });
    expect(metrics.errorRate5xx.values).toEqual([0, 30, 0]);
    expect(edgeMinutes({ metrics }, undefined)).toEqual([
      { minuteMs: T0 + 60_000, viewer5xx: 60, viewerOrigin5xx: 60, alb5xx: 0, replayed: 0 },
    ]);
  });
});
