import { describe, expect, it } from 'vitest';
import { joinDashValues, main } from '../../src/cli/main.js';
import { fakeCli } from '../helpers/cli.js';

const ctx = () => fakeCli();

describe('cli', () => {
  it('takes relative times after a flag as its value', () => {
    expect(joinDashValues(['--since', '-15m', '--until', 'now', '-', '--rate', '-1'])).toEqual([
      '--since=-15m',
      '--until',
      'now',
      '-',
      '--rate=-1',
    ]);
    expect(joinDashValues(['--json', '-', '--x=-1'])).toEqual(['--json', '-', '--x=-1']);
  });

  it('lists the commands, rejects unknown ones with exit 2, and prints each command help', async () => {
    const a = ctx();
    expect(await main([], a.ctx)).toBe(2);
    expect(a.out.join('')).toMatch(/Commands:[\s\S]*demo[\s\S]*lab/);
    const b = ctx();
    expect(await main(['nope'], b.ctx)).toBe(2);
    expect(b.err.join('')).toMatch(/unknown command "nope"/);
    for (const name of ['demo', 'probe', 'logs', 'metrics', 'diagnose', 'fix', 'verify', 'lab']) {
      const c = ctx();
      expect(await main([name, '--help'], c.ctx)).toBe(0);
      expect(c.out.join('')).toMatch(/^Usage:\s+throttlescope /);
    }
  });

  it('reports a bad flag on one line with exit 2', async () => {
    const c = ctx();
    expect(await main(['logs', '--bogus', 'x'], c.ctx)).toBe(2);
    expect(c.err.join('').trim().split('\n')).toHaveLength(1);
    expect(c.err.join('')).toMatch(/\[TS_USAGE\]$/m);
  });
});
