import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { command } from '../../src/cli/commands/lab.js';
import type { CliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { ConfigError, UsageError } from '../../src/common/errors.js';

function ctx(signal = new AbortController().signal, tty = false) {
  const out: string[] = [];
  const err: string[] = [];
  const c: CliContext = {
    stdout: { write: (s: string) => out.push(s) > 0, isTTY: tty, columns: 200 },
    stderr: { write: (s: string) => err.push(s) > 0 },
    stdin: new PassThrough(),
    env: {},
    cwd: process.cwd(),
    signal,
  };
  return { c, out: () => out.join(''), err: () => err.join('') };
}

describe('throttlescope lab', () => {
  test('runs the built-in for --duration, prints URLs and hints, flushes and exits 0', async () => {
    const t = ctx();
    const code = await command.run(
      ['noisy-neighbour', '--duration', '1.2s', '--status-interval', '500ms'],
      t.c,
    );
    expect(code).toBe(0);
    const out = t.out();
    expect(out).toMatch(/ALB {11}http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/CloudFront {4}http:\/\/127\.0\.0\.1:\d+ {3}\(E[A-Z0-9]{13}\)/);
    expect(out).toMatch(/CloudFront: \d+ viewer requests/);
    expect(out).toMatch(/AWS endpoint {2}(http:\/\/127\.0\.0\.1:\d+|not started)/);
    if (!out.includes('not started'))
      expect(out).toMatch(/export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/lab \dm\d\ds \| pool \d+\/20 \| api /);
    expect(out).toMatch(/\| CloudFront \d+ req, 502 (-|\d+\.\d%)/);
    expect(out).toContain('Stopping: flushing access logs and metrics');
    // One file per 5 minutes of lab time: the ~14 s run (lab time starts at the wall clock's now)
    // ends inside its first interval, or in the next when it happens to cross a 5-minute boundary.
    expect(out).toMatch(/Access logs: \d+ entries in [12] file\(s\)/);
  });

  test('Ctrl-C (the context signal) stops it with exit 0; the TTY line is redrawn in place', async () => {
    const ac = new AbortController();
    const t = ctx(ac.signal, true);
    setTimeout(() => ac.abort(), 700);
    const code = await command.run(['noisy-neighbour'], t.c);
    expect(code).toBe(0);
    expect(t.out()).toContain('\r\x1b[2Klab ');
  });

  test('bad invocations are usage errors; bad scenarios list their problems', async () => {
    await expect(command.run([], ctx().c)).rejects.toBeInstanceOf(UsageError);
    await expect(command.run(['no-such-builtin'], ctx().c)).rejects.toThrow(/neither a scenario file/);
    await expect(command.run(['noisy-neighbour', '--alb-port', 'x'], ctx().c)).rejects.toThrow(
      /--alb-port expects/,
    );
    const t = ctx();
    expect(await main(['lab', 'missing.yaml'], t.c)).toBe(3);
    expect(t.err()).toContain('TS_LAB_SCENARIO_UNREADABLE');
    const dir = await mkdtemp(join(tmpdir(), 'lab-cli-'));
    try {
      const file = join(dir, 'bad.yaml');
      await writeFile(file, 'name: bad\ntimeScale: 0\nfunctions: []\n');
      await expect(command.run([file], ctx().c)).rejects.toBeInstanceOf(ConfigError);
      const b = ctx();
      expect(await main(['lab', file], b.c)).toBe(2);
      expect(b.err()).toContain('timeScale: expected a number > 0, got 0');
      expect(b.err()).toContain('functions: expected at least 1 item');
      expect(b.err()).toContain('loadBalancer: expected a mapping, but it is missing');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
