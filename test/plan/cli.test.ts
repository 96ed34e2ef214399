/**
 * `throttlescope plan`. main.ts loads commands through a dynamic import vitest cannot resolve for
 * this one yet, so the tests call the command module directly; main only adds the `--help` and
 * error-to-exit-code wiring every command shares.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { command } from '../../src/cli/commands/plan.js';
import { ExitCode, ThrottlescopeError } from '../../src/common/errors.js';
import type { LabBackend } from '../../src/lab/backend.js';
import { NOISY_NEIGHBOUR } from '../../src/lab/builtin.js';
import { erlangB, minServersFor } from '../../src/plan/erlang.js';
import { fakeCli } from '../helpers/cli.js';
import { createMemoryBackend, lambdaMetric, REGION } from '../helpers/memory-backend.js';

function ctx(cwd = process.cwd()) {
  const c = fakeCli({ env: { HOME: mkdtempSync(join(tmpdir(), 'ts-home-')) } });
  c.ctx.cwd = cwd;
  return { ...c, json: () => JSON.parse(c.out.join('')) as Record<string, unknown> };
}

async function run(argv: string[], cwd?: string) {
  const c = ctx(cwd);
  const code = await command.run(argv, c.ctx);
  return { ...c, code };
}

/** The error a command throws, for its code, exit code and one-line message. */
async function failure(argv: string[], cwd?: string): Promise<ThrottlescopeError> {
  const c = ctx(cwd);
  try {
    await command.run(argv, c.ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ThrottlescopeError);
    return error as ThrottlescopeError;
  }
  throw new Error(`plan ${argv.join(' ')} did not fail`);
}

describe('plan erlang', () => {
  it('--load --concurrency --json prints {blocking}', async () => {
    const r = await run(['erlang', '--load', '3.13', '--concurrency', '4', '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(Object.keys(j)).toEqual(['blocking']);
    expect(j.blocking).toBeCloseTo(erlangB(3.13, 4), 15);
  });

  it('--load --target --json prints {concurrency, blocking}', async () => {
    const r = await run(['erlang', '--load', '20', '--target', '0.001', '--json']);
    const j = r.json();
    expect(Object.keys(j)).toEqual(['concurrency', 'blocking']);
    const need = minServersFor(20, 0.001);
    expect(j).toEqual({ concurrency: need.servers, blocking: need.blocking });
  });

  it("--rate --duration is Little's law", async () => {
    const a = (
      await run(['erlang', '--rate', '5', '--duration', '300ms', '--concurrency', '3', '--json'])
    ).json();
    const b = (await run(['erlang', '--load', '1.5', '--concurrency', '3', '--json'])).json();
    expect(a).toEqual(b);
    const text = (await run(['erlang', '--rate', '5', '--duration', '0.3s', '--target', '0.01'])).out.join(
      '',
    );
    expect(text).toMatch(/^1\.5 erlangs \(5\/s x 300 ms\): 6 concurrency keeps throttling at /);
  });

  it('prints a sentence without --json', async () => {
    const text = (await run(['erlang', '--load', '10', '--concurrency', '8'])).out.join('');
    expect(text).toBe('10 erlangs on 8 concurrency: 33.8% of requests throttled (Erlang B 0.3383)\n');
  });
});

describe('plan simulate', () => {
  it('noisy-neighbour --json: per function offered, throttleFraction and ci95', async () => {
    const r = await run(['simulate', 'noisy-neighbour', '--seed', '3', '--json']);
    expect(r.code).toBe(0);
    const j = r.json() as {
      functions: Record<string, unknown>[];
      alb: { throttleFraction: number; ci95: [number, number] };
    };
    expect(Object.keys(j)).toEqual(['scenario', 'minutes', 'seed', 'events', 'functions', 'alb', 'notes']);
    expect(j.functions.map((f) => f.name)).toEqual(['api', 'web', 'reports-worker']);
    for (const f of j.functions) {
      expect(Object.keys(f)).toEqual([
        'name',
        'albFacing',
        'reserved',
        'offered',
        'throttled',
        'throttleFraction',
        'ci95',
        'byCause',
        'peakConcurrency',
        'queue',
      ]);
      const [low, high] = f.ci95 as [number, number];
      expect(low).toBeLessThanOrEqual(f.throttleFraction as number);
      expect(high).toBeGreaterThanOrEqual(f.throttleFraction as number);
    }
    expect(j.alb.throttleFraction).toBeGreaterThan(0.08);
    expect(j.alb.throttleFraction).toBeLessThan(0.45);
    expect(j.functions[2]!.queue).toMatchObject({ backlog: expect.any(Number) });
    // Reproducible.
    expect((await run(['simulate', 'noisy-neighbour', '--seed', '3', '--json'])).json()).toEqual(j);
  });

  it('--reserve caps the culprit (what-if) and the table says so', async () => {
    const r = await run(['simulate', 'noisy-neighbour', '--reserve', 'reports-worker=4', '--minutes', '5']);
    const text = r.out.join('');
    expect(text).toMatch(/^Simulated 5 lab minutes of scenario noisy-neighbour \(seed 1, /);
    expect(text).toMatch(/reports-worker\s+4\s/);
    expect(text).toMatch(/ALB: 0% of [\d,]+ requests would get 502 LambdaThrottling/);
  });

  it('reads a scenario file relative to the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-plan-'));
    writeFileSync(join(dir, 'nn.yaml'), stringify({ ...NOISY_NEIGHBOUR, name: 'from-file' }));
    const j = (await run(['simulate', 'nn.yaml', '--minutes', '2', '--json'], dir)).json();
    expect(j.scenario).toBe('from-file');
    expect(j.minutes).toBe(2);
  });
});

describe('plan recommend', () => {
  it('noisy-neighbour --json: the recommendation, before/after and why', async () => {
    const r = await run(['recommend', 'noisy-neighbour', '--json']);
    expect(r.code).toBe(0);
    const j = r.json() as {
      functions: {
        name: string;
        recommended: number | null;
        before: { throttleFraction: number };
        after: { throttleFraction: number; method: string };
        reason: string;
      }[];
      changes: unknown[];
      culprit: unknown;
      totalReserved: number;
      reservable: number;
    };
    expect(Object.keys(j)).toEqual([
      'source',
      'targetBlocking',
      'accountLimit',
      'unreservedMinimum',
      'reservable',
      'totalReserved',
      'culprit',
      'functions',
      'changes',
      'predictionWindow',
      'warnings',
      'notes',
    ]);
    expect(Object.keys(j.functions[0]!)).toEqual([
      'name',
      'albFacing',
      'queued',
      'current',
      'recommended',
      'changed',
      'before',
      'after',
      'reason',
    ]);
    expect(j.culprit).toEqual({ name: 'reports-worker', chosenBy: 'scenario load' });
    expect(j.functions.map((f) => [f.name, f.recommended])).toEqual([
      ['api', 8],
      ['web', 7],
      ['reports-worker', 3],
    ]);
    expect(j.changes).toEqual([
      { function: 'api', before: null, after: 8 },
      { function: 'web', before: null, after: 7 },
      { function: 'reports-worker', before: null, after: 3 },
    ]);
    for (const f of j.functions.slice(0, 2)) {
      expect(f.before.throttleFraction).toBeGreaterThan(0.08);
      expect(f.after.throttleFraction).toBeLessThanOrEqual(0.001);
      expect(f.after.method).toBe('erlang-b');
    }
    expect(j.totalReserved).toBeLessThanOrEqual(j.reservable);
  });

  it('--target, --alb-facing and --culprit change the plan; the text explains it', async () => {
    const r = await run([
      'recommend',
      'noisy-neighbour',
      '--target',
      '0.01',
      '--alb-facing',
      'api',
      '--culprit',
      'reports-worker',
    ]);
    const text = r.out.join('');
    expect(text).toMatch(
      /target: ALB-facing functions throttled at most 1% of the time; culprit reports-worker \(given\)/,
    );
    expect(text).toMatch(/\n {2}api\s+none\s+6\s/);
    expect(text).toMatch(/\n {2}web\s+none\s+none\s/);
    expect(text).toMatch(/Why:\n {2}api: ALB-facing: reserve 6/);
  });

  it('reports an infeasible target as exit 2', async () => {
    const e = await failure(['recommend', 'noisy-neighbour', '--target', '1e-12']);
    expect(e.code).toBe('TS_PLAN_INFEASIBLE');
    expect(e.exitCode).toBe(ExitCode.usage);
  });
});

describe('plan usage errors: one line naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [[], /^plan: expected a subcommand: erlang, simulate or recommend/],
    [['nope'], /^plan: expected a subcommand erlang, simulate or recommend, got "nope"/],
    [['erlang'], /^plan erlang: --load expects the offered load in erlangs/],
    [['erlang', '--load', 'x', '--concurrency', '3'], /^plan erlang: --load expects a number >= 0, got "x"/],
    [
      ['erlang', '--load', '-1', '--concurrency', '3'],
      /^plan erlang: --load expects a number >= 0, got "-1"/,
    ],
    [['erlang', '--load', '2'], /^plan erlang: --concurrency expects an integer >= 0 \(or give --target P/],
    [
      ['erlang', '--load', '2', '--concurrency', '3', '--target', '0.1'],
      /^plan erlang: --concurrency expects to be given without --target/,
    ],
    [
      ['erlang', '--load', '2', '--concurrency', '2.5'],
      /^plan erlang: --concurrency expects an integer >= 0, got "2.5"/,
    ],
    [['erlang', '--load', '2', '--target', '0'], /^plan erlang: --target expects a probability in \(0, 1\]/],
    [
      ['erlang', '--load', '2', '--rate', '3', '--concurrency', '1'],
      /^plan erlang: --load expects to be given alone/,
    ],
    [['erlang', '--rate', '3', '--concurrency', '1'], /^plan erlang: --duration expects the mean duration/],
    [
      ['erlang', '--duration', '1s', '--concurrency', '1'],
      /^plan erlang: --rate expects requests per second/,
    ],
    [
      ['erlang', '--rate', '3', '--duration', '250', '--concurrency', '1'],
      /^plan erlang: --duration expects a duration with a unit/,
    ],
    [['erlang', '--load', '1e9', '--concurrency', '1'], /^plan erlang: --load expects an offered load up to/],
    [['erlang', '--load', '1', '--concurrency', '1', '--bogus'], /^plan erlang: Unknown option '--bogus'/],
    [
      ['simulate'],
      /^plan simulate: expected a scenario file or a built-in scenario \(noisy-neighbour, shared-pool\)$/,
    ],
    [
      ['simulate', 'nope'],
      /^plan simulate: expected a scenario file or a built-in scenario \(noisy-neighbour, shared-pool\), got "nope"/,
    ],
    [['simulate', 'a', 'b'], /^plan simulate: expected one scenario, got 2/],
    [
      ['simulate', 'noisy-neighbour', '--minutes', '0'],
      /^plan simulate: --minutes expects an integer >= 1, got "0"/,
    ],
    [
      ['simulate', 'noisy-neighbour', '--seed', '-3'],
      /^plan simulate: --seed expects an integer >= 0, got "-3"/,
    ],
    [
      ['simulate', 'noisy-neighbour', '--reserve', 'api'],
      /^plan simulate: --reserve expects NAME=VALUE, got "api"/,
    ],
    [
      ['simulate', 'noisy-neighbour', '--reserve', 'bob=3'],
      /^plan simulate: --reserve expects one of the functions \(api, web, reports-worker\), got "bob"/,
    ],
    [
      ['simulate', 'noisy-neighbour', '--reserve', 'api=-1'],
      /^plan simulate: --reserve expects NAME=N with an integer N >= 0 or NAME=none/,
    ],
    [
      ['simulate', 'noisy-neighbour', '--reserve', 'api=19'],
      /^plan simulate: --reserve expects reservations totalling at most 18/,
    ],
    [
      ['simulate', 'noisy-neighbour', '--handler-duration', 'api=fast'],
      /^plan simulate: --handler-duration expects a duration like 250ms/,
    ],
    [
      ['recommend'],
      /^plan recommend: expected a scenario file, a built-in scenario \(noisy-neighbour, shared-pool\) or --metrics/,
    ],
    [
      ['recommend', 'noisy-neighbour', '--metrics'],
      /^plan recommend: --metrics expects no scenario argument/,
    ],
    [['recommend', 'noisy-neighbour', '--since', '-3h'], /^plan recommend: --since expects --metrics/],
    [
      ['recommend', '--metrics', '--minutes', '5'],
      /^plan recommend: --minutes expects a scenario, not --metrics/,
    ],
    [
      ['recommend', 'noisy-neighbour', '--target', '1'],
      /^plan recommend: --target expects a probability in \(0, 1\)/,
    ],
    [
      ['recommend', 'noisy-neighbour', '--culprit', 'bob'],
      /^plan recommend: --culprit expects one of the functions/,
    ],
    [
      ['recommend', 'noisy-neighbour', '--alb-facing', ','],
      /^plan recommend: --alb-facing expects function names/,
    ],
    [
      ['recommend', 'noisy-neighbour', '--alb-facing', 'api,bob'],
      /^plan recommend: --alb-facing expects one of the functions/,
    ],
    [
      ['recommend', '--metrics', '--since', '-1h', '--until', '-2h'],
      /^plan recommend: --until expects a time after --since/,
    ],
  ];
  for (const [argv, message] of cases) {
    it(`plan ${argv.join(' ')}`, async () => {
      const e = await failure(argv);
      expect(e.exitCode).toBe(ExitCode.usage);
      expect(e.message).not.toContain('\n');
      expect(e.message).toMatch(message);
    });
  }

  it('an unreadable scenario file is exit 3', async () => {
    const e = await failure(['simulate', 'missing.yaml']);
    expect(e.code).toBe('TS_LAB_SCENARIO_UNREADABLE');
    expect(e.exitCode).toBe(ExitCode.input);
  });

  it('an invalid scenario file is exit 2, every problem listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-plan-'));
    writeFileSync(join(dir, 'bad.yaml'), 'name: x\nfunctions: []\n');
    const e = await failure(['recommend', 'bad.yaml'], dir);
    expect(e.code).toBe('TS_CONFIG_INVALID');
    expect(e.exitCode).toBe(ExitCode.usage);
  });
});

const SERVER = new URL('../../src/lab/aws-api/server.ts', import.meta.url);
type Endpoint = { url: string; close(): Promise<void> };

describe.skipIf(!existsSync(SERVER))('plan recommend --metrics', () => {
  const T0 = Date.parse('2026-11-24T10:00:00Z');
  const MIN = 60_000;
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
      b.addDatapoint(lambdaMetric('Invocations', 'reports-worker'), t, storm ? 600 : 60);
      b.addDatapoint(lambdaMetric('Duration', 'reports-worker'), t, 2_000);
      b.addDatapoint(lambdaMetric('ConcurrentExecutions', 'api'), t, storm ? 2 : 4);
      b.addDatapoint(lambdaMetric('Invocations', 'api'), t, storm ? 570 : 600);
      b.addDatapoint(lambdaMetric('Throttles', 'api'), t, storm ? 30 : 0);
      b.addDatapoint(lambdaMetric('Duration', 'api'), t, 200);
      b.addDatapoint(lambdaMetric('ConcurrentExecutions'), t, storm ? 46 : 8);
    }
    const { startAwsEndpoint } = (await import(SERVER.href)) as {
      startAwsEndpoint: (b: LabBackend, o: { host?: string; port?: number }) => Promise<Endpoint>;
    };
    endpoint = await startAwsEndpoint(b, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => endpoint?.close());

  const args = () => [
    'recommend',
    '--metrics',
    '--endpoint-url',
    endpoint.url,
    '--region',
    REGION,
    '--since',
    new Date(T0).toISOString(),
    '--until',
    new Date(T0 + 10 * MIN).toISOString(),
  ];

  it('sizes from CloudWatch history: the ranking names the culprit and the victims', async () => {
    const r = await run([...args(), '--json']);
    expect(r.code).toBe(0);
    const j = r.json() as {
      source: Record<string, unknown>;
      culprit: unknown;
      accountLimit: number;
      unreservedMinimum: number;
      functions: { name: string; albFacing: boolean; current: number | null; recommended: number | null }[];
      notes: string[];
    };
    expect(j.source).toEqual({
      kind: 'metrics',
      region: REGION,
      startMs: T0,
      endMs: T0 + 10 * MIN,
      periodSec: 60,
    });
    expect(j.culprit).toEqual({ name: 'reports-worker', chosenBy: 'metrics ranking' });
    expect(j.accountLimit).toBe(50);
    expect(j.unreservedMinimum).toBe(5);
    const api = j.functions.find((f) => f.name === 'api')!;
    // 600 a minute of 200 ms: 2 erlangs, 8 for 0.1% by Erlang B.
    expect(api).toMatchObject({
      albFacing: true,
      current: null,
      recommended: minServersFor(2, 0.001).servers,
    });
    const worker = j.functions.find((f) => f.name === 'reports-worker')!;
    expect(worker.recommended).toBeGreaterThan(0);
    expect(j.functions.find((f) => f.name === 'web')).toMatchObject({ current: 5, recommended: 5 });
    expect(j.notes.join('\n')).toMatch(/ALB-facing functions taken to be the throttled ones \(api\)/);
  });

  it('an unreachable endpoint is exit 4', async () => {
    const e = await failure([
      'recommend',
      '--metrics',
      '--endpoint-url',
      'http://127.0.0.1:9',
      '--region',
      REGION,
    ]);
    expect(e.exitCode).toBe(ExitCode.remote);
    expect(e.message).not.toContain('\n');
  });
});
