/** Terminal renderings of the planner's answers; they return strings (the CLI prints). */
import { safeForTerminal } from '../common/terminal.js';
import { table } from '../common/text-table.js';
import type { RecommendationDocument, SimulationDocument } from './documents.js';
import type { ErlangAnswer } from './erlang.js';

export const pct = (p: number): string => {
  if (p === 0) return '0%';
  const v = p * 100;
  return `${v >= 10 ? v.toFixed(1) : Number(v.toPrecision(2))}%`;
};
const fmtLoad = (a: number): string => Number(a.toPrecision(4)).toString();

/** One line: the blocking at a concurrency, or the concurrency that meets the target. */
export function renderErlang(
  r: ErlangAnswer,
  q: { concurrency?: number | undefined; target?: number | undefined; rate?: number; durationMs?: number },
): string {
  const via = q.rate !== undefined ? ` (${q.rate}/s x ${q.durationMs} ms)` : '';
  return r.concurrency === undefined
    ? `${fmtLoad(r.load)} erlangs${via} on ${q.concurrency} concurrency: ${pct(r.blocking)} of requests throttled (Erlang B ${r.blocking.toPrecision(4)})\n`
    : `${fmtLoad(r.load)} erlangs${via}: ${r.concurrency} concurrency keeps throttling at ${pct(r.blocking)} (Erlang B ${r.blocking.toPrecision(4)}, target ${pct(q.target ?? 0.001)})\n`;
}

export function renderSimulation(r: SimulationDocument): string {
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

export function renderRecommendation(r: RecommendationDocument): string {
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
