import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ACCESS_LOG_KEY, accessLogKey } from '../../src/lab/access-log.js';
import { AlbMetric, LambdaMetric, Namespace } from '../../src/lab/telemetry.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { parseAlbLine } from '../../src/logs/parse-line.js';
import type { AlbLogRecord } from '../../src/logs/record.js';
import { fixed, handler, scenarioWith, sleep, type TestLab, testLab } from './helpers.js';

function readLogs(lab: TestLab): { keys: string[]; records: AlbLogRecord[]; lines: string[] } {
  const bucket = lab.scenario.loadBalancer.accessLogs.bucket;
  const objects = lab.backend.s3.list(bucket, '');
  const lines = objects.flatMap((o) =>
    gunzipSync(o.body)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== ''),
  );
  return { keys: objects.map((o) => o.key), lines, records: lines.map((l) => parseAlbLine(l)) };
}

describe('access logs and metrics from mixed traffic', () => {
  let lab: TestLab;
  let dataDir: string;
  const sent = { ok: 0, slow: 0, off: 0, default: 0, echo: 0, aborted: 0 };
  let echoTrace = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lab-logs-'));
    lab = await testLab(
      scenarioWith(
        [
          fixed('ok', 5),
          fixed('slow', 500),
          fixed('off', 5, { reservedConcurrency: 0 }),
          handler('echo', 'echo.mjs'),
        ],
        {
          account: { concurrencyLimit: 6, unreservedMinimum: 1 },
        },
      ),
      { dataDir },
    );
    for (let i = 0; i < 20; i++) {
      await lab.get('/ok');
      sent.ok++;
    }
    // 8 at once against a pool of 6 (a reservation of 0 takes nothing from it): 2 throttled.
    await Promise.all(Array.from({ length: 8 }, () => lab.get('/slow')));
    sent.slow += 8;
    await Promise.all([lab.get('/off'), lab.get('/off')]);
    sent.off += 2;
    await lab.get('/somewhere/else');
    sent.default++;
    const e = await lab.get('/echo', { 'x-amzn-trace-id': 'Root=1-5c536348-3d683b8b04734faae651f476' });
    echoTrace = JSON.parse(e.text).headers['x-amzn-trace-id'];
    sent.echo++;
    // A client that gives up before the answer: logged as 460.
    const ac = new AbortController();
    const aborted = lab.http
      .request({ path: '/slow', method: 'GET', signal: ac.signal })
      .catch(() => undefined);
    await sleep(100);
    ac.abort();
    await aborted;
    sent.aborted++;
    await sleep(600);
    await lab.flush();
  });
  afterAll(async () => {
    await lab?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const total = () => Object.values(sent).reduce((a, b) => a + b, 0);

  test('one parsable line per request served, in files named like AWS', () => {
    const { keys, records } = readLogs(lab);
    expect(lab.snapshot().alb.requests).toBe(total());
    expect(records).toHaveLength(total());
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const m = ACCESS_LOG_KEY.exec(k);
      expect(m, k).not.toBeNull();
      expect(m![2]).toBe('123456789012');
      expect(m![3]).toBe('us-east-1');
      expect(m![7]).toBe('test-alb');
      expect(m![8]).toBe(lab.loadBalancer.id);
      expect(m![10]).toBe('10.0.1.23');
    }
  });

  test('lines round-trip through the shared parser and writer', () => {
    const { lines, records } = readLogs(lab);
    records.forEach((r, i) => {
      expect(formatAlbLine(r)).toBe(lines[i]);
    });
  });

  test('field values follow the ALB rules for Lambda targets', () => {
    const { records } = readLogs(lab);
    const tgArn = /^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/[a-z-]+\/[0-9a-f]{16}$/;
    for (const r of records) {
      expect(r.type).toBe('http');
      expect(r.elb).toBe(lab.loadBalancer.dimension);
      expect(r.elb).toMatch(/^app\/test-alb\/[0-9a-f]{16}$/);
      expect(r.target).toBeNull();
      expect(r.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      expect(r.requestCreationTime).toMatch(/\.\d{6}Z$/);
      expect(Date.parse(r.requestCreationTime!)).toBeLessThanOrEqual(r.timeMs);
      expect(r.actionsExecuted).toBe('forward');
      expect(r.targetGroupArn).toMatch(tgArn);
      expect(r.traceId).toMatch(/Root=1-[0-9a-f]{8}-[0-9a-f]{24}/);
      expect(r.connTraceId).toMatch(/^TID_[0-9a-f]{32}$/);
      expect(r.client).toBe('127.0.0.1');
      expect(r.request).toMatch(/^GET http:\/\/[^ ]+:\d+\/\S* HTTP\/1\.1$/);
    }
    const throttled = records.filter((r) => r.errorReason === 'LambdaThrottling');
    expect(throttled).toHaveLength(2 + 2);
    for (const r of throttled) {
      expect(r.elbStatusCode).toBe(502);
      expect(r.targetStatusCode).toBeNull();
      expect([r.requestProcessingTime, r.targetProcessingTime, r.responseProcessingTime]).toEqual([
        null,
        null,
        null,
      ]);
    }
    const ok = records.filter((r) => r.elbStatusCode === 200);
    expect(ok).toHaveLength(20 + 6 + 1 + 1);
    for (const r of ok) {
      expect(r.targetStatusCode).toBe(200);
      expect(r.errorReason).toBeNull();
      expect(r.targetProcessingTime).toBeGreaterThanOrEqual(0);
    }
    const slowOk = ok.filter((r) => r.request!.includes('/slow'));
    for (const r of slowOk) expect(r.targetProcessingTime!).toBeGreaterThanOrEqual(0.49);
    expect(records.find((r) => r.request!.includes('/somewhere/else'))!.matchedRulePriority).toBe(0);
    expect(
      records.find((r) => r.request!.includes(' http://127.0.0.1:') && r.request!.includes('/ok'))!
        .matchedRulePriority,
    ).toBe(1);
    expect(records.filter((r) => r.elbStatusCode === 460)).toHaveLength(1);
    expect(records.find((r) => r.request!.includes('/echo'))!.traceId).toBe(echoTrace);
  });

  test('files are mirrored under --data-dir with the same key', async () => {
    const { keys } = readLogs(lab);
    const bucket = lab.scenario.loadBalancer.accessLogs.bucket;
    for (const k of keys) {
      const onDisk = await readFile(join(dataDir, bucket, k));
      expect(onDisk.equals(lab.backend.s3.get(bucket, k)!.body)).toBe(true);
    }
    expect(await readdir(dataDir)).toContain('cloudwatch-metrics.json');
  });

  test('metric sums equal the counts', () => {
    const m = lab.metrics;
    const lb = [{ name: 'LoadBalancer', value: lab.loadBalancer.dimension }];
    const alb = (metricName: string, dimensions = lb) =>
      m.total({ namespace: Namespace.alb, metricName, dimensions });
    const s = lab.snapshot();
    expect(alb(AlbMetric.requestCount)).toBe(total());
    expect(alb('HTTPCode_ELB_502_Count')).toBe(4);
    expect(alb(AlbMetric.elb5xx)).toBe(4);
    expect(alb(AlbMetric.target2xx)).toBe(28);
    expect(alb(AlbMetric.lambdaUserError)).toBe(4);
    for (const [name, tg] of lab.targetGroups) {
      const dims = [...lb, { name: 'TargetGroup', value: tg.dimension }];
      expect(tg.dimension).toMatch(/^targetgroup\/[a-z-]+\/[0-9a-f]{16}$/);
      expect(alb(AlbMetric.requestCount, dims)).toBe(s.alb.byTargetGroup[name]?.requests ?? 0);
    }
    const lam = (metricName: string, fn?: string) =>
      m.total({
        namespace: Namespace.lambda,
        metricName,
        dimensions: fn ? [{ name: 'FunctionName', value: fn }] : [],
      });
    let invocations = 0;
    let throttles = 0;
    for (const f of s.functions) {
      expect(lam(LambdaMetric.invocations, f.name)).toBe(f.invocations);
      expect(lam(LambdaMetric.throttles, f.name)).toBe(f.throttles);
      expect(lam(LambdaMetric.errors, f.name)).toBe(f.errors);
      invocations += f.invocations;
      throttles += f.throttles;
    }
    expect(lam(LambdaMetric.invocations)).toBe(invocations);
    expect(lam(LambdaMetric.throttles)).toBe(throttles);
    expect(throttles).toBe(4);
    const dur = m.query(
      {
        namespace: Namespace.lambda,
        metricName: LambdaMetric.duration,
        dimensions: [{ name: 'FunctionName', value: 'slow' }],
      },
      'Minimum',
      3600,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    // The minimum over every hour's period (a run can cross a full hour).
    expect(Math.min(...dur.values)).toBe(500);
    const names = new Set(m.list({ namespace: Namespace.lambda }).map((x) => x.metricName));
    for (const n of ['ConcurrentExecutions', 'UnreservedConcurrentExecutions', 'ClaimedAccountConcurrency'])
      expect(names).toContain(n);
    const tr = m.query(
      { namespace: Namespace.alb, metricName: AlbMetric.targetResponseTime, dimensions: lb },
      'SampleCount',
      3600,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    expect(tr.values.reduce((a, b) => a + b, 0)).toBe(28);
  });
});

describe('access-log rotation', () => {
  test('a file per interval, named by the interval end, nothing lost', async () => {
    // Prepare: 10x lab time, a 1 s delivery interval.
    const s = scenarioWith([fixed('ok', 1)], { timeScale: 10 });
    s.loadBalancer.accessLogs.interval = 1000;
    const lab = await testLab(s);
    try {
      // Act: ~4 lab seconds of requests.
      let n = 0;
      const until = Date.now() + 400;
      while (Date.now() < until && n < 2000) {
        await lab.get('/ok');
        n++;
      }
      await sleep(250);
      const delivered = lab.snapshot().accessLogs.filesDelivered;
      await lab.flush();
      // Assess
      const { keys, records } = readLogs(lab);
      expect(delivered).toBeGreaterThanOrEqual(2);
      expect(keys.length).toBeGreaterThanOrEqual(3);
      expect(records).toHaveLength(n);
      for (const k of keys) expect(k).toMatch(ACCESS_LOG_KEY);
    } finally {
      await lab.close();
    }
  });

  test('key layout with a prefix, dates from the interval end', () => {
    const key = accessLogKey({
      prefix: 'my/prefix/',
      accountId: '123456789012',
      region: 'eu-west-1',
      lbName: 'my-lb',
      lbId: '0123456789abcdef',
      nodeIp: '10.0.1.23',
      endMs: Date.UTC(2026, 11, 31, 23, 55),
      random: 'abcd1234',
    });
    expect(key).toBe(
      'my/prefix/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/31/123456789012_elasticloadbalancing_eu-west-1_app.my-lb.0123456789abcdef_20261231T2355Z_10.0.1.23_abcd1234.log.gz',
    );
    expect(key).toMatch(ACCESS_LOG_KEY);
  });
});
