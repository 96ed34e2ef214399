/**
 * The CLI's flag tables and the value parsers every command shares. A command declares one
 * `FlagTable`; it drives both `util.parseArgs` and the options section of the command's --help
 * (test/cli/help.test.ts checks that each accepted flag is in the help and each listed one is
 * accepted). node:util's parseArgs stays the parser: it is typed from the same table, has no
 * dependency, and the help it lacks is the few lines below.
 */
import { parseArgs } from 'node:util';
import type { AwsConnection } from '../common/aws.js';
import { InvalidOptionError, UsageError } from '../common/errors.js';
import { durationMs, parseTimeBound } from '../common/time.js';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: boolean;
  /** The value's placeholder in the help: `--rate R`. */
  readonly arg?: string;
  /** What the flag does, for --help; `\n` starts a continuation line. */
  readonly help: string;
  /** Starts a titled group of flags in the help (probe's "Load:", "Bounds:", ...). */
  readonly section?: string;
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

type FlagValue<F extends FlagSpec> = F['type'] extends 'boolean'
  ? F['multiple'] extends true
    ? boolean[]
    : boolean
  : F['multiple'] extends true
    ? string[]
    : string;

/** What parseFlags returns for a table: each flag's value, undefined when not given. */
export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]?: FlagValue<T[K]> | undefined };

/**
 * `--since -15m` reads naturally but util.parseArgs takes `-15m` for an option: a long option
 * that takes a value (any long option when `takesValue` is not given), followed by a token that
 * starts with a dash and a digit (or `-.5`), gets it as its value (`--since=-15m`).
 */
export function joinDashValues(
  argv: readonly string[],
  takesValue: (flag: string) => boolean = () => true,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    if (
      a.startsWith('--') &&
      !a.includes('=') &&
      next !== undefined &&
      /^-(\d|\.\d)/.test(next) &&
      takesValue(a.slice(2))
    ) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * Parses `argv` against a command's table; parseArgs' errors become one-line UsageErrors naming
 * the command. Values are typed from the table.
 */
export function parseFlags<T extends FlagTable>(
  command: string,
  table: T,
  argv: readonly string[],
): { values: FlagValues<T>; positionals: string[] } {
  const args = joinDashValues(argv, (flag) => table[flag]?.type === 'string');
  try {
    const { values, positionals } = parseArgs({ args, options: table, allowPositionals: true, strict: true });
    return { values: values as FlagValues<T>, positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `${command}: ${message.replace(/\. To specify a positional.*$/s, '')} (see: throttlescope ${command.split(' ')[0]} --help)`,
    );
  }
}

/** The options section of a help text, from the table: `  -c, --concurrency C   what it does`. */
export function flagHelp(table: FlagTable, opts: { indent?: string; width?: number } = {}): string {
  const indent = opts.indent ?? '  ';
  const heads = Object.entries(table).map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : '';
    return `${short}--${name}${f.arg ? ` ${f.arg}` : ''}`;
  });
  const width = opts.width ?? Math.max(...heads.map((h) => h.length)) + 2;
  const lines: string[] = [];
  Object.values(table).forEach((f, i) => {
    if (f.section) lines.push(f.section);
    const [first, ...rest] = f.help.split('\n');
    const head = heads[i] as string;
    lines.push(`${indent}${head.padEnd(width)}${head.length >= width ? ' ' : ''}${first}`);
    for (const r of rest) lines.push(`${indent}${' '.repeat(width)}${r}`);
  });
  return lines.join('\n');
}

/** A command's help: usage lines and prose, the generated options, then exit codes and notes. */
export function helpText(parts: {
  usage: string;
  about?: string;
  flags: FlagTable;
  footer?: string;
}): string {
  const out = [parts.usage.trimEnd(), ''];
  if (parts.about) out.push(parts.about.trimEnd(), '');
  out.push('Options:', flagHelp(parts.flags), '');
  if (parts.footer) out.push(parts.footer.trimEnd(), '');
  return out.join('\n');
}

/** The AWS connection flags every command that reads AWS (or the lab's endpoint) takes. */
export const AWS_FLAGS = {
  region: {
    type: 'string',
    arg: 'R',
    help: "AWS region (default AWS_REGION, AWS_DEFAULT_REGION, the profile's)",
  },
  profile: {
    type: 'string',
    arg: 'P',
    help: 'named AWS profile (default AWS_PROFILE, then the default chain)',
  },
  'endpoint-url': {
    type: 'string',
    arg: 'URL',
    help: "an AWS-compatible endpoint, e.g. the lab's (default AWS_ENDPOINT_URL)",
  },
} as const;

/** The connection the AWS flags describe; the endpoint falls back to AWS_ENDPOINT_URL. */
export function awsConnectionFrom(
  values: { region?: string | undefined; profile?: string | undefined; 'endpoint-url'?: string | undefined },
  env: NodeJS.ProcessEnv,
): AwsConnection {
  return {
    region: values.region,
    profile: values.profile,
    endpointUrl: values['endpoint-url'] ?? env.AWS_ENDPOINT_URL,
  };
}

// ---------------------------------------------------------------------------------------------
// Value parsers: each names the command and flag in one line.

export function numberFlag(
  command: string,
  name: string,
  value: string | undefined,
  opts: { min?: number; integer?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (
    value.trim() === '' ||
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

/**
 * A duration in the one grammar of common/time.ts (250ms, 1.5s, 5m, 2h, 1d; a bare number is
 * seconds). `unit: 'required'` refuses a bare number where seconds would be a surprising reading
 * (a mean duration in `plan`, usually thought of in milliseconds).
 */
export function durationFlag(
  command: string,
  name: string,
  text: string,
  opts: { unit?: 'required' } = {},
): number {
  if (opts.unit === 'required' && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(text)) {
    throw new UsageError(
      `${command}: --${name} expects a duration with a unit like 250ms or 1.5s, got "${text}"`,
    );
  }
  const ms = durationMs(text);
  if (ms === undefined) {
    throw new UsageError(`${command}: --${name} expects a duration like 250ms, 1.5s or 2m, got "${text}"`);
  }
  return ms;
}

/** A probability: in (0, 1), or (0, 1] with `closedAtOne`. */
export function probabilityFlag(
  command: string,
  name: string,
  text: string | undefined,
  opts: { closedAtOne?: boolean } = {},
): number | undefined {
  if (text === undefined) return undefined;
  const p = Number(text);
  const closed = opts.closedAtOne === true;
  if (!(text.trim() !== '' && Number.isFinite(p) && p > 0 && (closed ? p <= 1 : p < 1))) {
    throw new UsageError(
      `${command}: --${name} expects a probability in (0, ${closed ? '1]' : '1)'}, e.g. 0.001, got "${text}"`,
    );
  }
  return p;
}

/** `NAME=VALUE` (both non-empty). */
export function nameValueFlag(command: string, name: string, text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new UsageError(`${command}: --${name} expects NAME=VALUE, got "${text}"`);
  }
  return [text.slice(0, eq), text.slice(eq + 1)];
}

export interface TimeWindow {
  startMs: number;
  endMs: number;
}

/**
 * --since/--until, checked once: each bound as common/time.ts reads it, and the end after the
 * start. A bound left out takes its default (undefined when no default is given).
 */
export function timeWindowFlags(
  command: string,
  values: { since?: string | undefined; until?: string | undefined },
  now: number,
  defaults: { since?: string; until?: string } = {},
): { sinceMs: number | undefined; untilMs: number | undefined } {
  const since = values.since ?? defaults.since;
  const until = values.until ?? defaults.until;
  const sinceMs = since === undefined ? undefined : parseTimeBound(since, '--since', now);
  const untilMs = until === undefined ? undefined : parseTimeBound(until, '--until', now);
  if (sinceMs !== undefined && untilMs !== undefined && untilMs <= sinceMs) {
    throw new UsageError(
      `${command}: --until expects a time after --since (${new Date(sinceMs).toISOString()}), got ${new Date(untilMs).toISOString()}`,
    );
  }
  return { sinceMs, untilMs };
}

/**
 * Runs library code whose option errors name options (`reserve`), and says them as the flags
 * the user typed (`plan simulate: --reserve expects ...`). Other errors pass through.
 */
export async function asFlagErrors<R>(
  command: string,
  flagOf: Readonly<Record<string, string>>,
  run: () => R | Promise<R>,
): Promise<R> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      const flag = flagOf[error.option] ?? error.option;
      throw new UsageError(`${command}: --${flag} ${error.expectation}`, { cause: error });
    }
    throw error;
  }
}
