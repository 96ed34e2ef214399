/** Terminal rendering of a log analysis; returns a string (the CLI prints). */
import { safeForTerminal } from '../common/terminal.js';
import { pct, stackedBars, table } from '../common/text-table.js';
import type { LogSummary } from './aggregate.js';
import type { LogAnalysis } from './analyse.js';
import type { CloudFrontSummary } from './cloudfront/summary.js';
import { explainErrorReason } from './error-reasons.js';

/**
 * The terminal summary of an analysis (`top` failing paths): the ALB logs, then the CloudFront
 * logs when any were read (alone when only CloudFront logs were read).
 */
export function renderLogAnalysis(a: LogAnalysis, top: number): string {
  const cloudfront = a.cloudfront ? renderCloudFrontSummary(a.cloudfront) : '';
  if (a.cloudfront && a.summary.files === 0) return cloudfront;
  return `${renderAlbSummary(a, top)}${cloudfront ? `\n${cloudfront}` : ''}`;
}

/** The terminal summary of CloudFront standard logs. */
export function renderCloudFrontSummary(s: CloudFrontSummary): string {
  const out: string[] = [];
  const range = s.firstTime ? `${s.firstTime} .. ${s.lastTime}` : 'no entries';
  out.push(
    `CloudFront standard logs: ${s.files} file(s), ${s.lines.toLocaleString('en-US')} entries, ${range}`,
  );
  if (s.requests !== s.lines) out.push(`  ${s.requests.toLocaleString('en-US')} entries match the filters`);
  const viewer5xx = Object.entries(s.byStatus)
    .filter(([k]) => k.startsWith('5'))
    .reduce((n, [, v]) => n + v, 0);
  out.push(`  5xx sent to viewers: ${viewer5xx.toLocaleString('en-US')} (${pct(viewer5xx, s.requests)})`);
  const section = (title: string, counts: Record<string, number>, limit = 20) => {
    // Status keys enumerate in numeric order whatever the document's order: most first here.
    const rows = Object.entries(counts)
      .sort((x, y) => y[1] - x[1])
      .slice(0, limit);
    if (rows.length === 0) return;
    out.push('', title);
    out.push(table(rows.map(([k, v]) => [safeForTerminal(k), v, pct(v, s.requests)])));
  };
  section('By sc-status:', s.byStatus);
  section('By x-edge-result-type:', s.byResultType);
  section('By x-edge-detailed-result-type:', s.byDetailedResultType);
  section('By edge location (top 10):', s.byEdgeLocation, 10);
  const minutes = s.series.map((m) => ({
    label: m.minute.slice(0, 16).replace('T', ' '),
    counts: Object.fromEntries(Object.entries(m.fiveXx).map(([k, v]) => [safeForTerminal(k), v])),
  }));
  if (minutes.some((m) => Object.keys(m.counts).length > 0)) {
    out.push('', 'Viewer 5xx per minute by x-edge-detailed-result-type (UTC):');
    out.push(stackedBars(minutes));
  }
  return `${out.join('\n')}\n`;
}

function renderAlbSummary(a: LogAnalysis, top: number): string {
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
