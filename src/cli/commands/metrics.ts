import { parseArgs } from 'node:util';
import { ExitCode, UsageError } from '../../common/errors.js';
import { parseTimeBound } from '../../common/time.js';
import { collectMetrics, type MetricsReport } from '../../metrics/collect.js';
import type { Command } from '../context.js';
import { numberFlag, withUsage } from '../flags.js';
import { table } from '../render/table.js';

const usage = `Usage: throttlescope metrics [options]

Read Lambda and ALB CloudWatch metrics for a window and name the noisy neighbour: the function
without reserved concurrency that held the account's shared pool while others were throttled.

Options:
  --since T            window start (ISO-8601 UTC, epoch seconds, or -3h; default -3h)
  --until T            window end (default now)
  --period S           seconds per datapoint (default 60)
  --region R --profile P --endpoint-url URL
  --json               print the report as JSON (docs/metrics.md)

Exit: 0 read, 2 usage, 4 AWS refused or unreachable.
`;

function render(r: MetricsReport): string {
  const out: string[] = [];
  const peak = Math.max(0, ...r.accountSeries.concurrentExecutions.values);
  out.push(
    `Lambda in ${r.region}: account limit ${r.account.limit}, peak ConcurrentExecutions ${peak} (${((100 * peak) / r.account.limit).toFixed(0)}%), ${r.functions.length} functions`,
  );
  out.push(
    `Throttled periods: ${r.ranking.throttledPeriodsMs.length} (pool full in ${r.ranking.poolFullPeriods})`,
  );
  const rows = r.ranking.functions
    .filter((f) => f.share > 0 || f.throttles > 0 || f.peakConcurrency > 0)
    .slice(0, 15)
    .map((f) => [
      f.name,
      `${(f.share * 100).toFixed(0)}%`,
      f.peakConcurrency,
      f.reserved ?? 'none',
      f.throttles,
    ]);
  if (rows.length > 0) {
    out.push('', table([['function', 'share', 'peak', 'reserved', 'throttles'], ...rows]));
  }
  const alb = r.alb.filter(
    (a) => a.series.elb502.values.some((v) => v > 0) || a.series.lambdaUserError.values.some((v) => v > 0),
  );
  for (const a of alb) {
    const s = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    out.push(
      `ALB ${a.loadBalancer}${a.targetGroup ? ` ${a.targetGroup}` : ''}: ${s(a.series.elb502.values)} ELB 502, ${s(a.series.lambdaUserError.values)} LambdaUserError, ${s(a.series.requests.values)} requests`,
    );
  }
  out.push('', r.ranking.sentence);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
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
    const endMs = values.until ? parseTimeBound(values.until, '--until', now) : now;
    if (endMs <= startMs) throw new UsageError('metrics: --until must be after --since');
    const periodSec = numberFlag('metrics', 'period', values.period, { min: 1, integer: true }) ?? 60;
    const report = await collectMetrics({
      startMs,
      endMs,
      periodSec,
      region: values.region,
      profile: values.profile,
      endpointUrl: values['endpoint-url'] ?? ctx.env.AWS_ENDPOINT_URL,
      signal: ctx.signal,
    });
    ctx.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
    return ExitCode.ok;
  },
};
