import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ExitCode } from '../../src/common/error-codes.js';
import { ConfigError, ThrottlescopeError, UsageError } from '../../src/common/errors.js';

/** `| \`TS_X\` | 2 | ...` rows of docs/errors.md's code table. */
function documentedCodes(): Map<string, number> {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, number>();
  for (const m of doc.matchAll(/^\|\s*`(TS_[A-Z0-9_]+)`\s*\|\s*(\d+)\s*\|/gm)) {
    expect(rows.has(m[1] as string), `${m[1]} listed twice`).toBe(false);
    rows.set(m[1] as string, Number(m[2]));
  }
  return rows;
}

describe('error-code registry', () => {
  it('docs/errors.md lists exactly the registry codes, with the same exit codes', () => {
    const documented = documentedCodes();
    const registry = new Map(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.exit as number]));
    expect([...documented.keys()].sort()).toEqual([...registry.keys()].sort());
    for (const [code, exit] of registry) expect(documented.get(code), code).toBe(exit);
  });

  it('derives the exit code from the code', () => {
    expect(new ThrottlescopeError('TS_PLAN_INVALID', 'x').exitCode).toBe(ExitCode.usage);
    expect(new ThrottlescopeError('TS_AWS_NO_REGION', 'x').exitCode).toBe(ExitCode.usage);
    expect(new ThrottlescopeError('TS_FIX_NO_CULPRIT', 'x').exitCode).toBe(ExitCode.verdict);
    expect(new UsageError('x')).toMatchObject({ code: 'TS_USAGE', exitCode: ExitCode.usage });
    expect(new ConfigError('f.yaml', ['a', 'b'])).toMatchObject({
      code: 'TS_CONFIG_INVALID',
      exitCode: ExitCode.usage,
      message: 'f.yaml: 2 problems: a; b',
    });
  });

  it('gives every code a one-line meaning', () => {
    for (const [code, e] of Object.entries(ERROR_CODES)) {
      expect(e.meaning, code).toMatch(/^\S.*\S$/);
      expect(e.meaning, code).not.toContain('\n');
    }
  });
});
