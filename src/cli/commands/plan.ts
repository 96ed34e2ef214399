import { ExitCode, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import {
  type RecommendationDocument,
  recommendFromMetrics,
  recommendFromScenario,
  simulateScenario,
} from '../../plan/documents.js';
import { offeredLoad, solveErlang } from '../../plan/erlang.js';
import { renderErlang, renderRecommendation, renderSimulation } from '../../plan/render.js';
import type { CliContext, Command } from '../context.js';
import {
  asFlagErrors,
  awsConnectionFrom,
  durationFlag,
  flagHelp,
  numberFlag,
  parseFlags,
  probabilityFlag,
  timeWindowFlags,
} from '../flags.js';
import {
  albFacingFlag,
  BUILTIN_NAMES,
  ERLANG_FLAGS,
  FLAG_OF,
  handlerDurations,
  MAX_CONCURRENCY,
  MAX_ERLANGS,
  minutesFlag,
  RECOMMEND_FLAGS,
  reservations,
  SIMULATE_FLAGS,
  seedFlag,
} from '../plan-flags.js';
import { metricsProgress, progressFor } from '../progress.js';
import { scenarioArg } from '../scenario-arg.js';

const usage = `Usage: throttlescope plan <erlang | simulate | recommend> [options]

Queueing model of Lambda concurrency: a function behind an ALB is a loss system (a request that
finds no free concurrency is throttled, and the ALB answers 502), so its throttle probability is
Erlang B, and a whole account can be simulated. See docs/plan.md.

  plan erlang --load A (--concurrency C | --target P) [--json]
  plan erlang --rate R --duration D (--concurrency C | --target P) [--json]
      Erlang B: the share of requests throttled when A erlangs (mean concurrent executions;
      R requests/s x mean duration D by Little's law) meet C concurrency, or the smallest C that
      keeps it at or below P. --json: {"blocking": p} or {"concurrency": c, "blocking": p}
${flagHelp(ERLANG_FLAGS, { indent: '      ' })}

  plan simulate <scenario.yaml | ${BUILTIN_NAMES}> [options]
      Simulates a lab scenario's account on a virtual clock; each function's throttle fraction
      with a 95% confidence interval.
${flagHelp(SIMULATE_FLAGS, { indent: '      ' })}

  plan recommend (<scenario.yaml | ${BUILTIN_NAMES}> | --metrics) [options]
      Reserved concurrency for each function so that the ALB-facing ones stay under the target
      throttle probability and the culprit is capped no lower than its needs allow, within the
      account limit and the unreserved minimum; predicted throttle fractions before and after.
${flagHelp(RECOMMEND_FLAGS, { indent: '      ' })}

Exit: 0 done, 2 usage (or no reservation meets the target), 3 scenario unreadable, 4 AWS
refused or unreachable.
`;

async function erlangCommand(argv: string[], ctx: CliContext): Promise<number> {
  const cmd = 'plan erlang';
  const { values, positionals } = parseFlags(cmd, ERLANG_FLAGS, argv);
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
    values.duration === undefined
      ? undefined
      : durationFlag(cmd, 'duration', values.duration, { unit: 'required' });
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
  const target = probabilityFlag(cmd, 'target', values.target, { closedAtOne: true });
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
  const r = solveErlang({ load: offered, concurrency, target });
  if (values.json) {
    const out =
      r.concurrency === undefined
        ? { blocking: r.blocking }
        : { concurrency: r.concurrency, blocking: r.blocking };
    ctx.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    ctx.stdout.write(
      renderErlang(r, { concurrency, target, ...(rate !== undefined ? { rate, durationMs } : {}) }),
    );
  }
  return ExitCode.ok;
}

async function simulateCommand(argv: string[], ctx: CliContext): Promise<number> {
  const cmd = 'plan simulate';
  const { values, positionals } = parseFlags(cmd, SIMULATE_FLAGS, argv);
  if (positionals.length > 1) {
    throw new UsageError(
      `${cmd}: expected one scenario, got ${positionals.length} (${positionals.join(', ')})`,
    );
  }
  const minutes = minutesFlag(cmd, values.minutes);
  const seed = seedFlag(cmd, values.seed);
  const durations = handlerDurations(cmd, values['handler-duration']);
  const scenario = scenarioArg(cmd, positionals[0], ctx.cwd);
  const reserve = reservations(cmd, values.reserve);
  const r = await asFlagErrors(cmd, FLAG_OF, () =>
    simulateScenario(scenario, { minutes, seed, reserve, handlerDurations: durations }),
  );
  ctx.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : renderSimulation(r));
  return ExitCode.ok;
}

async function recommendCommand(argv: string[], ctx: CliContext): Promise<number> {
  const cmd = 'plan recommend';
  const { values, positionals } = parseFlags(cmd, RECOMMEND_FLAGS, argv);
  const targetBlocking = probabilityFlag(cmd, 'target', values.target) ?? 0.001;
  const seed = seedFlag(cmd, values.seed);
  const albFacing = albFacingFlag(cmd, values['alb-facing']);
  if (values.culprit !== undefined && values.culprit.trim() === '') {
    throw new UsageError(`${cmd}: --culprit expects a function name`);
  }
  const common = { targetBlocking, seed, albFacing, culprit: values.culprit };
  let doc: RecommendationDocument;
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
    const now = Date.now();
    const w = timeWindowFlags(cmd, values, now, { since: '-24h', until: 'now' });
    const progress = progressFor(ctx, { json: values.json === true });
    try {
      doc = await asFlagErrors(cmd, FLAG_OF, () =>
        recommendFromMetrics({
          ...common,
          startMs: w.sinceMs as number,
          endMs: w.untilMs as number,
          ...awsConnectionFrom(values, ctx.env),
          env: ctx.env,
          signal: ctx.signal,
          nowMs: now,
          onProgress: (p) => progress.update(metricsProgress(p)),
        }),
      );
    } finally {
      progress.done();
    }
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
    const handler = handlerDurations(cmd, values['handler-duration']);
    const scenario = scenarioArg(cmd, positionals[0], ctx.cwd);
    doc = await asFlagErrors(cmd, FLAG_OF, () =>
      recommendFromScenario(scenario, { ...common, minutes, handlerDurations: handler }),
    );
  }
  ctx.stdout.write(values.json ? `${JSON.stringify(doc, null, 2)}\n` : renderRecommendation(doc));
  return ExitCode.ok;
}

const SUBCOMMANDS: Record<string, (argv: string[], ctx: CliContext) => Promise<number>> = {
  erlang: erlangCommand,
  simulate: simulateCommand,
  recommend: recommendCommand,
};

/** Every flag table of the command, for the help test. */
export const FLAG_TABLES = [ERLANG_FLAGS, SIMULATE_FLAGS, RECOMMEND_FLAGS];

export const command: Command = {
  name: 'plan',
  summary: 'queueing model: Erlang B, simulation, recommendations',
  usage,
  flagTables: FLAG_TABLES,
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
    return run(rest, ctx);
  },
};
