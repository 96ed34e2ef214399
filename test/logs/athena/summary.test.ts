/**
 * The Athena path against the local engine on the same objects in the lab's S3: the same
 * LogAnalysis summary (compared as parsed JSON: key order within a count map is not part of the
 * interface), through the real SDK clients and the lab's Athena (DuckDB).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAthena } from '../../../src/lab/aws-api/athena.js';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { parseStatusFilter } from '../../../src/logs/aggregate.js';
import { analyseAlbLogs } from '../../../src/logs/analyse.js';
import { AthenaQueryRunner } from '../../../src/logs/athena/client.js';
import { albAthenaDdl } from '../../../src/logs/athena/ddl.js';
import {
  analyseOnAthena,
  failedTracesOnAthena,
  parseAthenaSource,
} from '../../../src/logs/athena/summary.js';
import { albLogDayPrefix } from '../../../src/logs/s3-key.js';
import {
  DOC_HTTPS,
  DOC_LAMBDA_FAILED,
  DOC_LAMBDA_OK,
  lambdaLine,
  TG_API,
  TG_WEB,
} from '../../helpers/alb-lines.js';
import {
  ACCOUNT,
  albLogsRoot,
  caught,
  createMemoryBackend,
  type MemoryBackend,
  REGION,
} from '../../helpers/memory-backend.js';

const BUCKET = 'alb-logs';
const ROOT = albLogsRoot(BUCKET);
const OUTPUT = 's3://athena-results/summary/';
const T0 = Date.UTC(2026, 10, 24, 23, 50, 0);
const REASONS = ['LambdaThrottling', 'LambdaUnhandled', 'LambdaTimeout', null, null, null, null];

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let runner: AthenaQueryRunner;

/** A day's worth of varied entries across midnight, in 5-minute objects as the ALB writes them. */
function seed(): void {
  const objects = new Map<string, string[]>();
  for (let i = 0; i < 1500; i++) {
    const ms = T0 + i * 997;
    const reason = REASONS[i % REASONS.length] as string | null;
    const line = lambdaLine(ms, {
      reason,
      tg: i % 3 === 0 ? TG_WEB : TG_API,
      path: ['/api/cart', '/api/cart?id=3', '/api/pay', '/'][i % 4],
      status: reason === null && i % 11 === 0 ? 504 : undefined,
    });
    const end = (Math.floor(ms / 300_000) + 1) * 300_000;
    const key = `${albLogDayPrefix('', ACCOUNT, REGION, end)}${ACCOUNT}_elasticloadbalancing_${REGION}_app.shop.50dc6c495c0c9188_${new Date(end).toISOString().replace(/[-:]/g, '').slice(0, 13)}Z_10.0.0.1_abcd1234.log.gz`;
    const lines = objects.get(key) ?? [];
    lines.push(line);
    objects.set(key, lines);
  }
  for (const [key, lines] of objects) backend.addObject(BUCKET, key, gzipSync(`${lines.join('\n')}\n`));
  // The AWS documentation's entries and lines neither reader accepts, in a plain-text object.
  const day = albLogDayPrefix('', ACCOUNT, REGION, T0);
  backend.addObject(
    BUCKET,
    `${day}docs.log`,
    [DOC_LAMBDA_OK, DOC_LAMBDA_FAILED, DOC_HTTPS, 'garbage line', ''].join('\n'),
  );
}

const local = (sinceMs?: number, untilMs?: number, filter = {}) =>
  analyseAlbLogs([ROOT], {
    aws: { endpointUrl: endpoint.url, region: REGION },
    sinceMs,
    untilMs,
    filter,
    workers: 1,
  });

/** As --json prints it. */
const doc = (x: unknown) => JSON.parse(JSON.stringify(x));

beforeAll(async () => {
  backend = createMemoryBackend();
  seed();
  endpoint = await startAwsEndpoint(backend, { port: 0 });
  runner = await AthenaQueryRunner.create({
    aws: { endpointUrl: endpoint.url, region: REGION },
    settings: { database: 'alb', outputLocation: OUTPUT },
    pollMs: { firstMs: 5, maxMs: 50 },
  });
  for (const sql of albAthenaDdl({ location: ROOT, database: 'alb', table: 'logs' })) await runner.run(sql);
}, 60_000);

afterAll(async () => {
  runner.close();
  await endpoint.close();
});

describe('analyseOnAthena equals analyseAlbLogs', () => {
  it('over every partition: the whole summary', async () => {
    const athena = await analyseOnAthena(runner, { database: 'alb', table: 'logs' });
    const mine = await local();
    expect(mine.summary.lines).toBe(1503);
    expect(mine.summary.malformed).toBe(1);
    expect(doc(athena.summary)).toEqual(doc(mine.summary));
    expect(athena.athena.bytesScanned).toBeGreaterThan(0);
    expect(athena.athena.queries.at(-1)?.costUsd).toBeCloseTo((10 / 1024 / 1024) * 5, 12);
  });

  it('in a window across midnight: the counted entries (lines count what each engine read)', async () => {
    const since = T0 + 300_000;
    const until = T0 + 900_000;
    const athena = await analyseOnAthena(
      runner,
      { database: 'alb', table: 'logs' },
      { sinceMs: since, untilMs: until },
    );
    const mine = await local(since, until);
    const { lines: _a, files: _b, ...a } = doc(athena.summary);
    const { lines: _c, files: _d, ...m } = doc(mine.summary);
    expect(m.requests).toBeGreaterThan(500);
    expect(a).toEqual(m);
  });

  it('with --status, --reason and --target-group filters', async () => {
    const filters = [
      { statuses: parseStatusFilter('5xx') },
      { statuses: parseStatusFilter('504,200') },
      { reasons: new Set(['LambdaThrottling', 'LambdaTimeout']) },
      { targetGroups: ['web'] },
      { targetGroups: [TG_API] },
      { targetGroups: ['targetgroup/web/0a1b2c3d4e5f6789'], statuses: parseStatusFilter('502') },
    ];
    for (const filter of filters) {
      const athena = await analyseOnAthena(runner, { database: 'alb', table: 'logs' }, { filter });
      expect(doc(athena.summary)).toEqual(doc((await local(undefined, undefined, filter)).summary));
    }
  });

  it('finds failed entries by trace root in one query', async () => {
    const ms = T0 + 14 * 997; // i = 14: LambdaThrottling on the API group, /api/pay
    const root = `1-${Math.floor(ms / 1000).toString(16)}-${(ms % 1e12).toString(16).padStart(24, '0')}`;
    const before = runner.queries.length;
    const found = await failedTracesOnAthena(runner, { database: 'alb', table: 'logs' }, {}, [
      root,
      '1-00000000-000000000000000000000000',
    ]);
    expect(runner.queries.length).toBe(before + 1);
    expect([...found.keys()]).toEqual([root]);
    expect(found.get(root)).toEqual({
      timeMs: ms,
      elbStatusCode: 502,
      errorReason: 'LambdaThrottling',
      targetGroup: 'targetgroup/api/73e2d6bc24d8a067',
      path: '/api/pay',
    });
  });
});

describe('--max-scan', () => {
  it('lists the compressed objects under the window partitions and refuses above the limit', async () => {
    const since = T0 + 600_000; // the next day only
    const dayBytes = backend.s3
      .list(BUCKET, albLogDayPrefix('', ACCOUNT, REGION, since))
      .reduce((n, o) => n + o.body.length, 0);
    const aws = { endpointUrl: endpoint.url, region: REGION };
    const ok = await analyseOnAthena(
      runner,
      { database: 'alb', table: 'logs' },
      { sinceMs: since, untilMs: since + 60_000, maxScanBytes: dayBytes, aws },
    );
    expect(ok.athena.listedBytes).toBe(dayBytes);
    const before = runner.queries.length;
    const e = await caught(
      analyseOnAthena(
        runner,
        { database: 'alb', table: 'logs' },
        { sinceMs: since, untilMs: since + 60_000, maxScanBytes: dayBytes - 1, aws },
      ),
    );
    expect(e.code).toBe('TS_ATHENA_SCAN_LIMIT');
    expect(runner.queries.length).toBe(before);
  });
});

describe('athena:// sources', () => {
  it('parses database, table and settings; refuses the rest', () => {
    expect(parseAthenaSource('athena://alb.logs?workgroup=wg&output=s3://r/p/')).toEqual({
      database: 'alb',
      table: 'logs',
      settings: { database: 'alb', workGroup: 'wg', outputLocation: 's3://r/p/', catalog: undefined },
    });
    expect(() => parseAthenaSource('athena://logs')).toThrow(/athena:\/\/<database>.<table>/);
    expect(() => parseAthenaSource('athena://Alb.logs')).toThrow(/lower-case/);
    expect(() => parseAthenaSource('athena://alb.logs?region=x')).toThrow(/unknown parameter "region"/);
  });
});

describe('query lifecycle seen by the runner', () => {
  it('a FAILED query is TS_ATHENA_QUERY_FAILED with its reason; throttling is retried; an abort stops the query', async () => {
    const own = createMemoryBackend();
    labAthena(own, { maxActiveQueries: 1 });
    const ep = await startAwsEndpoint(own, { port: 0 });
    const controller = new AbortController();
    const make = (signal?: AbortSignal) =>
      AthenaQueryRunner.create({
        aws: { endpointUrl: ep.url, region: REGION },
        settings: { outputLocation: OUTPUT },
        signal,
        pollMs: { firstMs: 5, maxMs: 20 },
        backoff: { attempts: 50, firstMs: 10, maxMs: 40 },
      });
    const r = await make(controller.signal);
    const other = await make();
    try {
      const failed = await caught(r.run('SELECT nope FROM range(1)'));
      expect(failed.code).toBe('TS_ATHENA_QUERY_FAILED');
      expect(failed.message).toMatch(/nope/);
      // A slow query holds the only slot; the second runner's query is throttled, retried, and runs once the first is stopped.
      const slow = r.run('SELECT count(*) FROM range(100000000000) a');
      const second = other.run('SELECT 42 AS answer');
      await new Promise((res) => setTimeout(res, 200));
      controller.abort();
      const stopped = await caught(slow);
      expect(stopped.code).toBe('TS_INTERRUPTED');
      // Only the failed query completed from this runner's view; the stopped one is not billed here.
      expect(r.queries.map((q) => q.state)).toEqual(['FAILED']);
      const done = await second;
      const rows: (string | null)[][] = [];
      for await (const row of done.rows()) rows.push(row);
      expect(done.columns).toEqual(['answer']);
      expect(rows).toEqual([['42']]);
      const cancelled = labAthena(own);
      expect(
        JSON.stringify(
          cancelled.describe({
            QueryExecutionId: (stopped.message.match(/query (\S+) was stopped/) ?? [])[1],
          }),
        ),
      ).toMatch(/"State":"CANCELLED"/);
    } finally {
      r.close();
      other.close();
      await ep.close();
    }
  }, 30_000);
});
