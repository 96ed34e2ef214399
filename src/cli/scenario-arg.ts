import { UsageError } from '../common/errors.js';
import { BUILTIN_SCENARIO_NAMES, resolveScenario } from '../lab/resolve-scenario.js';
import type { Scenario } from '../lab/scenario.js';

/** The scenario positional of `plan` and `lab`, resolved by the one rule of lab/resolve-scenario.ts. */
export function scenarioArg(command: string, arg: string | undefined, cwd: string): Scenario {
  if (arg === undefined) {
    throw new UsageError(
      `${command}: expected a scenario file or a built-in scenario (${BUILTIN_SCENARIO_NAMES.join(', ')})`,
    );
  }
  try {
    return resolveScenario(arg, cwd);
  } catch (error) {
    if (error instanceof UsageError && error.code === 'TS_USAGE') {
      throw new UsageError(`${command}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
