import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyseAlbLogs } from '../../src/logs/analyse.js';
import { albLogKey, parseAlbLogKey } from '../../src/logs/s3-key.js';
import { s3ListPrefixes } from '../../src/logs/sources.js';
import { lambdaLine, TG_WEB } from '../helpers/alb-lines.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ts-logs-'));
}

describe('log sources', () => {
  it('reads a directory recursively, plain and gzip, and counts by status, reason, target group and minute', async () => {
    const dir = await tmp();
    await mkdir(join(dir, 'a', 'b'), { recursive: true });
    const plain = [
      lambdaLine(T0),
      lambdaLine(T0 + 1000, { reason: 'LambdaThrottling' }),
      lambdaLine(T0 + 61_000, { tg: TG_WEB, path: '/' }),
    ];
    const zipped = [
      lambdaLine(T0 + 62_000, { reason: 'LambdaThrottling' }),
      lambdaLine(T0 + 63_000, { reason: 'LambdaUnhandled', tg: TG_WEB, path: '/' }),
    ];
    await writeFile(join(dir, 'a', 'one.log'), `${plain.join('\n')}\n`);
    await writeFile(join(dir, 'a', 'b', 'two.gz'), gzipSync(`${zipped.join('\r\n')}\r\n`));
    await writeFile(join(dir, 'README.md'), 'not a log');
    const a = await analyseAlbLogs([dir]);
    expect(a.summary.files).toBe(2);
    expect(a.summary.lines).toBe(5);
    expect(a.summary.malformed).toBe(0);
    expect(a.summary.byElbStatus).toEqual({ '200': 2, '502': 3 });
    expect(a.summary.byErrorReason).toEqual({ LambdaThrottling: 2, LambdaUnhandled: 1 });
    expect(a.summary.byTargetGroup['targetgroup/api/73e2d6bc24d8a067']).toEqual({
      requests: 3,
      byErrorReason: { LambdaThrottling: 2 },
    });
    expect(a.summary.series.map((m) => [m.minute, m.requests])).toEqual([
      ['2026-11-24T10:00:00.000Z', 2],
      ['2026-11-24T10:01:00.000Z', 3],
    ]);
    expect(a.summary.series[1]?.fiveXx).toEqual({ LambdaThrottling: 1, LambdaUnhandled: 1 });
    expect(a.summary.topFailingPaths[0]).toMatchObject({ path: '/api/cart', failures: 2 });
    expect(a.summary.firstTime).toBe('2026-11-24T10:00:00.000123Z');
  });

  it('filters by window, status class, reason and target group', async () => {
    const dir = await tmp();
    const lines = [
      lambdaLine(T0),
      lambdaLine(T0 + 1000, { reason: 'LambdaThrottling' }),
      lambdaLine(T0 + 120_000, { reason: 'LambdaThrottling', tg: TG_WEB }),
    ];
    await writeFile(join(dir, 'x.log'), lines.join('\n'));
    const windowed = await analyseAlbLogs([dir], { sinceMs: T0 + 500, untilMs: T0 + 60_000 });
    expect(windowed.summary.requests).toBe(1);
    expect(windowed.read.outsideWindow).toBe(2);
    const byTg = await analyseAlbLogs([dir], {
      filter: { targetGroups: ['web'], statuses: { codes: new Set(), classes: new Set([5]) } },
    });
    expect(byTg.summary.requests).toBe(1);
    const byReason = await analyseAlbLogs([dir], { filter: { reasons: new Set(['LambdaThrottling']) } });
    expect(byReason.summary.requests).toBe(2);
  });

  it('reads stdin, skips malformed lines naming file:line:field, and keeps what precedes a truncated gzip', async () => {
    const stdin = Readable.from([Buffer.from(`${lambdaLine(T0)}\nnot an alb line\n${lambdaLine(T0 + 1)}`)]);
    const a = await analyseAlbLogs(['-'], { stdin });
    expect(a.summary.lines).toBe(2);
    expect(a.summary.malformed).toBe(1);
    expect(a.malformedExamples[0]?.message).toMatch(
      /^stdin:2: field time \(column 2\): expected an ISO-8601/,
    );

    const dir = await tmp();
    const many = Array.from({ length: 2000 }, (_, i) => lambdaLine(T0 + i * 10));
    const gz = gzipSync(many.join('\n'));
    await writeFile(join(dir, 'cut.log.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
    const b = await analyseAlbLogs([join(dir, 'cut.log.gz'), join(dir, 'missing.log')]);
    expect(b.summary.lines).toBeGreaterThan(100);
    expect(b.summary.lines).toBeLessThan(2000);
    expect(b.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/cut\.log\.gz: gzip file is truncated .* \(the lines before it were kept\)/),
      expect.stringMatching(/missing\.log: no such file or directory/),
    ]);
  });

  it('writes matching records as JSON lines', async () => {
    const dir = await tmp();
    await writeFile(
      join(dir, 'x.log'),
      [lambdaLine(T0), lambdaLine(T0 + 1, { reason: 'LambdaThrottling' })].join('\n'),
    );
    const out = join(dir, 'records.jsonl');
    await analyseAlbLogs([join(dir, 'x.log')], {
      recordsPath: out,
      filter: { reasons: new Set(['LambdaThrottling']) },
    });
    const { readFile } = await import('node:fs/promises');
    const rows = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      errorReason: 'LambdaThrottling',
      elbStatusCode: 502,
      targetStatusCode: null,
    });
  });
});

describe('AWS key layout', () => {
  it('writes and parses the documented file name', () => {
    const key = albLogKey({
      prefix: 'logs',
      accountId: '123456789012',
      region: 'eu-west-1',
      loadBalancerName: 'shop',
      loadBalancerId: '50dc6c495c0c9188',
      endMs: Date.parse('2026-11-24T10:05:00Z'),
      nodeIp: '10.0.1.17',
      random: '2xzj8pq7',
    });
    expect(key).toBe(
      'logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/24/123456789012_elasticloadbalancing_eu-west-1_app.shop.50dc6c495c0c9188_20261124T1005Z_10.0.1.17_2xzj8pq7.log.gz',
    );
    expect(parseAlbLogKey(key)).toMatchObject({
      prefix: 'logs',
      loadBalancerName: 'shop',
      endMs: Date.parse('2026-11-24T10:05:00Z'),
    });
    expect(parseAlbLogKey('random.txt')).toBeUndefined();
  });

  it('lists one prefix per day when given the region folder and a window', () => {
    const p = s3ListPrefixes(
      'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/',
      Date.parse('2026-11-23T23:00:00Z'),
      Date.parse('2026-11-24T01:00:00Z'),
    );
    expect(p).toEqual([
      'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/23/',
      'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/24/',
    ]);
    expect(s3ListPrefixes('some/prefix', 0, 1)).toEqual(['some/prefix']);
  });
});

describe('parallel scan', () => {
  it('worker threads produce exactly the single-thread summary', async () => {
    const dir = await tmp();
    for (let f = 0; f < 5; f++) {
      const lines = Array.from({ length: 400 }, (_, i) =>
        lambdaLine(T0 + (f * 400 + i) * 997, {
          reason: i % 7 === 0 ? 'LambdaThrottling' : null,
          tg: i % 3 === 0 ? TG_WEB : undefined,
          path: `/p${i % 5}`,
        }),
      );
      if (f === 2) lines.splice(10, 0, 'broken line');
      await writeFile(
        join(dir, `f${f}.log${f % 2 ? '.gz' : ''}`),
        f % 2 ? gzipSync(lines.join('\n')) : lines.join('\n'),
      );
    }
    const single = await analyseAlbLogs([dir], { workers: 1 });
    const parallel = await analyseAlbLogs([dir], { workers: 3, parallelMinBytes: 0 });
    expect(parallel.summary).toEqual(single.summary);
    expect(parallel.summary.lines).toBe(2000);
    expect(parallel.summary.malformed).toBe(1);
    expect(parallel.malformedExamples[0]?.message).toMatch(/f2\.log:11: field/);
    const windowed = await analyseAlbLogs([dir], {
      workers: 2,
      parallelMinBytes: 0,
      sinceMs: T0 + 500_000,
      filter: { reasons: new Set(['LambdaThrottling']) },
    });
    const windowedSingle = await analyseAlbLogs([dir], {
      workers: 1,
      sinceMs: T0 + 500_000,
      filter: { reasons: new Set(['LambdaThrottling']) },
    });
    expect(windowed.summary).toEqual(windowedSingle.summary);
  });
});
