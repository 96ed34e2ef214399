import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { LabBackend } from '../../src/lab/backend.js';
import type { MetricsReport } from '../../src/metrics/index.js';
import { fakeCli } from '../helpers/cli.js';
import { albMetric, createMemoryBackend, lambdaMetric, REGION } from '../helpers/memory-backend.js';

const SERVER = new URL('../../src/lab/aws-api/server.ts', import.meta.url);
type Endpoint = { url: string; close(): Promise<void> };

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

function ctx(env: NodeJS.ProcessEnv = { HOME: mkdtempSync(join(tmpdir(), 'ts-home-')) }) {
  return fakeCli({ env });
}

const since = new Date(T0).toISOString();
const until = new Date(T0 + 10 * MIN).toISOString();

describe.skipIf(!existsSync(SERVER))('throttlescope metrics', () => {
  let endpoint: Endpoint;

  beforeAll(async () => {
    const b = createMemoryBackend({ accountLimit: 50 });
    b.addFunction('reports-worker');
    b.addFunction('api');
    b.addFunction('web', 5);
    for (let m = 0; m < 10; m++) {
      const t = T0 + m * MIN;
      const storm = m >= 4 && m < 7;
      b.addDatapoint(lambdaMetric('ConcurrentExecutions', 'reports-worker'), t, storm ? 43 : 3);
      b.addDatapoint(lambdaMetric('ConcurrentExecutions', 'api'), t, storm ? 2 : 4);
      b.addDatapoint(lambdaMetric('Throttles', 'api'), t, storm ? 30 : 0);
      b.addDatapoint(lambdaMetric('ConcurrentExecutions'), t, storm ? 46 : 8);
      b.addDatapoint(
        albMetric('HTTPCode_ELB_502_Count', 'app/shop/1', 'targetgroup/api/2'),
        t,
        storm ? 30 : 0,
      );
      b.addDatapoint(albMetric('RequestCount', 'app/shop/1', 'targetgroup/api/2'), t, 150);
    }
    const { startAwsEndpoint } = (await import(SERVER.href)) as {
      startAwsEndpoint: (b: LabBackend, o: { host?: string; port?: number }) => Promise<Endpoint>;
    };
    endpoint = await startAwsEndpoint(b, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => endpoint?.close());

  const args = () => [
    'metrics',
    '--endpoint-url',
    endpoint.url,
    '--region',
    REGION,
    '--since',
    since,
    '--until',
    until,
  ];

  it('shows the GetMetricData calls done on a terminal, and nothing with --json', async () => {
    const tty = ctx();
    tty.ctx.stderr.isTTY = true;
    expect(await main(args(), tty.ctx)).toBe(0);
    expect(tty.err.join('')).toMatch(/\r\x1b\[2K {2}CloudWatch: (\d+)\/\1 GetMetricData calls\n/);
    const json = ctx();
    json.ctx.stderr.isTTY = true;
    expect(await main([...args(), '--json'], json.ctx)).toBe(0);
    expect(json.err.join('')).toBe('');
  });

  it('prints a summary ending with the noisy neighbour', async () => {
    const c = ctx();
    const code = await main(args(), c.ctx);
    expect(c.err.join('')).toBe('');
    expect(code).toBe(0);
    const text = c.out.join('');
    expect(text).toContain(
      'Lambda in eu-west-1, 2026-11-24 10:00 to 2026-11-24 10:10 UTC (60s periods), 3 function(s)',
    );
    expect(text).toMatch(/account limit\s+50, shared pool 45 after reservations/);
    expect(text).toMatch(/peak concurrency\s+46 \(92% of the limit\) at 10:04/);
    expect(text).toMatch(/throttled periods\s+3 \(pool full in 3\), 90 throttles/);
    expect(text).toContain('  ALB app/shop/1: 90 ELB 502 (0 ELB 5xx) of 1,500 requests\n');
    expect(text).toContain(
      '    targetgroup/api/2: 1,500 requests, 0 LambdaUserError, 0 LambdaInternalError\n',
    );
    expect(text).toMatch(/reports-worker\s+93%\s+43\s+none\s+0\s+noisy neighbour/);
    expect(text).toMatch(/web\s+\d+%\s+0\s+5\s+0/);
    expect(text.trimEnd().split('\n').at(-1)).toMatch(
      /^reports-worker is the noisy neighbour: .* throttling api$/,
    );
  });

  it('--json prints the MetricsReport', async () => {
    const c = ctx();
    expect(await main([...args(), '--json', '--period', '1m'], c.ctx)).toBe(0);
    const r = JSON.parse(c.out.join('')) as MetricsReport;
    expect(Object.keys(r)).toEqual([
      'window',
      'region',
      'account',
      'functions',
      'accountSeries',
      'alb',
      'warnings',
      'ranking',
    ]);
    expect(r.window).toEqual({ startMs: T0, endMs: T0 + 10 * MIN, periodSec: 60 });
    expect(r.ranking.culprit).toBe('reports-worker');
    expect(r.ranking.victims).toEqual(['api']);
    expect(r.functions.map((f) => [f.name, f.reserved])).toEqual([
      ['api', null],
      ['reports-worker', null],
      ['web', 5],
    ]);
  });

  it('an empty window is a report with warnings and exit 0', async () => {
    const c = ctx();
    const code = await main(
      [
        'metrics',
        '--endpoint-url',
        endpoint.url,
        '--region',
        REGION,
        '--since',
        '2026-11-23T00:00Z',
        '--until',
        '2026-11-23T01:00Z',
      ],
      c.ctx,
    );
    expect(code).toBe(0);
    const text = c.out.join('');
    expect(text).toContain('no throttling in the window');
    expect(text).toMatch(/warning: no AWS\/Lambda datapoints in eu-west-1/);
  });

  it('takes the endpoint from AWS_ENDPOINT_URL and the region from AWS_REGION', async () => {
    const c = ctx({
      HOME: mkdtempSync(join(tmpdir(), 'ts-home-')),
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_REGION: REGION,
    });
    expect(await main(['metrics', '--since', since, '--until', until, '--json'], c.ctx)).toBe(0);
    expect((JSON.parse(c.out.join('')) as MetricsReport).ranking.culprit).toBe('reports-worker');
  });
});

describe('throttlescope metrics errors', () => {
  const oneLine = (err: string[]) => {
    const text = err.join('');
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).not.toMatch(/\n\s+at /);
    return text;
  };

  it('an unreachable endpoint: exit 4, one line', async () => {
    const c = ctx();
    const code = await main(['metrics', '--endpoint-url', 'http://127.0.0.1:9', '--region', REGION], c.ctx);
    expect(code).toBe(4);
    expect(oneLine(c.err).trimEnd()).toMatch(
      /^throttlescope metrics: Lambda ListFunctions: cannot reach the endpoint \(connect ECONNREFUSED 127\.0\.0\.1:9\) \[TS_AWS_UNREACHABLE\]$/,
    );
  });

  it('no region for real AWS: exit 2, one line', async () => {
    const c = ctx();
    expect(await main(['metrics'], c.ctx)).toBe(2);
    expect(oneLine(c.err)).toMatch(/no AWS region: pass --region.*\[TS_AWS_NO_REGION\]/);
  });

  it('bad flags: exit 2, one line', async () => {
    for (const argv of [
      ['metrics', '--period', '45'],
      ['metrics', '--since', '-1h', '--until', '-2h'],
      ['metrics', '--since', 'yesterday'],
      ['metrics', '--bogus'],
    ]) {
      const c = ctx();
      expect(await main(argv, c.ctx)).toBe(2);
      oneLine(c.err);
    }
  });
});
