import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { lambdaLine } from '../helpers/alb-lines.js';
import { fakeCli } from '../helpers/cli.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

describe('throttlescope verify over two windows of ALB logs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-verify-'));
    const lines: string[] = [];
    // Before: 40 of 200 answered 502 by throttling; after: none of 200.
    for (let i = 0; i < 200; i++)
      lines.push(lambdaLine(T0 + i * 1000, i % 5 === 0 ? { reason: 'LambdaThrottling' } : {}));
    for (let i = 0; i < 200; i++) lines.push(lambdaLine(T0 + 30 * MIN + i * 1000));
    await writeFile(join(dir, 'a.log'), `${lines.join('\n')}\n`);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const argv = () => [
    'verify',
    '--before',
    '2026-11-24T10:00Z..2026-11-24T10:30Z',
    '--after',
    '2026-11-24T10:30Z..2026-11-24T11:00Z',
    '--logs',
    dir,
  ];

  it('--json: the comparison, alpha and both sources; exit 0 when improved', async () => {
    const c = fakeCli();
    expect(await main([...argv(), '--json'], c.ctx)).toBe(0);
    const doc = JSON.parse(c.out.join(''));
    expect(doc).toMatchObject({
      before: { failures: 40, total: 200 },
      after: { failures: 0, total: 200 },
      verdict: 'improved',
      improved: true,
      alpha: 0.01,
    });
    expect(doc.beforeSource).toContain('2026-11-24T10:00Z..2026-11-24T10:30Z');
  });

  it('prints the sentence, the sources and the test', async () => {
    const c = fakeCli();
    expect(await main([...argv(), '--alpha', '0.05'], c.ctx)).toBe(0);
    const text = c.out.join('');
    expect(text).toMatch(
      /\n {2}before: .*\n {2}after: {2}.*\n {2}test: {3}(fisher-exact|two-proportion-z), alpha 0\.05\n$/,
    );
  });

  it('--alpha outside (0, 1) is a usage error naming the flag', async () => {
    const c = fakeCli();
    expect(await main([...argv(), '--alpha', '1'], c.ctx)).toBe(2);
    expect(c.err.join('')).toMatch(/verify: --alpha expects a probability in \(0, 1\)/);
  });
});
