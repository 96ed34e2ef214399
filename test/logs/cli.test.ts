import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { lambdaLine } from '../helpers/alb-lines.js';
import { fakeCli } from '../helpers/cli.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');

const ctx = (stdinText = '') => fakeCli({ stdin: stdinText });

describe('throttlescope logs', () => {
  it('--json prints the stable keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cli-'));
    await writeFile(
      join(dir, 'a.log'),
      [lambdaLine(T0), lambdaLine(T0 + 5, { reason: 'LambdaThrottling' })].join('\n'),
    );
    const c = ctx();
    const code = await main(['logs', dir, '--json'], c.ctx);
    expect(c.err.join('')).toBe('');
    expect(code).toBe(0);
    const doc = JSON.parse(c.out.join(''));
    for (const key of [
      'lines',
      'malformed',
      'files',
      'firstTime',
      'lastTime',
      'byElbStatus',
      'byErrorReason',
      'byTargetGroup',
      'series',
    ]) {
      expect(doc).toHaveProperty(key);
    }
    expect(doc.byErrorReason).toEqual({ LambdaThrottling: 1 });
    expect(doc.series[0]).toMatchObject({
      minute: '2026-11-24T10:00:00.000Z',
      requests: 2,
      byElbStatus: { '200': 1, '502': 1 },
    });
  });

  it('prints a human summary with the catalogue explanation, and escapes control characters from logs', async () => {
    const c = ctx([lambdaLine(T0, { reason: 'LambdaThrottling', path: '/x\u001b[31mred' })].join('\n'));
    const code = await main(['logs', '-'], c.ctx);
    expect(code).toBe(0);
    const text = c.out.join('');
    expect(text).toContain('LambdaThrottling');
    expect(text).toContain('the Lambda function was throttled because there were too many requests');
    expect(text).toContain('5xx per minute by reason');
    expect(text).not.toContain('\u001b');
  });

  it('lists each failing path and target group with its reasons, most frequent first', async () => {
    const lines = [
      lambdaLine(T0, { reason: 'LambdaUnhandled', path: '/p' }),
      ...[1, 2, 3].map((i) => lambdaLine(T0 + i, { reason: 'LambdaThrottling', path: '/p' })),
    ];
    const c = ctx(lines.join('\n'));
    expect(await main(['logs', '-'], c.ctx)).toBe(0);
    const text = c.out.join('');
    expect(text).toMatch(/\/p\s+4\s+LambdaThrottling 3, LambdaUnhandled 1/);
    expect(text).toMatch(/LambdaThrottling 3 \(75\.0%\), LambdaUnhandled 1 \(25\.0%\)/);
  });

  it('exits 3 naming the file when nothing can be read, and 2 on a bad flag', async () => {
    const c = ctx();
    expect(await main(['logs', '/nonexistent/file.log'], c.ctx)).toBe(3);
    expect(c.err.join('')).toContain('/nonexistent/file.log: no such file or directory');
    const d = ctx();
    expect(await main(['logs', '-', '--status', 'teapot'], d.ctx)).toBe(2);
    expect(d.err.join('')).toMatch(/--status expects codes or classes/);
  });

  it('exits 0 with a warning when lines are skipped', async () => {
    const c = ctx(`${lambdaLine(T0)}\ngarbage\n`);
    expect(await main(['logs', '-', '--json'], c.ctx)).toBe(0);
    expect(c.err.join('')).toMatch(/warning: skipped stdin:2: field/);
  });
});
