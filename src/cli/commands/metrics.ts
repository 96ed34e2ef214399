import { ExitCode, UsageError } from '../../common/errors.js';
import { durationMs } from '../../common/time.js';
import { collectMetricsWithConnection, validPeriod } from '../../metrics/collect.js';
import { renderMetrics } from '../../metrics/render.js';
import type { Command } from '../context.js';
import { AWS_FLAGS, awsConnectionFrom, helpText, parseFlags, timeWindowFlags } from '../flags.js';
import { metricsProgress, progressFor } from '../progress.js';

const FLAGS = {
  since: {
    type: 'string',
    arg: 'T',
    help: 'window start: ISO-8601 (UTC unless an offset is given), epoch seconds,\nor relative like -3h (default -3h)',
  },
  until: { type: 'string', arg: 'T', help: 'window end (default now)' },
  period: {
    type: 'string',
    arg: 'S',
    help: 'seconds per datapoint: 60 (default), a multiple of 60, or 1/5/10/30;\nalso 5m, 1h',
  },
  ...AWS_FLAGS,
  json: { type: 'boolean', help: 'print the report as JSON (the shape is documented in docs/metrics.md)' },
} as const;

const usage = helpText({
  usage: 'Usage: throttlescope metrics [options]',
  about: `Read Lambda and ALB CloudWatch metrics for a window and name the noisy neighbour: the function
without reserved concurrency that held the account's shared pool while others were throttled.
Progress (GetMetricData calls) goes to stderr, none with --json.`,
  flags: FLAGS,
  footer: `Permissions: lambda:ListFunctions, lambda:GetAccountSettings, lambda:GetFunctionConcurrency,
cloudwatch:GetMetricData, cloudwatch:ListMetrics.
Exit: 0 read (an empty window too: see the warnings), 2 usage, 4 AWS refused or unreachable.`,
});

function parsePeriod(text: string | undefined): number {
  if (text === undefined) return 60;
  const ms = durationMs(text);
  const sec = ms === undefined ? Number.NaN : ms / 1000;
  if (!validPeriod(sec)) {
    throw new UsageError(
      `metrics: --period must be 1, 5, 10, 30 or a multiple of 60 seconds (e.g. 60, 300, 5m), got "${text}"`,
    );
  }
  return sec;
}

export const command: Command = {
  name: 'metrics',
  summary: 'read Lambda/ALB CloudWatch metrics; name the noisy neighbour',
  usage,
  flagTables: [FLAGS],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags('metrics', FLAGS, argv);
    if (positionals.length > 0) {
      throw new UsageError(
        `metrics: unexpected argument "${positionals[0]}" (options only; see: throttlescope metrics --help)`,
      );
    }
    const now = Date.now();
    const w = timeWindowFlags('metrics', values, now, { since: '-3h', until: 'now' });
    const periodSec = parsePeriod(values.period);
    const progress = progressFor(ctx, { json: values.json === true });
    const report = await collectMetricsWithConnection({
      startMs: w.sinceMs as number,
      endMs: w.untilMs as number,
      periodSec,
      ...awsConnectionFrom(values, ctx.env),
      env: ctx.env,
      signal: ctx.signal,
      nowMs: now,
      onProgress: (p) => progress.update(metricsProgress(p)),
    }).finally(() => progress.done());
    ctx.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderMetrics(report));
    return ExitCode.ok;
  },
};
