/** Terminal rendering of a log analysis; returns a string (the CLI prints). */
import { pct, stackedBars, table } from '../common/text-table.js';
import type { LogSummary } from './aggregate.js';
import type { LogAnalysis } from './analyse.js';
import { explainErrorReason } from './error-reasons.js';

/** The terminal summary of an analysis (`top` failing paths). */
export function renderLogAnalysis(a: LogAnalysis, top: number): string {
  const s: LogSummary = a.summary;
  const out: string[] = [];
  const range = s.firstTime ? `${s.firstTime} .. ${s.lastTime}` : 'no entries';
  out.push(`ALB access logs: ${s.files} file(s), ${s.lines.toLocaleString('en-US')} entries, ${range}`);
  if (s.requests !== s.lines) out.push(`  ${s.requests.toLocaleString('en-US')} entries match the filters`);
  const failed5xx = Object.entries(s.byElbStatus)
    .filter(([k]) => k.startsWith('5'))
    .reduce((n, [, v]) => n + v, 0);
  out.push(
    `  5xx from the load balancer: ${failed5xx.toLocaleString('en-US')} (${pct(failed5xx, s.requests)})`,
  );
  out.push('', 'By elb_status_code:');
  out.push(
    table(
      Object.entries(s.byElbStatus)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => [k, v, pct(v, s.requests)]),
    ),
  );
  const reasons = Object.entries(s.byErrorReason).sort((x, y) => y[1] - x[1]);
  if (reasons.length > 0) {
    out.push('', 'By error_reason:');
    out.push(table(reasons.map(([k, v]) => [k, v, pct(v, s.requests), explainErrorReason(k)])));
  }
  const tgs = Object.entries(s.byTargetGroup);
  if (tgs.length > 0) {
    out.push('', 'By target group:');
    out.push(
      table(
        tgs.map(([tg, v]) => [
          tg,
          v.requests,
          Object.entries(v.byErrorReason)
            .sort((x, y) => y[1] - x[1])
            .map(([r, n]) => `${r} ${n} (${pct(n, v.requests)})`)
            .join(', ') || 'no errors',
        ]),
      ),
    );
  }
  if (s.topFailingPaths.length > 0) {
    out.push('', `Top failing paths (5xx, top ${top}):`);
    out.push(
      table(
        s.topFailingPaths.map((p) => [
          p.path,
          p.failures,
          Object.entries(p.byErrorReason)
            .sort((x, y) => y[1] - x[1])
            .map(([r, n]) => `${r} ${n}`)
            .join(', '),
        ]),
      ),
    );
  }
  const errorMinutes = s.series.map((m) => ({
    label: m.minute.slice(0, 16).replace('T', ' '),
    counts: m.fiveXx,
  }));
  if (errorMinutes.some((m) => Object.keys(m.counts).length > 0)) {
    out.push('', '5xx per minute by reason (UTC):');
    out.push(stackedBars(errorMinutes));
  }
  return `${out.join('\n')}\n`;
}
