import { request } from 'node:http';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { caught, createMemoryBackend, type MemoryBackend, REGION } from '../../helpers/memory-backend.js';

const BUCKET = 'alb-logs';
const PREFIX = 'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/';
const LOG_KEYS = Array.from(
  { length: 7 },
  (_, i) =>
    `${PREFIX}123456789012_elasticloadbalancing_eu-west-1_app.lab-alb.abc_20240501T12${String(i).padStart(2, '0')}Z_127.0.0.1_x${i}.log.gz`,
);

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let s3: S3Client;

beforeAll(async () => {
  backend = createMemoryBackend();
  LOG_KEYS.forEach((k, i) => {
    backend.addObject(BUCKET, k, `line ${i}\n`, 'application/x-gzip');
  });
  backend.addObject(BUCKET, 'AWSLogs/123456789012/ELBAccessLogTestFile', 'test');
  backend.addObject(BUCKET, 'other/a b+c%d.txt', 'spaces and plus');
  backend.addObject(BUCKET, 'other/ünïcode.txt', 'unicode');
  backend.addObject(BUCKET, 'top.txt', '0123456789', 'text/plain');
  backend.addObject('second-bucket', 'x', 'y');
  endpoint = await startAwsEndpoint(backend, {});
  s3 = new S3Client({
    endpoint: endpoint.url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  s3.destroy();
  await endpoint.close();
});

function rawGet(
  path: string,
  host: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(endpoint.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('S3 API', () => {
  it('lists buckets', async () => {
    const out = await s3.send(new ListBucketsCommand({}));
    expect(out.Buckets?.map((b) => b.Name)).toEqual(['alb-logs', 'second-bucket']);
    expect(out.Buckets?.[0]?.CreationDate).toEqual(new Date(Date.UTC(2024, 0, 1)));
    expect(out.Owner?.ID).toBe('123456789012');
  });

  it('lists objects under a prefix with size, etag and dates', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PREFIX }));
    expect(out.KeyCount).toBe(7);
    expect(out.IsTruncated).toBe(false);
    expect(out.Contents?.map((c) => c.Key)).toEqual(LOG_KEYS);
    const first = out.Contents![0]!;
    expect(first.Size).toBe(7);
    expect(first.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(first.LastModified).toEqual(new Date(Date.UTC(2024, 4, 1, 12)));
    expect(first.StorageClass).toBe('STANDARD');
  });

  it('rolls keys up into CommonPrefixes with a delimiter', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['AWSLogs/', 'other/']);
    expect(top.Contents?.map((c) => c.Key)).toEqual(['top.txt']);
    expect(top.KeyCount).toBe(3);
    const inner = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/', Prefix: 'AWSLogs/123456789012/' }),
    );
    expect(inner.CommonPrefixes?.map((p) => p.Prefix)).toEqual([
      'AWSLogs/123456789012/elasticloadbalancing/',
    ]);
    expect(inner.Contents?.map((c) => c.Key)).toEqual(['AWSLogs/123456789012/ELBAccessLogTestFile']);
  });

  it('paginates with max-keys and continuation tokens, prefixes counting as keys', async () => {
    const page1 = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 3, Prefix: PREFIX }));
    expect(page1.IsTruncated).toBe(true);
    expect(page1.KeyCount).toBe(3);
    expect(page1.MaxKeys).toBe(3);
    const page2 = await s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        MaxKeys: 3,
        Prefix: PREFIX,
        ContinuationToken: page1.NextContinuationToken,
      }),
    );
    expect(page2.ContinuationToken).toBe(page1.NextContinuationToken);
    expect(page2.Contents?.map((c) => c.Key)).toEqual(LOG_KEYS.slice(3, 6));

    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: BUCKET })) {
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    expect(keys).toHaveLength(11);
    expect(keys).toContain('other/a b+c%d.txt');

    const rolled: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 1 },
      { Bucket: BUCKET, Delimiter: '/' },
    )) {
      rolled.push(
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
        ...(page.Contents ?? []).map((c) => c.Key!),
      );
    }
    expect(rolled).toEqual(['AWSLogs/', 'other/', 'top.txt']);
  });

  it('honours start-after and refuses a bad continuation token', async () => {
    const out = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PREFIX, StartAfter: LOG_KEYS[4] }),
    );
    expect(out.Contents?.map((c) => c.Key)).toEqual(LOG_KEYS.slice(5));
    const err = await caught(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: '!!' })));
    expect(err.name).toBe('InvalidArgument');
  });

  it('URL-encodes keys when asked to (encoding-type=url)', async () => {
    const res = await fetch(`${endpoint.url}/${BUCKET}?list-type=2&prefix=other%2F&encoding-type=url`);
    const text = await res.text();
    expect(text).toContain('<Key>other/a%20b%2Bc%25d.txt</Key>');
    expect(text).toContain('<EncodingType>url</EncodingType>');
  });

  it('gets objects with their headers, keys with ":" "_" "/" and spaces decoded', async () => {
    const key = LOG_KEYS[2]!;
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(await out.Body!.transformToString()).toBe('line 2\n');
    expect(out.ContentLength).toBe(7);
    expect(out.ContentType).toBe('application/x-gzip');
    expect(out.ETag).toBe(backend.s3.get(BUCKET, key)!.etag);
    expect(out.LastModified).toEqual(new Date(Date.UTC(2024, 4, 1, 12)));
    const odd = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'other/a b+c%d.txt' }));
    expect(await odd.Body!.transformToString()).toBe('spaces and plus');
    const uni = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'other/ünïcode.txt' }));
    expect(await uni.Body!.transformToString()).toBe('unicode');
  });

  it('serves byte ranges', async () => {
    const mid = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'top.txt', Range: 'bytes=2-5' }));
    expect(await mid.Body!.transformToString()).toBe('2345');
    expect(mid.ContentRange).toBe('bytes 2-5/10');
    expect(mid.ContentLength).toBe(4);
    const tail = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'top.txt', Range: 'bytes=-3' }));
    expect(await tail.Body!.transformToString()).toBe('789');
    const err = await caught(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'top.txt', Range: 'bytes=20-' })),
    );
    expect(err.name).toBe('InvalidRange');
  });

  it('heads objects', async () => {
    const out = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'top.txt' }));
    expect(out.ContentLength).toBe(10);
    expect(out.ContentType).toBe('text/plain');
    const err = await caught(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing' })));
    expect(err.name).toBe('NotFound');
    expect((err.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);
  });

  it('answers NoSuchKey and NoSuchBucket in S3 XML', async () => {
    const key = await caught(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing/key' })));
    expect(key.name).toBe('NoSuchKey');
    expect(key.message).toBe('The specified key does not exist.');
    const bucket = await caught(s3.send(new ListObjectsV2Command({ Bucket: 'no-such' })));
    expect(bucket.name).toBe('NoSuchBucket');
    expect((bucket.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);
    const res = await fetch(`${endpoint.url}/${BUCKET}/missing`);
    expect(res.status).toBe(404);
    const xml = await res.text();
    expect(xml).toContain(
      '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing</Key>',
    );
  });

  it('serves virtual-host style requests (Host: bucket.localhost)', async () => {
    const list = await rawGet('/?list-type=2&prefix=other/', `${BUCKET}.localhost:${endpoint.port}`);
    expect(list.status).toBe(200);
    expect(list.body).toContain('<Key>other/a b+c%d.txt</Key>');
    const obj = await rawGet('/top.txt', `${BUCKET}.localhost`);
    expect(obj.status).toBe(200);
    expect(obj.body).toBe('0123456789');
  });

  it('names unsupported operations', async () => {
    const res = await fetch(`${endpoint.url}/${BUCKET}/new-key`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(400);
    const xml = await res.text();
    expect(xml).toContain('<Code>NotImplemented</Code>');
    expect(xml).toContain('PutObject');
    const acl = await fetch(`${endpoint.url}/${BUCKET}?acl`);
    expect(await acl.text()).toContain('GetBucketAcl');
  });
});
