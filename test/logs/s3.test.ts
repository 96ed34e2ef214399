/** The S3 source end to end: the real AWS SDK v3 client over HTTP against the lab's S3 API. */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { analyseAlbLogs } from '../../src/logs/analyse.js';
import { lambdaLine, shopLogKey } from '../helpers/alb-lines.js';
import { createMemoryBackend, type MemoryBackend, REGION } from '../helpers/memory-backend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
let backend: MemoryBackend;
let endpoint: { url: string; close(): Promise<void> };
const key = (endMs: number, random: string) => shopLogKey('alb', endMs, random);

beforeAll(async () => {
  backend = createMemoryBackend();
  // One file per 5-minute interval from 09:00 to 11:00, each with 10 entries inside its interval.
  for (let i = 1; i <= 24; i++) {
    const end = T0 - 3_600_000 + i * 300_000;
    const lines = Array.from({ length: 10 }, (_, j) =>
      lambdaLine(end - 300_000 + j * 1000, { reason: j < 2 ? 'LambdaThrottling' : null }),
    );
    backend.addObject('logs-bucket', key(end, `r${i}`), gzipSync(lines.join('\n')));
  }
  backend.addObject(
    'logs-bucket',
    'alb/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/24/broken.log.gz',
    gzipSync('not a log line'),
  );
  endpoint = await startAwsEndpoint(backend, { port: 0 });
});
afterAll(async () => endpoint?.close());

describe('s3:// source', () => {
  const aws = () => ({ endpointUrl: endpoint.url, region: REGION });

  it('lists day prefixes, downloads only the keys whose interval touches the window, and counts them', async () => {
    const a = await analyseAlbLogs(
      ['s3://logs-bucket/alb/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/'],
      {
        aws: aws(),
        sinceMs: T0,
        untilMs: T0 + 1_800_000,
      },
    );
    expect(a.errors).toEqual([]);
    expect(a.summary.requests).toBe(60); // six 5-minute files inside 10:00-10:30
    expect(a.summary.byErrorReason).toEqual({ LambdaThrottling: 12 });
    expect(a.read.skippedFiles).toBeGreaterThan(10);
    expect(a.summary.malformed).toBe(1); // the odd object in the day folder is read and its line rejected
  });

  it('reads a whole prefix without a window, with bounded parallel downloads', async () => {
    const a = await analyseAlbLogs(['s3://logs-bucket/alb/'], { aws: aws(), concurrency: 3 });
    expect(a.summary.lines).toBe(240);
    expect(a.summary.files).toBe(25);
  });

  it('names the bucket when it does not exist', async () => {
    const a = await analyseAlbLogs(['s3://no-such-bucket/x/'], { aws: aws() });
    expect(a.errors[0]?.message).toMatch(/no-such-bucket.*NoSuchBucket/);
  });
});
