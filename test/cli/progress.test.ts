import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliStream } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { LiveProgress, progressFor } from '../../src/cli/progress.js';
import { lambdaLine } from '../helpers/alb-lines.js';
import { fakeCli } from '../helpers/cli.js';

function stream(isTTY: boolean): CliStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, columns: 30, write: (s: string) => chunks.push(s) > 0, text: () => chunks.join('') };
}

describe('LiveProgress', () => {
  it('redraws its block in place on a terminal, keeps logged lines above it, clears at the end', () => {
    const s = stream(true);
    const p = new LiveProgress(s, { redrawEveryMs: 0 });
    p.update(['a 1', 'b 1']);
    p.update(['a 2', 'b 2']);
    p.log('step two');
    p.done();
    expect(s.text()).toBe(
      '\r\x1b[2Ka 1\n\r\x1b[2Kb 1\n' +
        '\x1b[2A\r\x1b[2Ka 2\n\r\x1b[2Kb 2\n' +
        '\x1b[2A\r\x1b[2K\n\r\x1b[2K\n\x1b[2A' +
        'step two\n' +
        '\r\x1b[2Ka 2\n\r\x1b[2Kb 2\n' +
        '\x1b[2A\r\x1b[2K\n\r\x1b[2K\n\x1b[2A',
    );
  });

  it('cuts lines to the terminal width and makes control characters visible', () => {
    const s = stream(true);
    new LiveProgress(s).update(`x\x1b[31m${'y'.repeat(50)}`);
    expect(s.text()).toBe(`\r\x1b[2Kx\\x1b[31m${'y'.repeat(20)}\n`);
  });

  it('prints plain lines without a terminal, at most once per interval', () => {
    const s = stream(false);
    const p = new LiveProgress(s, { plainEveryMs: 60_000 });
    p.update('too soon');
    p.update('forced', true);
    p.update('too soon again');
    p.done();
    expect(s.text()).toBe('forced\n');
    const every = stream(false);
    const q = new LiveProgress(every, { plainEveryMs: 0 });
    q.update(['1']);
    q.update(['2']);
    expect(every.text()).toBe('1\n2\n');
  });

  it('is silent with --json', () => {
    const c = fakeCli();
    c.ctx.stderr.isTTY = true;
    const p = progressFor(c.ctx, { json: true });
    p.update('reading', true);
    p.log('x');
    p.done();
    expect(c.err).toEqual([]);
  });
});

describe('progress of diagnose and fix', () => {
  it.each(['diagnose', 'fix'])(
    '%s shows the log files and bytes read on a terminal, nothing with --json',
    async (name) => {
      const dir = await mkdtemp(join(tmpdir(), 'ts-progress-'));
      try {
        const t0 = Date.parse('2026-11-24T10:00:00Z');
        await writeFile(join(dir, 'a.log'), `${lambdaLine(t0 + 1000, { reason: 'LambdaThrottling' })}\n`);
        const argv = [
          name,
          '--logs',
          dir,
          '--no-cloudwatch',
          '--no-target-groups',
          '--since',
          '2026-11-24T09:00Z',
          '--until',
          '2026-11-24T11:00Z',
        ];
        const tty = fakeCli();
        tty.ctx.stderr.isTTY = true;
        await main(argv, tty.ctx);
        expect(tty.err.join('')).toMatch(/\r\x1b\[2K {2}reading \d\/1 files, 0\.0 MB\n/);
        const json = fakeCli();
        json.ctx.stderr.isTTY = true;
        await main([...argv, '--json'], json.ctx);
        expect(json.err.join('')).not.toContain('reading');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
