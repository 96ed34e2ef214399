/** `plan`'s flag tables and the parsers of its values (one line naming the command and flag each). */
import { UsageError } from '../common/errors.js';
import { BUILTIN_SCENARIO_NAMES } from '../lab/resolve-scenario.js';
import type { DurationModel } from '../plan/simulate.js';
import { AWS_FLAGS, durationFlag, nameValueFlag, numberFlag } from './flags.js';

export const BUILTIN_NAMES = BUILTIN_SCENARIO_NAMES.join(', ');
export const MAX_ERLANGS = 1e7;
export const MAX_CONCURRENCY = 1e7;
export const MAX_MINUTES = 7 * 24 * 60;
const JSON_FLAG = { type: 'boolean', help: 'print the result as JSON (shapes in docs/plan.md)' } as const;

export const ERLANG_FLAGS = {
  load: { type: 'string', arg: 'A', help: 'offered load in erlangs (mean concurrent executions)' },
  rate: { type: 'string', arg: 'R', help: 'requests per second (with --duration, instead of --load)' },
  duration: { type: 'string', arg: 'D', help: 'mean duration, with a unit (250ms, 1.5s)' },
  concurrency: { type: 'string', arg: 'C', help: 'the concurrency to ask the blocking of' },
  target: { type: 'string', arg: 'P', help: 'ask the smallest concurrency keeping blocking <= P' },
  json: JSON_FLAG,
} as const;

const SCENARIO_FLAGS = {
  minutes: {
    type: 'string',
    arg: 'M',
    help: 'lab minutes to simulate (default 10, or to the last rate step)',
  },
  seed: { type: 'string', arg: 'S', help: 'random seed (default 1); the same seed gives the same result' },
  'handler-duration': {
    type: 'string',
    multiple: true,
    arg: 'NAME=D',
    help: 'mean duration of a function that runs a handler module (repeatable)',
  },
} as const;

export const SIMULATE_FLAGS = {
  ...SCENARIO_FLAGS,
  reserve: {
    type: 'string',
    multiple: true,
    arg: 'NAME=N|none',
    help: 'what-if: set (or remove) a reserved concurrency; repeatable',
  },
  json: JSON_FLAG,
} as const;

export const RECOMMEND_FLAGS = {
  target: { type: 'string', arg: 'P', help: 'acceptable throttle probability (default 0.001)' },
  culprit: {
    type: 'string',
    arg: 'NAME',
    help: "the function draining the shared pool (default: the metrics ranking's noisy\nneighbour, or the scenario's busiest unreserved function not behind the ALB\nwhen it can fill the shared pool)",
  },
  'alb-facing': {
    type: 'string',
    arg: 'A,B',
    help: "functions behind an ALB (default: a scenario's target groups, or the functions\nthe metrics ranking found throttled)",
  },
  ...SCENARIO_FLAGS,
  metrics: { type: 'boolean', help: 'read CloudWatch history instead of a scenario, with:' },
  since: { type: 'string', arg: 'T', help: 'window start (default -24h); ISO-8601, epoch seconds or -3h' },
  until: { type: 'string', arg: 'T', help: 'window end (default now)' },
  ...AWS_FLAGS,
  json: JSON_FLAG,
} as const;

/** Library option names as the flags that set them. */
export const FLAG_OF = {
  reserve: 'reserve',
  albFacing: 'alb-facing',
  culprit: 'culprit',
  handlerDurations: 'handler-duration',
  window: 'since/--until',
} as const;

export function handlerDurations(
  cmd: string,
  given: string[] | undefined,
): Record<string, DurationModel> | undefined {
  if (!given || given.length === 0) return undefined;
  const out: Record<string, DurationModel> = {};
  for (const text of given) {
    const [name, value] = nameValueFlag(cmd, 'handler-duration', text);
    const ms = durationFlag(cmd, 'handler-duration', value, { unit: 'required' });
    if (!(ms > 0)) throw new UsageError(`${cmd}: --handler-duration expects a duration > 0, got "${value}"`);
    out[name] = { kind: 'exponential', meanMs: ms };
  }
  return out;
}

export function minutesFlag(cmd: string, text: string | undefined): number | undefined {
  const m = numberFlag(cmd, 'minutes', text, { min: 1, integer: true });
  if (m !== undefined && m > MAX_MINUTES) {
    throw new UsageError(`${cmd}: --minutes expects an integer from 1 to ${MAX_MINUTES}, got "${text}"`);
  }
  return m;
}

export function seedFlag(cmd: string, text: string | undefined): number | undefined {
  const s = numberFlag(cmd, 'seed', text, { min: 0, integer: true });
  if (s !== undefined && !Number.isSafeInteger(s)) {
    throw new UsageError(`${cmd}: --seed expects a safe integer >= 0, got "${text}"`);
  }
  return s;
}

export function reservations(cmd: string, given: string[] | undefined): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const text of given ?? []) {
    const [name, value] = nameValueFlag(cmd, 'reserve', text);
    const n = Number(value);
    if (value !== 'none' && !(Number.isInteger(n) && n >= 0)) {
      throw new UsageError(
        `${cmd}: --reserve expects NAME=N with an integer N >= 0 or NAME=none, got "${text}"`,
      );
    }
    out[name] = value === 'none' ? null : n;
  }
  return out;
}

export function albFacingFlag(cmd: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new UsageError(`${cmd}: --alb-facing expects function names separated by commas, got "${text}"`);
  return names;
}
