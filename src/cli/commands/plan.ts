import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode, UsageError } from '../../common/errors.js';
import { wilsonInterval } from '../../common/stats.js';
import { safeForTerminal } from '../../common/terminal.js';
import { parseDuration, parseTimeBound } from '../../common/time.js';
import { BUILTIN_SCENARIOS, builtinScenario } from '../../lab/builtin.js';
import { loadScenarioFile, type Scenario } from '../../lab/scenario.js';
import { erlangB, minServersFor, offeredLoad } from '../../plan/erlang.js';
import { planFromMetrics } from '../../plan/from-metrics.js';
import { planFromScenario, type ScenarioPlan, simulationFromPlan } from '../../plan/from-scenario.js';
import {
  type PlanInput,
  type PlannedFunction,
  type PredictionMethod,
  type Recommendation,
  recommendReserved,
} from '../../plan/recommend.js';
import { type DurationModel, meanDurationMs, meanRatePerSecond, simulate } from '../../plan/simulate.js';
import type { CliContext, Command } from '../context.js';
import { numberFlag, withUsage } from '../flags.js';
import { table } from '../render/table.js';

const BUILTIN_NAMES = Object.keys(BUILTIN_SCENARIOS).join(', ');

const usage = `Usage: throttlescope plan <erlang | simulate | recommend> [options]

Queueing model of Lambda concurrency: a function behind an ALB is a loss system (a request that
finds no free concurrency is throttled, and the ALB answers 502), so its throttle probability is
Erlang B, and a whole account can be simulated. See docs/plan.md.

  plan erlang --load A (--concurrency C | --target P) [--json]
  plan erlang --rate R --duration D (--concurrency C | --target P) [--json]
      Erlang B: the share of requests throttled when A erlangs (mean concurrent executions;
      R requests/s x mean duration D by Little's law) meet C concurrency, or the smallest C that
      keeps it at or below P.
      --json: {"blocking": p} or {"concurrency": c, "blocking": p}

  plan simulate <scenario.yaml | ${BUILTIN_NAMES}> [options]
      Simulates a lab scenario's account on a virtual clock; each function's throttle fraction
      with a 95% confidence interval.
      --minutes M              lab minutes to simulate (default 10, or to the last rate step)
      --seed S                 random seed (default 1); the same seed gives the same result
      --reserve NAME=N|none    what-if: set (or remove) a reserved concurrency; repeatable
      --handler-duration NAME=D  mean duration of a function that runs a handler module

  plan recommend (<scenario.yaml | ${BUILTIN_NAMES}> | --metrics) [options]
      Reserved concurrency for each function so that the ALB-facing ones stay under the target
      throttle probability and the culprit is capped no lower than its needs allow, within the
      account limit and the unreserved minimum; predicted throttle fractions before and after.
      --target P               acceptable throttle probability (default 0.001)
      --culprit NAME           the function draining the shared pool (default: the metrics
                               ranking's noisy neighbour, or the scenario's busiest unreserved
                               function not behind the ALB when it can fill the shared pool)
      --alb-facing A,B         functions behind an ALB (default: a scenario's target groups, or
                               the functions the metrics ranking found throttled)
      --minutes M, --seed S, --handler-duration NAME=D   as for simulate (scenarios)
      --metrics                read CloudWatch history instead of a scenario, with:
        --since T              window start (default -24h); ISO-8601, epoch seconds or -3h
        --until T              window end (default now)
        --region R, --profile P, --endpoint-url URL   as for throttlescope metrics

  --json                       print the result as JSON (shapes in docs/plan.md)

Exit: 0 done, 2 usage (or no reservation meets the target), 3 scenario unreadable, 4 AWS
refused or unreachable.
`;

const MAX_ERLANGS = 1e7;
const MAX_CONCURRENCY = 1e7;
const MAX_MINUTES = 7 * 24 * 60;

// ---------------------------------------------------------------------------------------------
// plan erlang

/** Erlang B for `plan erlang`; exported for tests and docs. */
export function runErlang(flags: {
  load?: number;
  rate?: number;
  durationMs?: number;
  concurrency?: number;
  target?: number;
}): { concurrency?: number; blocking: number; load: number } {
  const load = flags.load ?? offeredLoad(flags.rate ?? 0, flags.durationMs ?? 0);
  if (flags.concurrency !== undefined) return { blocking: erlangB(load, flags.concurrency), load };
  const r = minServersFor(load, flags.target ?? 0.001);
  return { concurrency: r.servers, blocking: r.blocking, load };
}

function durationFlag(command: string, flag: string, text: string): number {
  if (/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new UsageError(
      `${command}: --${flag} expects a duration with a unit like 250ms or 1.5s, got "${text}"`,
    );
  }
  try {
    return parseDuration(text, `--${flag}`);
  } catch {
    throw new UsageError(`${command}: --${flag} expects a duration like 250ms, 1.5s or 2m, got "${text}"`);
  }
}

function probabilityFlag(
  command: string,
  flag: string,
  text: string | undefined,
  closedAtOne: boolean,
): number | undefined {
  if (text === undefined) return undefined;
  const p = Number(text);
  if (!(Number.isFinite(p) && p > 0 && (closedAtOne ? p <= 1 : p < 1))) {
    throw new UsageError(
      `${command}: --${flag} expects a probability in (0, ${closedAtOne ? '1]' : '1)'}, e.g. 0.001, got "${text}"`,
    );
  }
  return p;
}

async function erlangCommand(argv: string[], ctx: CliContext): Promise<number> {
  const cmd = 'plan erlang';
  const { values, positionals } = withUsage(cmd, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        load: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        concurrency: { type: 'string' },
        target: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  if (positionals.length > 0) {
    throw new UsageError(
      `${cmd}: unexpected argument "${positionals[0]}" (options only; see: throttlescope plan --help)`,
    );
  }
  if (values.load !== undefined && (values.rate !== undefined || values.duration !== undefined)) {
    throw new UsageError(
      `${cmd}: --load expects to be given alone, not with --rate/--duration (they compute the load)`,
    );
  }
  if (values.load === undefined && values.rate === undefined && values.duration === undefined) {
    throw new UsageError(
      `${cmd}: --load expects the offered load in erlangs (or give --rate R --duration D)`,
    );
  }
  if ((values.rate === undefined) !== (values.duration === undefined)) {
    throw new UsageError(
      values.rate === undefined
        ? `${cmd}: --rate expects requests per second alongside --duration`
        : `${cmd}: --duration expects the mean duration (e.g. 250ms) alongside --rate`,
    );
  }
  const load = numberFlag(cmd, 'load', values.load, { min: 0 });
  const rate = numberFlag(cmd, 'rate', values.rate, { min: 0 });
  const durationMs =
    values.duration === undefined ? undefined : durationFlag(cmd, 'duration', values.duration);
  if (values.concurrency !== undefined && values.target !== undefined) {
    throw new UsageError(
      `${cmd}: --concurrency expects to be given without --target (one asks for p, the other for c)`,
    );
  }
  if (values.concurrency === undefined && values.target === undefined) {
    throw new UsageError(
      `${cmd}: --concurrency expects an integer >= 0 (or give --target P for the concurrency)`,
    );
  }
  const concurrency = numberFlag(cmd, 'concurrency', values.concurrency, { min: 0, integer: true });
  const target = probabilityFlag(cmd, 'target', values.target, true);
  const offered = load ?? offeredLoad(rate ?? 0, durationMs ?? 0);
  if (offered > MAX_ERLANGS) {
    throw new UsageError(
      `${cmd}: --${load !== undefined ? 'load' : 'rate'} expects an offered load up to ${MAX_ERLANGS} erlangs, got ${offered}`,
    );
  }
  if (concurrency !== undefined && concurrency > MAX_CONCURRENCY) {
    throw new UsageError(
      `${cmd}: --concurrency expects an integer up to ${MAX_CONCURRENCY}, got ${concurrency}`,
    );
  }
  const r = runErlang({ load: offered, concurrency, target });
  if (values.json) {
    const out =
      r.concurrency === undefined
        ? { blocking: r.blocking }
        : { concurrency: r.concurrency, blocking: r.blocking };
    ctx.stdout.write(`${JSON.stringify(out)}\n`);
    return ExitCode.ok;
  }
  const via = rate !== undefined ? ` (${rate}/s x ${durationMs} ms)` : '';
  ctx.stdout.write(
    r.concurrency === undefined
      ? `${fmtLoad(offered)} erlangs${via} on ${concurrency} concurrency: ${pct(r.blocking)} of requests throttled (Erlang B ${r.blocking.toPrecision(4)})\n`
      : `${fmtLoad(offered)} erlangs${via}: ${r.concurrency} concurrency keeps throttling at ${pct(r.blocking)} (Erlang B ${r.blocking.toPrecision(4)}, target ${pct(target ?? 0.001)})\n`,
  );
  return ExitCode.ok;
}

// ---------------------------------------------------------------------------------------------
// shared helpers

const pct = (p: number): string => {
  if (p === 0) return '0%';
  const v = p * 100;
  return `${v >= 10 ? v.toFixed(1) : Number(v.toPrecision(2))}%`;
};
const fmtLoad = (a: number): string => Number(a.toPrecision(4)).toString();

/** A scenario named by file (relative to the working directory) or by built-in name. */
function resolveScenario(cmd: string, arg: string | undefined, cwd: string): Scenario {
  if (arg === undefined) {
    throw new UsageError(`${cmd}: expected a scenario file or a built-in scenario (${BUILTIN_NAMES})`);
  }
  const path = resolve(cwd, arg);
  if (existsSync(path) && statSync(path).isFile()) return loadScenarioFile(path);
  const builtin = builtinScenario(arg);
  if (builtin) return builtin;
  if (/\.(ya?ml|json)$/i.test(arg) || arg.includes('/')) return loadScenarioFile(path); // unreadable: exit 3
  throw new UsageError(
    `${cmd}: expected a scenario file or a built-in scenario (${BUILTIN_NAMES}), got "${arg}"`,
  );
}

function nameValue(cmd: string, flag: string, text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) {
    throw new UsageError(`${cmd}: --${flag} expects NAME=VALUE, got "${text}"`);
  }
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function handlerDurations(
  cmd: string,
  given: string[] | undefined,
): Record<string, DurationModel> | undefined {
  if (!given || given.length === 0) return undefined;
  const out: Record<string, DurationModel> = {};
  for (const text of given) {
    const [name, value] = nameValue(cmd, 'handler-duration', text);
    const ms = durationFlag(cmd, 'handler-duration', value);
    if (!(ms > 0)) throw new UsageError(`${cmd}: --handler-duration expects a duration > 0, got "${value}"`);
    out[name] = { kind: 'exponential', meanMs: ms };
  }
  return out;
}

function minutesFlag(cmd: string, text: string | undefined): number | undefined {
  const m = numberFlag(cmd, 'minutes', text, { min: 1, integer: true });
  if (m !== undefined && m > MAX_MINUTES) {
    throw new UsageError(`${cmd}: --minutes expects an integer from 1 to ${MAX_MINUTES}, got "${text}"`);
  }
  return m;
}

function seedFlag(cmd: string, text: string | undefined): number | undefined {
  const s = numberFlag(cmd, 'seed', text, { min: 0, integer: true });
  if (s !== undefined && !Number.isSafeInteger(s)) {
    throw new UsageError(`${cmd}: --seed expects a safe integer >= 0, got "${text}"`);
  }
  return s;
}

function functionNamed(cmd: string, flag: string, input: PlanInput, name: string): PlannedFunction {
  const f = input.functions.find((g) => g.name === name);
  if (!f) {
    throw new UsageError(
      `${cmd}: --${flag} expects one of the functions (${input.functions.map((g) => g.name).join(', ')}), got "${name}"`,
    );
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// plan simulate

export interface SimulateJsonFunction {
  name: string;
  albFacing: boolean;
  reserved: number | null;
  offered: number;
  throttled: number;
  throttleFraction: number;
  ci95: [number, number];
  byCause: { account: number; reserved: number; scaling: number };
  peakConcurrency: number;
  queue: { arrived: number; backlog: number } | null;
}

export interface SimulateJson {
  scenario: string;
  minutes: number;
  seed: number;
  events: number;
  functions: SimulateJsonFunction[];
  /** All ALB-facing functions together: the share of ALB requests answered 502 by throttling. */
  alb: { offered: number; throttled: number; throttleFraction: number; ci95: [number, number] } | null;
  notes: string[];
}

function wilson(x: number, n: number): [number, number] {
  const ci = wilsonInterval(x, n);
  return [ci.low, ci.high];
}

function applyReservations(cmd: string, plan: ScenarioPlan, given: string[] | undefined): void {
  for (const text of given ?? []) {
    const [name, value] = nameValue(cmd, 'reserve', text);
    const f = functionNamed(cmd, 'reserve', plan.input, name);
    if (value === 'none') f.reserved = undefined;
    else {
      const n = Number(value);
      if (!(Number.isInteger(n) && n >= 0)) {
        throw new UsageError(
          `${cmd}: --reserve expects NAME=N with an integer N >= 0 or NAME=none, got "${text}"`,
        );
      }
      f.reserved = n;
    }
  }
  const total = plan.input.functions.reduce((s, f) => s + (f.reserved ?? 0), 0);
  const reservable = plan.input.accountLimit - plan.input.unreservedMinimum;
  if (total > reservable) {
    throw new UsageError(
      `${cmd}: --reserve expects reservations totalling at most ${reservable} (limit ${plan.input.accountLimit} - unreserved minimum ${plan.input.unreservedMinimum}), got ${total}`,
    );
  }
}

export function simulateScenario(
  scenario: Scenario,
  options: {
    minutes?: number | undefined;
    seed?: number | undefined;
    reserve?: string[] | undefined;
    handlerDurations?: Record<string, DurationModel> | undefined;
  } = {},
): SimulateJson {
  const plan = planFromScenario(scenario, {
    minutes: options.minutes,
    handlerDurations: options.handlerDurations,
  });
  applyReservations('plan simulate', plan, options.reserve);
  const seed = options.seed ?? 1;
  const result = simulate(simulationFromPlan(plan, { seed }));
  const functions = result.functions.map((r, i): SimulateJsonFunction => {
    const f = plan.input.functions[i]!;
    return {
      name: r.name,
      albFacing: f.albFacing === true,
      reserved: f.reserved ?? null,
      offered: r.offered,
      throttled: r.throttled,
      throttleFraction: r.throttleFraction,
      ci95: r.ci95,
      byCause: r.byCause,
      peakConcurrency: r.peakConcurrency,
      queue: r.queue ?? null,
    };
  });
  const alb = functions.filter((f) => f.albFacing);
  const offered = alb.reduce((s, f) => s + f.offered, 0);
  const throttled = alb.reduce((s, f) => s + f.throttled, 0);
  return {
    scenario: scenario.name,
    minutes: plan.minutes,
    seed,
    events: result.events,
    functions,
    alb:
      alb.length === 0
        ? null
        : {
            offered,
            throttled,
            throttleFraction: offered === 0 ? 0 : throttled / offered,
            ci95: wilson(throttled, offered),
          },
    notes: plan.notes,
  };
}

function renderSimulation(r: SimulateJson): string {
  const out: string[] = [
    `Simulated ${r.minutes} lab minutes of scenario ${r.scenario} (seed ${r.seed}, ${r.events.toLocaleString('en-US')} events)`,
    '',
  ];
  const rows: (string | number)[][] = [
    ['function', 'reserved', 'offered', 'throttled', '95% interval', 'peak', ''],
  ];
  for (const f of r.functions) {
    rows.push([
      f.name,
      f.reserved ?? 'none',
      f.offered,
      pct(f.throttleFraction),
      `${pct(f.ci95[0])} - ${pct(f.ci95[1])}`,
      f.peakConcurrency,
      [
        f.albFacing ? 'behind the ALB' : '',
        f.queue ? `queue backlog ${f.queue.backlog.toLocaleString('en-US')} at the end` : '',
      ]
        .filter(Boolean)
        .join(', '),
    ]);
  }
  out.push(...table(rows).split('\n'), '');
  if (r.alb) {
    out.push(
      `ALB: ${pct(r.alb.throttleFraction)} of ${r.alb.offered.toLocaleString('en-US')} requests would get 502 LambdaThrottling (95% ${pct(r.alb.ci95[0])} - ${pct(r.alb.ci95[1])})`,
    );
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.map(safeForTerminal).join('\n')}\n`;
}

async function simulateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const cmd = 'plan simulate';
  const { values, positionals } = withUsage(cmd, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        reserve: { type: 'string', multiple: true },
        'handler-duration': { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  if (positionals.length > 1) {
    throw new UsageError(
      `${cmd}: expected one scenario, got ${positionals.length} (${positionals.join(', ')})`,
    );
  }
  const minutes = minutesFlag(cmd, values.minutes);
  const seed = seedFlag(cmd, values.seed);
  const durations = handlerDurations(cmd, values['handler-duration']);
  const scenario = resolveScenario(cmd, positionals[0], ctx.cwd);
  const r = simulateScenario(scenario, {
    minutes,
    seed,
    reserve: values.reserve,
    handlerDurations: durations,
  });
  ctx.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : renderSimulation(r));
  return ExitCode.ok;
}

// ---------------------------------------------------------------------------------------------
// plan recommend

export interface PredictionJson {
  throttleFraction: number;
  method: PredictionMethod;
}

export interface RecommendJsonFunction {
  name: string;
  albFacing: boolean;
  /** Fed by a queue: its throttles delay messages rather than fail requests. */
  queued: boolean;
  /** Reserved concurrency now; null = none (shared pool). */
  current: number | null;
  recommended: number | null;
  changed: boolean;
  before: PredictionJson;
  after: PredictionJson;
  reason: string;
}

export interface RecommendJson {
  source:
    | { kind: 'scenario'; name: string; minutes: number }
    | { kind: 'metrics'; region: string; startMs: number; endMs: number; periodSec: number };
  targetBlocking: number;
  accountLimit: number;
  unreservedMinimum: number;
  reservable: number;
  totalReserved: number;
  culprit: { name: string; chosenBy: 'flag' | 'metrics ranking' | 'scenario load' } | null;
  functions: RecommendJsonFunction[];
  changes: { function: string; before: number | null; after: number | null }[];
  /** When the predictions cover only the busiest stretch of a long history. */
  predictionWindow: {
    startMs: number | null;
    startMinute: number;
    minutes: number;
    ofMinutes: number;
  } | null;
  warnings: string[];
  notes: string[];
}

/** The scenario's busiest unreserved function not behind the ALB, if it can fill the shared pool. */
export function scenarioCulprit(input: PlanInput): string | undefined {
  const pool = input.accountLimit - input.functions.reduce((s, f) => s + (f.reserved ?? 0), 0);
  let best: { name: string; load: number } | undefined;
  for (const f of input.functions) {
    if (f.albFacing || f.reserved !== undefined) continue;
    const ms = meanDurationMs(f.duration);
    let load = offeredLoad(meanRatePerSecond(f.arrivals), ms);
    for (const q of f.queues ?? []) {
      load += Math.min(
        q.maxConcurrency ?? Number.POSITIVE_INFINITY,
        offeredLoad(meanRatePerSecond(q.arrivals), ms),
      );
    }
    if (!best || load > best.load) best = { name: f.name, load };
  }
  return best && best.load >= pool / 2 ? best.name : undefined;
}

function recommendationJson(
  rec: Recommendation,
  input: PlanInput,
  extra: Pick<RecommendJson, 'source' | 'culprit' | 'notes'> & { startMs?: number | undefined },
): RecommendJson {
  const functions = rec.functions.map(
    (f, i): RecommendJsonFunction => ({
      name: f.name,
      albFacing: input.functions[i]?.albFacing === true,
      queued: (input.functions[i]?.queues?.length ?? 0) > 0,
      current: f.current ?? null,
      recommended: f.recommended ?? null,
      changed: (f.current ?? null) !== (f.recommended ?? null),
      before: { throttleFraction: f.predictedBlockingBefore, method: f.methodBefore },
      after: { throttleFraction: f.predictedBlockingAfter, method: f.methodAfter },
      reason: f.reason,
    }),
  );
  const w = rec.predictionWindow;
  return {
    source: extra.source,
    targetBlocking: rec.targetBlocking,
    accountLimit: input.accountLimit,
    unreservedMinimum: input.unreservedMinimum,
    reservable: rec.reservable,
    totalReserved: rec.totalReserved,
    culprit: extra.culprit,
    functions,
    changes: functions
      .filter((f) => f.changed)
      .map((f) => ({ function: f.name, before: f.current, after: f.recommended })),
    predictionWindow: w
      ? {
          startMs: extra.startMs === undefined ? null : extra.startMs + w.startMinute * 60_000,
          startMinute: w.startMinute,
          minutes: w.minutes,
          ofMinutes: w.ofMinutes,
        }
      : null,
    warnings: rec.warnings,
    notes: extra.notes,
  };
}

function renderRecommendation(r: RecommendJson): string {
  const src =
    r.source.kind === 'scenario'
      ? `scenario ${r.source.name} (${r.source.minutes} lab minutes)`
      : `CloudWatch history in ${r.source.region}, ${new Date(r.source.startMs).toISOString().slice(0, 16)} to ${new Date(r.source.endMs).toISOString().slice(0, 16)} UTC`;
  const out: string[] = [
    `Reserved concurrency for ${src}`,
    `  account limit ${r.accountLimit}, unreserved minimum ${r.unreservedMinimum}: at most ${r.reservable} can be reserved; the recommendation reserves ${r.totalReserved}`,
    `  target: ALB-facing functions throttled at most ${pct(r.targetBlocking)} of the time${r.culprit ? `; culprit ${r.culprit.name} (${r.culprit.chosenBy === 'flag' ? 'given' : `by ${r.culprit.chosenBy}`})` : ''}`,
    '',
  ];
  const rows: (string | number)[][] = [
    ['function', 'reserved now', 'recommended', 'throttled now', 'after', ''],
  ];
  for (const f of r.functions) {
    rows.push([
      f.name,
      f.current ?? 'none',
      f.recommended ?? 'none',
      pct(f.before.throttleFraction),
      pct(f.after.throttleFraction),
      [
        f.albFacing ? 'behind the ALB' : '',
        f.queued ? 'fed by a queue: a throttle delays a message' : '',
        f.changed ? 'change' : '',
      ]
        .filter(Boolean)
        .join(', '),
    ]);
  }
  out.push(...table(rows).split('\n'), '', 'Why:');
  for (const f of r.functions) out.push(`  ${f.name}: ${f.reason}`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.map(safeForTerminal).join('\n')}\n`;
}

function albFacingFlag(cmd: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new UsageError(`${cmd}: --alb-facing expects function names separated by commas, got "${text}"`);
  return names;
}

async function recommendCommand(argv: string[], ctx: CliContext): Promise<number> {
  const cmd = 'plan recommend';
  const { values, positionals } = withUsage(cmd, () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        metrics: { type: 'boolean', default: false },
        since: { type: 'string' },
        until: { type: 'string' },
        region: { type: 'string' },
        profile: { type: 'string' },
        'endpoint-url': { type: 'string' },
        target: { type: 'string' },
        culprit: { type: 'string' },
        'alb-facing': { type: 'string' },
        minutes: { type: 'string' },
        seed: { type: 'string' },
        'handler-duration': { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  const target = probabilityFlag(cmd, 'target', values.target, false) ?? 0.001;
  const seed = seedFlag(cmd, values.seed);
  const albFacing = albFacingFlag(cmd, values['alb-facing']);
  if (values.culprit !== undefined && values.culprit.trim() === '') {
    throw new UsageError(`${cmd}: --culprit expects a function name`);
  }
  let json: RecommendJson;
  if (values.metrics) {
    if (positionals.length > 0) {
      throw new UsageError(
        `${cmd}: --metrics expects no scenario argument, got "${positionals[0]}" (give one or the other)`,
      );
    }
    for (const flag of ['minutes', 'handler-duration'] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(`${cmd}: --${flag} expects a scenario, not --metrics`);
    }
    json = await recommendFromMetrics(cmd, ctx, { ...values, target, seed, albFacing });
  } else {
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? `${cmd}: expected a scenario file, a built-in scenario (${BUILTIN_NAMES}) or --metrics`
          : `${cmd}: expected one scenario, got ${positionals.length} (${positionals.join(', ')})`,
      );
    }
    for (const flag of ['since', 'until', 'region', 'profile', 'endpoint-url'] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(`${cmd}: --${flag} expects --metrics (it reads CloudWatch)`);
    }
    const minutes = minutesFlag(cmd, values.minutes);
    const durations = handlerDurations(cmd, values['handler-duration']);
    const scenario = resolveScenario(cmd, positionals[0], ctx.cwd);
    const plan = planFromScenario(scenario, { minutes, handlerDurations: durations });
    if (albFacing) {
      for (const name of albFacing) functionNamed(cmd, 'alb-facing', plan.input, name);
      for (const f of plan.input.functions) f.albFacing = albFacing.includes(f.name);
    }
    let culprit: RecommendJson['culprit'] = null;
    if (values.culprit !== undefined) {
      functionNamed(cmd, 'culprit', plan.input, values.culprit);
      culprit = { name: values.culprit, chosenBy: 'flag' };
    } else {
      const name = scenarioCulprit(plan.input);
      if (name) culprit = { name, chosenBy: 'scenario load' };
    }
    const rec = recommendReserved(plan.input, {
      targetBlocking: target,
      culprit: culprit?.name,
      seed,
      simulationMs: plan.minutes * 60_000,
    });
    json = recommendationJson(rec, plan.input, {
      source: { kind: 'scenario', name: scenario.name, minutes: plan.minutes },
      culprit,
      notes: plan.notes,
    });
  }
  ctx.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : renderRecommendation(json));
  return ExitCode.ok;
}

async function recommendFromMetrics(
  cmd: string,
  ctx: CliContext,
  values: {
    since?: string | undefined;
    until?: string | undefined;
    region?: string | undefined;
    profile?: string | undefined;
    'endpoint-url'?: string | undefined;
    culprit?: string | undefined;
    target: number;
    seed: number | undefined;
    albFacing: string[] | undefined;
  },
): Promise<RecommendJson> {
  const now = Date.now();
  const startMs = parseTimeBound(values.since ?? '-24h', '--since', now);
  const endMs = values.until === undefined ? now : parseTimeBound(values.until, '--until', now);
  if (endMs <= startMs) {
    throw new UsageError(
      `${cmd}: --until expects a time after --since (${new Date(startMs).toISOString()}), got ${new Date(endMs).toISOString()}`,
    );
  }
  // Loaded here so that `plan erlang` and `plan simulate` do not pay for the AWS SDK.
  const { collectMetricsWithConnection } = await import('../../metrics/collect.js');
  const report = await collectMetricsWithConnection({
    startMs,
    endMs,
    periodSec: 60,
    region: values.region,
    profile: values.profile,
    endpointUrl: values['endpoint-url'],
    env: ctx.env,
    signal: ctx.signal,
    nowMs: now,
  });
  const notes: string[] = [];
  let albFacing = values.albFacing;
  if (!albFacing) {
    albFacing = report.ranking.victims;
    notes.push(
      albFacing.length > 0
        ? `ALB-facing functions taken to be the throttled ones (${albFacing.join(', ')}); name them with --alb-facing`
        : 'no function was throttled and --alb-facing was not given: nothing gets a guarantee',
    );
  }
  const plan = planFromMetrics(report, { albFacing });
  notes.push(...plan.notes, ...report.warnings.map((w) => `metrics: ${w}`));
  if (plan.input.functions.length === 0) {
    throw new UsageError(`${cmd}: --since/--until expect a window in which some function ran; none did`);
  }
  let culprit: RecommendJson['culprit'] = null;
  if (values.culprit !== undefined) {
    functionNamed(cmd, 'culprit', plan.input, values.culprit);
    culprit = { name: values.culprit, chosenBy: 'flag' };
  } else if (report.ranking.culprit && plan.input.functions.some((f) => f.name === report.ranking.culprit)) {
    culprit = { name: report.ranking.culprit, chosenBy: 'metrics ranking' };
  }
  if (culprit) {
    // The culprit's guarantee would be its cap; it is capped, not guaranteed.
    for (const f of plan.input.functions)
      if (f.name === culprit.name) f.albFacing = albFacing.includes(f.name);
  }
  const rec = recommendReserved(plan.input, {
    targetBlocking: values.target,
    culprit: culprit?.name,
    seed: values.seed,
  });
  return recommendationJson(rec, plan.input, {
    source: { kind: 'metrics', region: report.region, ...report.window },
    culprit,
    notes,
    startMs: plan.startMs,
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * `--since -3h` reads to parseArgs as a flag followed by another option; a value that starts
 * with a dash is joined to its flag (`--since=-3h`) when the flag takes one.
 */
function joinDashValues(argv: string[], valued: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (valued.includes(a) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

const SUBCOMMANDS: Record<string, (argv: string[], ctx: CliContext) => Promise<number>> = {
  erlang: erlangCommand,
  simulate: simulateCommand,
  recommend: recommendCommand,
};

export const command: Command = {
  name: 'plan',
  summary: 'queueing model: Erlang B, simulation, recommendations',
  usage,
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (sub === undefined) {
      throw new UsageError(
        'plan: expected a subcommand: erlang, simulate or recommend (see: throttlescope plan --help)',
      );
    }
    const run = SUBCOMMANDS[sub];
    if (!run) {
      throw new UsageError(
        `plan: expected a subcommand erlang, simulate or recommend, got "${safeForTerminal(sub)}" (see: throttlescope plan --help)`,
      );
    }
    return run(
      joinDashValues(rest, [
        '--since',
        '--until',
        '--load',
        '--rate',
        '--concurrency',
        '--target',
        '--seed',
        '--minutes',
      ]),
      ctx,
    );
  },
};
