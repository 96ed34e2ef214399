/**
 * S3 object fan-out: the local engine reading a prefix of many small objects from the lab's S3
 * (`logs s3://...` as users run it, through the AWS SDK and the lab's loopback S3 endpoint), at
 * several `--concurrency` values, side by side with its peer: the same listing and GETs with the
 * same SDK and concurrency, bodies read and dropped (the cost of fetching alone). Reports objects/s,
 * lines/s, MB/s (compressed) and the ratio to the peer. Nothing is asserted: the figures go to
 * docs/scale.md. BENCH_S3_OBJECTS (default 10,000) and BENCH_S3_LINES (lines per object, default 20).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startAwsEndpoint } from '../src/lab/aws-api/server.js';
import type { LabBackend } from '../src/lab/backend.js';
import { MemoryObjectStore } from '../src/lab/object-store.js';
import { analyseAlbLogs } from '../src/logs/analyse.js';
import { formatAlbLine } from '../src/logs/format-line.js';
import { albRecord } from '../src/logs/record.js';
import { albLogKey } from '../src/logs/s3-key.js';

const OBJECTS = Number(process.env.BENCH_S3_OBJECTS ?? 10_000);
const LINES = Number(process.env.BENCH_S3_LINES ?? 20);
const CONCURRENCY = [8, 32, 64];
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const BUCKET = 'fanout-logs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const objects = new MemoryObjectStore();
let compressed = 0;
const start = Date.parse('2026-11-24T00:00:00Z');
for (let o = 0; o < OBJECTS; o++) {
  const lines: string[] = [];
  for (let i = 0; i < LINES; i++) {
    const ms = start + o * 8 + i;
    const failed = (o + i) % 9 === 0;
    lines.push(
      formatAlbLine(
        albRecord({
          type: 'https',
          time: new Date(ms).toISOString().replace('Z', '123Z'),
          elb: 'app/shop/50dc6c495c0c9188',
          client: '203.0.113.7',
          clientPort: 40000 + i,
          requestProcessingTime: 0,
          targetProcessingTime: failed ? null : 0.012,
          responseProcessingTime: failed ? null : 0,
          elbStatusCode: failed ? 502 : 200,
          targetStatusCode: failed ? null : 200,
          receivedBytes: 310,
          sentBytes: 1024,
          request: 'GET https://shop.example.com:443/api/cart HTTP/1.1',
          userAgent: 'curl/8.5.0',
          targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/api/73e2d6bc24d8a067`,
          traceId: `Root=1-${Math.floor(ms / 1000).toString(16)}-${String(o * LINES + i).padStart(24, '0')}`,
          errorReason: failed ? 'LambdaThrottling' : null,
          actionsExecuted: 'forward',
        }),
      ),
    );
  }
  const body = gzipSync(`${lines.join('\n')}\n`);
  compressed += body.length;
  // Distinct names within one day folder, as many load balancer nodes write them.
  const key = albLogKey({
    prefix: '',
    accountId: ACCOUNT,
    region: REGION,
    loadBalancerName: 'shop',
    loadBalancerId: '50dc6c495c0c9188',
    endMs: start + Math.floor(o / 50) * 300_000,
    nodeIp: `10.0.${Math.floor(o / 250) % 250}.${o % 250}`,
    random: `r${o.toString(36)}`,
  });
  objects.put(BUCKET, key, body, 'application/x-gzip');
}
const unused = () => {
  throw new Error('not used by this benchmark');
};
const backend: LabBackend = {
  region: REGION,
  accountId: ACCOUNT,
  s3: objects,
  cloudwatch: { list: unused, query: unused },
  lambda: {
    listFunctions: unused,
    getFunction: unused,
    account: unused,
    putReserved: unused,
    deleteReserved: unused,
    invoke: unused,
  },
  elbv2: { targetGroups: unused, loadBalancerArns: unused },
};
const endpoint = await startAwsEndpoint(backend, { port: 0 });
const prefix = `AWSLogs/${ACCOUNT}/elasticloadbalancing/${REGION}/`;
const url = `s3://${BUCKET}/${prefix}`;

/** The peer: list, then GET every object with `concurrency` workers, reading and dropping each body. */
async function fetchOnly(concurrency: number): Promise<number> {
  const client = new S3Client({
    endpoint: endpoint.url,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  let next = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        for await (const chunk of out.Body as Readable) bytes += (chunk as Buffer).length;
      }
    }),
  );
  client.destroy();
  return bytes;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
process.stdout.write(
  `${OBJECTS.toLocaleString('en-US')} objects x ${LINES} lines (${(compressed / 1e6).toFixed(1)} MB gzip) in the lab's S3, one prefix; load ${loadavg()[0]?.toFixed(2)}\n`,
);
process.stdout.write(
  'concurrency | engine s | objects/s | lines/s | MB/s (gz) | fetch-only s | engine/fetch-only\n',
);
for (const concurrency of CONCURRENCY) {
  const t0 = performance.now();
  const a = await analyseAlbLogs([url], { aws: { endpointUrl: endpoint.url, region: REGION }, concurrency });
  const engine = (performance.now() - t0) / 1000;
  if (a.errors.length > 0 || a.summary.files !== OBJECTS || a.summary.lines !== OBJECTS * LINES) {
    throw new Error(
      `engine read ${a.summary.files} objects, ${a.summary.lines} lines, ${a.errors.length} errors`,
    );
  }
  const t1 = performance.now();
  const fetched = await fetchOnly(concurrency);
  const peer = (performance.now() - t1) / 1000;
  if (fetched !== compressed) throw new Error(`fetch-only read ${fetched} bytes of ${compressed}`);
  process.stdout.write(
    `${String(concurrency).padStart(11)} | ${engine.toFixed(2).padStart(8)} | ${fmt(OBJECTS / engine).padStart(9)} | ${fmt((OBJECTS * LINES) / engine).padStart(7)} | ${(compressed / 1e6 / engine).toFixed(2).padStart(9)} | ${peer.toFixed(2).padStart(12)} | ${(engine / peer).toFixed(2)}x\n`,
  );
}
await endpoint.close();
