import { parseArgs } from 'node:util';
import { ExitCode, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { parseDuration, parseTimeBound } from '../../common/time.js';
import { collectMetricsWithConnection, type MetricsReport, validPeriod } from '../../metrics/collect.js';
import { seriesMax, seriesSum } from '../../metrics/series.js';
import type { Command } from '../context.js';
import { withUsage } from '../flags.js';
import { table } from '../render/table.js';

const usage = `Usage: throttlescope metrics [options]

Read Lambda and ALB CloudWatch metrics for a window and name the noisy neighbour: the function
without reserved concurrency that held the account's shared pool while others were throttled.

Options:
  --since T            window start: ISO-8601 (UTC unless an offset is given), epoch seconds,
                       or relative like -3h (default -3h)
  --until T            window end (default now)
  --period S           seconds per datapoint: 60 (default), a multiple of 60, or 1/5/10/30;
                       also 5m, 1h
  --region R           AWS region (default AWS_REGION, AWS_DEFAULT_REGION, the profile's)
  --profile P          named AWS profile (default AWS_PROFILE, then the default chain)
  --endpoint-url URL   an AWS-compatible endpoint, e.g. the lab's (default AWS_ENDPOINT_URL)
  --json               print the report as JSON (the shape is documented in docs/metrics.md)

Permissions: lambda:ListFunctions, lambda:GetAccountSettings, lambda:GetFunctionConcurrency,
cloudwatch:GetMetricData, cloudwatch:ListMetrics.
Exit: 0 read (an empty window too: see the warnings), 2 usage, 4 AWS refused or unreachable.
`;

const MAX_ROWS = 15;

function parsePeriod(text: string | undefined): number {
  if (text === undefined) return 60;
  const sec = /^\d+$/.test(text.trim()) ? Number(text) : parseDuration(text, '--period') / 1000;
  if (!validPeriod(sec)) {
    throw new UsageError(
      `metrics: --period must be 1, 5, 10, 30 or a multiple of 60 seconds (e.g. 60, 300, 5m), got "${text}"`,
    );
  }
  return sec;
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** The terminal summary: read in ten seconds, the noisy neighbour in one sentence at the end. */
export function renderMetrics(r: MetricsReport): string {
  const out: string[] = [];
  const periods = r.ranking.throttledPeriodsMs.length;
  out.push(
    `Lambda in ${r.region}, ${when(r.window.startMs)} to ${when(r.window.endMs)} UTC (${r.window.periodSec}s periods), ${r.functions.length} function(s)`,
  );
  const limitNote = r.account.limitAssumed ? ' (assumed: GetAccountSettings refused)' : '';
  out.push(
    `  account limit       ${r.account.limit}${limitNote}, shared pool ${r.ranking.sharedPoolSize} after reservations`,
  );
  const acct = r.accountSeries.concurrentExecutions;
  if (acct.values.length > 0) {
    const peak = seriesMax(acct);
    const at = acct.timestampsMs[acct.values.indexOf(peak)];
    const pctOf = r.account.limit > 0 ? ` (${Math.round((100 * peak) / r.account.limit)}% of the limit)` : '';
    out.push(`  peak concurrency    ${peak}${pctOf}${at !== undefined ? ` at ${hhmm(at)}` : ''}`);
  }
  const throttles = Math.max(
    seriesSum(r.accountSeries.throttles),
    r.functions.reduce((n, f) => n + seriesSum(f.series.throttles), 0),
  );
  out.push(
    `  throttled periods   ${periods}${periods > 0 ? ` (pool full in ${r.ranking.poolFullPeriods}), ${throttles.toLocaleString('en-US')} throttles` : ''}`,
  );
  // ELB-generated codes are published per load balancer; Lambda target errors per target group.
  const fmt = (n: number) => n.toLocaleString('en-US');
  for (const lb of [...new Set(r.alb.map((a) => a.loadBalancer))]) {
    const sets = r.alb.filter((a) => a.loadBalancer === lb);
    const whole = sets.find((a) => a.targetGroup === undefined);
    const groups = sets.filter((a) => a.targetGroup !== undefined);
    const requests = whole
      ? seriesSum(whole.series.requests)
      : groups.reduce((n, a) => n + seriesSum(a.series.requests), 0);
    const e502 = sets.reduce((n, a) => Math.max(n, seriesSum(a.series.elb502)), 0);
    const e5xx = sets.reduce((n, a) => Math.max(n, seriesSum(a.series.elb5xx)), 0);
    out.push(`  ALB ${lb}: ${fmt(e502)} ELB 502 (${fmt(e5xx)} ELB 5xx) of ${fmt(requests)} requests`);
    for (const g of groups) {
      const user = seriesSum(g.series.lambdaUserError);
      const internal = seriesSum(g.series.lambdaInternalError);
      const req = seriesSum(g.series.requests);
      if (user === 0 && internal === 0 && req === 0) continue;
      out.push(
        `    ${g.targetGroup}: ${fmt(req)} requests, ${fmt(user)} LambdaUserError, ${fmt(internal)} LambdaInternalError`,
      );
    }
  }

  const rows = r.ranking.functions
    .filter((f) => f.share > 0 || f.throttles > 0 || f.peakConcurrency > 0 || f.reserved !== null)
    .slice(0, MAX_ROWS)
    .map((f) => [
      f.name,
      periods > 0 ? `${(f.share * 100).toFixed(0)}%` : '-',
      f.peakConcurrency,
      f.reserved ?? 'none',
      f.throttles,
      f.name === r.ranking.culprit
        ? 'noisy neighbour'
        : r.ranking.victims.includes(f.name)
          ? 'throttled'
          : '',
    ]);
  if (rows.length > 0) {
    out.push('', ...table([['function', 'share', 'peak', 'reserved', 'throttles', ''], ...rows]).split('\n'));
    const hidden = r.ranking.functions.length - rows.length;
    if (hidden > 0) out.push(`  (${hidden} more function(s) idle or not shown)`);
  }
  out.push('', r.ranking.sentence);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return `${out.map(safeForTerminal).join('\n')}\n`;
}

export const command: Command = {
  name: 'metrics',
  summary: 'read Lambda/ALB CloudWatch metrics; name the noisy neighbour',
  usage,
  async run(argv, ctx) {
    const { values } = withUsage('metrics', () =>
      parseArgs({
        args: argv,
        options: {
          since: { type: 'string' },
          until: { type: 'string' },
          period: { type: 'string' },
          region: { type: 'string' },
          profile: { type: 'string' },
          'endpoint-url': { type: 'string' },
          json: { type: 'boolean', default: false },
        },
      }),
    );
    const now = Date.now();
    const startMs = parseTimeBound(values.since ?? '-3h', '--since', now);
    const endMs = values.until === undefined ? now : parseTimeBound(values.until, '--until', now);
    if (endMs <= startMs) {
      throw new UsageError(
        `metrics: --until (${new Date(endMs).toISOString()}) must be after --since (${new Date(startMs).toISOString()})`,
      );
    }
    const periodSec = parsePeriod(values.period);
    const report = await collectMetricsWithConnection({
      startMs,
      endMs,
      periodSec,
      region: values.region,
      profile: values.profile,
      endpointUrl: values['endpoint-url'],
      env: ctx.env,
      signal: ctx.signal,
      nowMs: now,
    });
    ctx.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderMetrics(report));
    return ExitCode.ok;
  },
};
