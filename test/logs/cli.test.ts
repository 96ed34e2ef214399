import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
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

  it('exits 3 with one error line, and no summary, when every line is malformed (random bytes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cli-'));
    const file = join(dir, 'random.log');
    // Random bytes with a few newlines, none of them an ALB entry.
    await writeFile(file, Buffer.concat([randomBytes(3000), Buffer.from('\nnot a log\n'), randomBytes(500)]));
    for (const json of [[], ['--json']]) {
      const c = ctx();
      expect(await main(['logs', file, ...json], c.ctx)).toBe(3);
      expect(c.out.join('')).toBe('');
      const err = c.err.join('');
      expect(err.trimEnd().split('\n')).toHaveLength(1);
      expect(err).toMatch(
        /^throttlescope logs: nothing could be read from .*random\.log: all \d+ line\(s\) are malformed, none is an ALB access-log entry \(first: .*random\.log:1: field .*\) \[TS_LOG_UNREADABLE\]\n$/,
      );
    }
  });

  it('an empty file is read (no entries), not an error', async () => {
    const c = ctx('');
    expect(await main(['logs', '-', '--json'], c.ctx)).toBe(0);
    expect(JSON.parse(c.out.join('')).lines).toBe(0);
  });

  it('a truncated .gz keeps the lines before the damage, says so, and exits 3', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cli-'));
    const lines = Array.from({ length: 4000 }, (_, i) => lambdaLine(T0 + i * 10, { path: `/p${i}` }));
    const gz = gzipSync(`${lines.join('\n')}\n`);
    const file = join(dir, 'cut.log.gz');
    await writeFile(file, gz.subarray(0, Math.floor(gz.length / 2)));
    const c = ctx();
    expect(await main(['logs', file, '--json'], c.ctx)).toBe(3);
    const doc = JSON.parse(c.out.join(''));
    expect(doc.lines).toBeGreaterThan(100);
    expect(doc.lines).toBeLessThan(lines.length);
    // At most the last, cut line is malformed: every line before the damage was counted.
    expect(doc.malformed).toBeLessThanOrEqual(1);
    expect(c.err.join('')).toMatch(/cut\.log\.gz: gzip file is truncated .*the lines before it were kept/);
  });

  it('counts an error_reason the catalogue lacks as written, marked undocumented (terminal and --json)', async () => {
    const input = [
      lambdaLine(T0, { reason: 'LambdaSomethingNew', status: 502 }),
      lambdaLine(T0 + 1, { reason: 'LambdaThrottling' }),
      lambdaLine(T0 + 2, { reason: 'AuthMissingAWSALBAuthNonce', status: 401 }),
    ].join('\n');
    const c = ctx(input);
    expect(await main(['logs', '-'], c.ctx)).toBe(0);
    const text = c.out.join('');
    expect(text).toMatch(/LambdaSomethingNew\s+1\s+33\.3%\s+undocumented: not in the AWS documentation/);
    expect(text).toMatch(/AuthMissingAWSALBAuthNonce\s+1\s+33\.3%\s+the AWSALBAuthNonce cookie is missing/);
    const j = ctx(input);
    expect(await main(['logs', '-', '--json'], j.ctx)).toBe(0);
    const doc = JSON.parse(j.out.join(''));
    expect(doc.byErrorReason).toEqual({
      LambdaSomethingNew: 1,
      LambdaThrottling: 1,
      AuthMissingAWSALBAuthNonce: 1,
    });
    expect(doc.undocumentedErrorReasons).toEqual(['LambdaSomethingNew']);
    expect(doc.series[0].fiveXx).toMatchObject({ LambdaSomethingNew: 1 });
  });
});
