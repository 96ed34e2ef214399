/** Library option errors name options; the CLI says them as the flags the user typed. */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { InvalidOptionError } from '../../src/common/errors.js';
import { builtinScenario } from '../../src/lab/builtin.js';
import { simulateScenario } from '../../src/plan/documents.js';
import { fakeCli } from '../helpers/cli.js';

describe('option errors', () => {
  it('the library names the option, not a flag', () => {
    const scenario = builtinScenario('noisy-neighbour');
    expect(scenario).toBeDefined();
    let error: unknown;
    try {
      simulateScenario(scenario!, { reserve: { bob: 3 } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('reserve');
    expect((error as Error).message).toMatch(
      /^reserve expects one of the functions \(api, web, reports-worker\)/,
    );
    expect((error as Error).message).not.toContain('--');
  });

  it.each([
    [
      ['plan', 'simulate', 'noisy-neighbour', '--handler-duration', 'bob=1s'],
      /^throttlescope plan: plan simulate: --handler-duration expects functions of the scenario, got "bob"/,
    ],
    [
      ['verify', '--before', '-2h..-1h', '--after', '-1h..now'],
      /^throttlescope verify: verify: --logs expects ALB log sources to count the failures of the window/,
    ],
    [['metrics', 'extra'], /^throttlescope metrics: metrics: unexpected argument "extra"/],
  ])('%j: one line naming the flag, exit 2', async (argv, pattern) => {
    const c = fakeCli();
    expect(await main(argv, c.ctx)).toBe(2);
    const err = c.err.join('');
    expect(err).toMatch(pattern);
    expect(err.trimEnd().split('\n')).toHaveLength(1);
  });
});
