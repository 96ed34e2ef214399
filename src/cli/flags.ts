import { UsageError } from '../common/errors.js';

/**
 * Runs a util.parseArgs call and turns its errors into one-line UsageErrors naming the command:
 * `const { values, positionals } = withUsage('logs', () => parseArgs({ args, options, allowPositionals: true }))`.
 */
export function withUsage<R>(command: string, parse: () => R): R {
  try {
    return parse();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `${command}: ${message.replace(/\. To specify a positional.*$/s, '')} (see: throttlescope ${command} --help)`,
    );
  }
}

export function numberFlag(
  command: string,
  name: string,
  value: string | undefined,
  opts: { min?: number; integer?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (
    !Number.isFinite(n) ||
    (opts.integer && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min)
  ) {
    const kind = opts.integer ? 'an integer' : 'a number';
    const bound = opts.min !== undefined ? ` >= ${opts.min}` : '';
    throw new UsageError(`${command}: --${name} expects ${kind}${bound}, got "${value}"`);
  }
  return n;
}
