/** Terminal rendering of a metrics report; returns a string (the CLI prints). */
import { safeForTerminal } from '../common/terminal.js';
import { table } from '../common/text-table.js';
import type { MetricsReport } from './collect.js';
import { seriesMax, seriesSum } from './series.js';

const MAX_ROWS = 15;

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
