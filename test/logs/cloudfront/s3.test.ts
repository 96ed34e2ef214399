/** CloudFront standard logs from S3: the real AWS SDK v3 client against the lab's S3 API, keys in CloudFront's layout. */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { analyseAlbLogs } from '../../../src/logs/analyse.js';
import { cloudFrontFileHeader, cloudFrontLogKey } from '../../../src/logs/cloudfront/index.js';
import { lambdaLine, shopLogKey } from '../../helpers/alb-lines.js';
import { cloudFrontLine } from '../../helpers/cloudfront-lines.js';
import { createMemoryBackend, type MemoryBackend, REGION } from '../../helpers/memory-backend.js';

const HOUR = Date.parse('2026-11-24T10:00:00Z');
let backend: MemoryBackend;
let endpoint: { url: string; close(): Promise<void> };

beforeAll(async () => {
  backend = createMemoryBackend();
  // Three hours of CloudFront files (two per hour, as CloudFront may deliver), 5 entries each.
  for (let h = -1; h <= 1; h++) {
    for (const unique of ['A1', 'B2']) {
      const hourMs = HOUR + h * 3_600_000;
      const lines = Array.from({ length: 5 }, (_, i) =>
        cloudFrontLine(hourMs + i * 60_000, { status: i === 0 ? 502 : 200 }),
      );
      backend.addObject(
        'logs-bucket',
        cloudFrontLogKey({ prefix: 'cf', distributionId: 'E2QWRUHAPOMQZL', hourMs, unique }),
        gzipSync(`${cloudFrontFileHeader()}${lines.join('\n')}\n`),
      );
    }
  }
  backend.addObject(
    'logs-bucket',
    shopLogKey('cf-and-alb', HOUR + 300_000, 'x1'),
    gzipSync(lambdaLine(HOUR + 1000)),
  );
  endpoint = await startAwsEndpoint(backend, { port: 0 });
});
afterAll(async () => endpoint?.close());

describe('s3:// CloudFront logs', () => {
  const aws = () => ({ endpointUrl: endpoint.url, region: REGION });

  it('downloads only the files named for hours inside the window, and counts them apart from ALB files', async () => {
    const a = await analyseAlbLogs(['s3://logs-bucket/cf/'], {
      aws: aws(),
      sinceMs: HOUR,
      untilMs: HOUR + 3_600_000,
    });
    expect(a.errors).toEqual([]);
    expect(a.read.skippedFiles).toBe(4);
    expect(a.cloudfront).toMatchObject({
      files: 2,
      lines: 10,
      requests: 10,
      byStatus: { '200': 8, '502': 2 },
    });
    expect(a.summary.files).toBe(0);
  });

  it('reads ALB and CloudFront objects under one prefix, each by its own format', async () => {
    const a = await analyseAlbLogs(['s3://logs-bucket/'], { aws: aws(), concurrency: 3 });
    expect(a.errors).toEqual([]);
    expect(a.cloudfront).toMatchObject({ files: 6, lines: 30 });
    expect(a.summary).toMatchObject({ files: 1, lines: 1, malformed: 0 });
  });
});
