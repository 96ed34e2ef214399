import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { alb502, ok, startServer } from './servers.js';

interface FakeCtx {
  ctx: CliContext;
  out: () => string;
  err: () => string;
  abort: () => void;
}

function fakeCtx(opts: { tty?: boolean } = {}): FakeCtx {
  let out = '';
  let err = '';
  const controller = new AbortController();
  const ctx: CliContext = {
    stdout: {
      write: (c: string) => {
        out += c;
        return true;
      },
    },
    stderr: {
      write: (c: string) => {
        err += c;
        return true;
      },
      isTTY: opts.tty ?? false,
      columns: 120,
    },
    stdin: Readable.from([]),
    env: {},
    cwd: process.cwd(),
    signal: controller.signal,
  };
  return { ctx, out: () => out, err: () => err, abort: () => controller.abort() };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEYS = [
  'total',
  'succeeded',
  'failed',
  'successRate',
  'byStatus',
  'byError',
  'byOrigin',
  'latencyMs',
  'episodes',
  'runsTest',
  'urls',
];

describe('throttlescope probe (CLI)', () => {
  it('prints one JSON document with the documented keys and exits 0', async () => {
    const srv = await startServer((_req, res, n) => (n === 3 ? alb502(res) : ok(res)));
    const f = fakeCtx();
    try {
      const code = await main(['probe', srv.url, '--concurrency', '1', '--count', '6', '--json'], f.ctx);
      expect(code).toBe(0);
      const doc = JSON.parse(f.out());
      for (const k of KEYS) expect(doc).toHaveProperty(k);
      expect(Object.keys(doc.latencyMs)).toEqual(['p50', 'p90', 'p99', 'max']);
      expect(Object.keys(doc.runsTest)).toEqual(expect.arrayContaining(['z', 'p', 'clustered']));
      expect(Object.keys(doc.byOrigin).sort()).toEqual(
        ['alb', 'api-gateway', 'application', 'cloudfront', 'function-url', 'network'].sort(),
      );
      expect(doc.total).toBe(6);
      expect(doc.failed).toBe(1);
      expect(doc.byStatus).toEqual({ '200': 5, '502': 1 });
      expect(doc.byOrigin.alb).toBe(1);
      expect(doc.episodes).toEqual([
        { firstSeq: 3, lastSeq: 3, start: expect.any(String), end: expect.any(String), failures: 1 },
      ]);
      expect(doc.urls).toHaveLength(1);
      for (const k of KEYS.filter((k) => k !== 'urls')) expect(doc.urls[0]).toHaveProperty(k);
      expect(doc.urls[0].url).toBe(srv.url);
    } finally {
      await srv.close();
    }
  });

  it('exits 6 with --fail-on-error when something failed, and prints a human summary', async () => {
    const srv = await startServer((_req, res) => alb502(res));
    const f = fakeCtx();
    try {
      const code = await main(['probe', srv.url, '-c', '1', '-n', '3', '--fail-on-error'], f.ctx);
      expect(code).toBe(6);
      expect(f.out()).toContain('probe summary');
      expect(f.out()).toContain('502 from the ALB itself');
    } finally {
      await srv.close();
    }
  });

  it('defaults to a gentle rate and says on stderr how to raise it', async () => {
    const srv = await startServer((_req, res) => ok(res));
    const f = fakeCtx();
    try {
      const code = await main(['probe', srv.url, '--count', '1', '--json'], f.ctx);
      expect(code).toBe(0);
      expect(f.err()).toMatch(/probing gently at 1 request\/s.*--rate.*--concurrency/);
      expect(JSON.parse(f.out()).run.model).toMatchObject({ kind: 'open', rate: 1 });
    } finally {
      await srv.close();
    }
  });

  it.each([
    [['probe', 'ftp://example.com/', '--count', '1'], /only http:\/\/ and https:\/\//],
    [['probe', 'http://127.0.0.1:9/'], /--count, --duration or --forever/],
    [['probe', 'http://127.0.0.1:9/', '--rate', 'fast', '--count', '1'], /--rate: expected/],
    [['probe', 'http://127.0.0.1:9/', '--count', '0'], /--count expects an integer >= 1/],
    [['probe', 'http://127.0.0.1:9/', '--duration', 'soon'], /--duration: expected a duration/],
    [['probe', 'http://127.0.0.1:9/', '-n', '1', '--expect', 'good'], /--expect: expected/],
    [['probe', 'http://127.0.0.1:9/', '-n', '1', '--bogus'], /Unknown option '--bogus'/],
    [['probe', '--count', '1'], /expected at least one http/],
    [['probe', 'http://127.0.0.1:9/', '-n', '1', '--rate', '2', '-c', '2'], /choose one/],
  ])('refuses bad input with one line naming the flag: %j', async (argv, pattern) => {
    const f = fakeCtx();
    const code = await main(argv, f.ctx);
    expect(code).toBe(2);
    expect(f.err()).toMatch(pattern);
    expect(f.err().trimEnd().split('\n')).toHaveLength(1);
    expect(f.err()).toContain('[TS_USAGE]');
  });

  it('prints --help', async () => {
    const f = fakeCtx();
    expect(await main(['probe', '--help'], f.ctx)).toBe(0);
    expect(f.out()).toContain('--concurrency');
    expect(f.out()).toContain('probe report <DIR>');
  });

  it('stops on Ctrl-C, still prints the summary, and exits 130', async () => {
    const srv = await startServer((_req, res) => ok(res));
    const f = fakeCtx();
    try {
      setTimeout(() => f.abort(), 200);
      const code = await main(
        ['probe', srv.url, '-c', '2', '--forever', '--json', '--grace', '100ms'],
        f.ctx,
      );
      expect(code).toBe(130);
      const doc = JSON.parse(f.out());
      expect(doc.total).toBeGreaterThan(0);
      expect(doc.run.stoppedBy).toBe('signal');
      expect(f.err()).toContain('stopping');
    } finally {
      await srv.close();
    }
  });

  it('draws a live view on a TTY (one rewritten line per URL) and plain lines otherwise', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      const tty = fakeCtx({ tty: true });
      await main(['probe', srv.url, srv.url, '--rate', '40', '-d', '500ms', '--interval', '100ms'], tty.ctx);
      expect(tty.err()).toContain('\x1b[2A');
      expect(tty.err()).toContain('\x1b[2K');
      const plain = fakeCtx();
      await main(['probe', srv.url, '--rate', '40', '-d', '350ms', '--interval', '100ms'], plain.ctx);
      expect(plain.err()).not.toContain('\x1b[');
      expect(plain.err()).toMatch(/n=\d+\s+ok=/);
    } finally {
      await srv.close();
    }
  });

  it('records with --out and rebuilds the same summary with probe report', async () => {
    const srv = await startServer((_req, res, n) => (n % 3 === 0 ? alb502(res) : ok(res)));
    const dir = mkdtempSync(join(tmpdir(), 'ts-probe-cli-'));
    dirs.push(dir);
    const out = join(dir, 'run');
    try {
      const f = fakeCtx();
      expect(await main(['probe', srv.url, '-c', '2', '-n', '12', '--out', out, '--json'], f.ctx)).toBe(0);
      const live = JSON.parse(f.out());
      const g = fakeCtx();
      expect(await main(['probe', 'report', out, '--json'], g.ctx)).toBe(0);
      const rebuilt = JSON.parse(g.out());
      delete live.run;
      delete rebuilt.run;
      expect(rebuilt).toEqual(live);
      const h = fakeCtx();
      expect(await main(['probe', 'report', out], h.ctx)).toBe(0);
      expect(h.out()).toContain('12 records');
      const missing = fakeCtx();
      expect(await main(['probe', 'report', join(dir, 'nope')], missing.ctx)).toBe(3);
      expect(missing.err()).toContain('[TS_PROBE_DIR]');
    } finally {
      await srv.close();
    }
  });

  it('reports an unwritable --out by name with exit 5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-probe-cli-'));
    dirs.push(dir);
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const f = fakeCtx();
    const code = await main(
      ['probe', 'http://127.0.0.1:9/', '-n', '1', '-c', '1', '--out', join(file, 'out')],
      f.ctx,
    );
    expect(code).toBe(5);
    expect(f.err()).toContain(join(file, 'out'));
    expect(f.err()).toContain('[TS_PROBE_OUTPUT]');
  });
});
