import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../common/errors.js';
import { BUILTIN_SCENARIOS, builtinScenario } from './builtin.js';
import { loadScenarioFile, type Scenario } from './scenario.js';

export const BUILTIN_SCENARIO_NAMES: readonly string[] = Object.keys(BUILTIN_SCENARIOS);

/**
 * A scenario named by file or by built-in name, in one order (docs/lab.md "Naming a scenario"):
 * 1. an existing file at `nameOrPath` (relative to `cwd`) is read;
 * 2. else a built-in scenario of that name;
 * 3. else a name that looks like a file (`.yaml`, `.yml`, `.json`, or with a `/`) is read, so a
 *    missing file is TS_LAB_SCENARIO_UNREADABLE (exit 3) rather than a usage error;
 * 4. else a UsageError (exit 2) listing the built-in names.
 */
export function resolveScenario(nameOrPath: string, cwd: string): Scenario {
  const path = resolve(cwd, nameOrPath);
  if (existsSync(path) && statSync(path).isFile()) return loadScenarioFile(path);
  const builtin = builtinScenario(nameOrPath);
  if (builtin) return builtin;
  if (/\.(ya?ml|json)$/i.test(nameOrPath) || nameOrPath.includes('/')) return loadScenarioFile(path);
  throw new UsageError(
    `expected a scenario file or a built-in scenario (${BUILTIN_SCENARIO_NAMES.join(', ')}), got "${nameOrPath}": neither a scenario file nor a built-in name`,
  );
}
