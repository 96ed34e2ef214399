/**
 * Text for people: the live view, the plain progress line and the final summary. Returns strings;
 * never writes. Every string that came from the network or the user (URLs) passes through
 * safeForTerminal.
 */
import { safeForTerminal } from '../common/terminal.js';
import type { ProbeProgress, RunInfo, UrlProgress } from './runner.js';
import type { Percentiles, ProbeSummary, StreamSummaryJson } from './summary.js';

function ms(v: number | null): string {
  if (v === null) return '-';
  return v < 10 ? `${v.toFixed(2)}ms` : v < 1000 ? `${v.toFixed(1)}ms` : `${(v / 1000).toFixed(2)}s`;
}

function pct(x: number | null): string {
  if (x === null) return '-';
  return `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 2)}%`;
}

function counts(m: Record<string, number>): string {
  const parts = Object.entries(m)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}:${n}`);
  return parts.length ? parts.join(' ') : '-';
}

function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(1)}s`;
}

/** One line per URL, for the live view and the plain interval line. */
export function progressLine(p: UrlProgress, elapsedMs: number, width?: number): string {
  const rate = p.total === 0 ? null : p.succeeded / p.total;
  const parts = [
    `[${seconds(elapsedMs).padStart(7)}]`,
    safeForTerminal(p.url),
    `${p.rate.toFixed(1)}/s`,
    `n=${p.total}`,
    `ok=${pct(rate)}`,
    `status ${counts(p.byStatus)}`,
  ];
  const errors = counts(p.byError);
  if (errors !== '-') parts.push(`errors ${errors}`);
  parts.push(`p50=${ms(p.p50)} p99=${ms(p.p99)}`);
  parts.push(`streak=${p.currentStreak}`);
  if (p.dropped > 0) parts.push(`dropped=${p.dropped}`);
  const line = parts.join('  ');
  return width && width > 20 && line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line;
}

export function progressLines(p: ProbeProgress, width?: number): string[] {
  return p.urls.map((u) => progressLine(u, p.elapsedMs, width));
}

function percentileLine(label: string, p: Percentiles): string {
  return `${label} p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  max ${ms(p.max)}`;
}

const MAX_EPISODES_SHOWN = 10;

function streamBlock(s: StreamSummaryJson, indent: string): string[] {
  const lines: string[] = [];
  const ci = s.successRateCI;
  lines.push(
    `${indent}requests ${s.total}  ok ${s.succeeded}  failed ${s.failed}  success ${pct(s.successRate)}${ci ? ` (95% CI ${pct(ci.low)}–${pct(ci.high)})` : ''}`,
  );
  lines.push(`${indent}status   ${counts(s.byStatus)}`);
  lines.push(`${indent}errors   ${counts(s.byError)}`);
  lines.push(`${indent}origin   ${counts(s.byOrigin)}`);
  if (s.byCloudFront && Object.values(s.byCloudFront).some((n) => n > 0)) {
    lines.push(`${indent}cloudfront ${counts(s.byCloudFront)}  cached errors ${s.cachedErrors}`);
  }
  lines.push(percentileLine(`${indent}latency  ok  `, s.latencyMs));
  if (s.failed > 0) lines.push(percentileLine(`${indent}latency  fail`, s.failureLatencyMs));
  lines.push(percentileLine(`${indent}service  ok  `, s.serviceMs));
  const episodeCount = s.episodes.length + s.episodesOmitted;
  if (episodeCount > 0) {
    lines.push(`${indent}episodes ${episodeCount}, longest ${s.longestStreak} in a row`);
    for (const e of s.episodes.slice(0, MAX_EPISODES_SHOWN)) {
      const seqs = e.firstSeq === e.lastSeq ? `#${e.firstSeq}` : `#${e.firstSeq}–#${e.lastSeq}`;
      lines.push(
        `${indent}  ${seqs.padEnd(16)} ${String(e.failures).padStart(6)} failed  ${e.start} → ${e.end}`,
      );
    }
    if (episodeCount > MAX_EPISODES_SHOWN) {
      lines.push(`${indent}  … ${episodeCount - MAX_EPISODES_SHOWN} more (--json, or summary.json in --out)`);
    }
  }
  const rt = s.runsTest;
  if (s.failed > 0 && s.succeeded > 0) {
    const verdict = rt.clustered
      ? 'failures cluster in streaks'
      : rt.z > 0 && rt.p < 0.05
        ? 'failures alternate'
        : 'no sign of streaks';
    lines.push(
      `${indent}runs     z ${rt.z.toFixed(2)}  p ${rt.p < 0.001 ? '< 0.001' : rt.p.toFixed(3)}: ${verdict}`,
    );
  }
  return lines;
}

/** The final summary as text. */
export function renderSummary(summary: ProbeSummary, run: RunInfo | undefined, extra: string[] = []): string {
  const lines: string[] = [];
  const head = run
    ? `probe summary: ${run.urls.length} URL(s), ${run.model.kind === 'open' ? `open model ${run.model.rate}/s per URL (${run.model.arrivals})` : `closed loop, ${run.model.concurrency} per URL`}${run.stoppedBy ? `, stopped by ${run.stoppedBy}` : ''}${run.elapsedMs !== null ? ` after ${seconds(run.elapsedMs)}` : ''}`
    : 'probe summary';
  lines.push(head);
  if (run && run.dropped > 0) {
    lines.push(
      `  WARNING: ${run.dropped} scheduled send(s) dropped: too many requests in flight (raise --max-in-flight)`,
    );
  }
  if (run?.sendLagP99Ms !== null && run?.sendLagP99Ms !== undefined) {
    lines.push(`  send lag p99 ${ms(run.sendLagP99Ms)} (how late sends left versus the schedule)`);
  }
  lines.push(...streamBlock(summary, '  '));
  if (summary.urls.length > 1) {
    for (const u of summary.urls) {
      lines.push(`  ${safeForTerminal(u.url)}`);
      lines.push(...streamBlock(u, '    '));
    }
  }
  if (summary.findings.length > 0) {
    lines.push('findings');
    for (const f of summary.findings) lines.push(`  - ${safeForTerminal(f)}`);
  }
  lines.push(...extra);
  return `${lines.join('\n')}\n`;
}

/** The --json document: the summary's keys, then `run`. */
export function jsonDocument(summary: ProbeSummary, run: RunInfo): string {
  return `${JSON.stringify({ ...summary, run }, null, 2)}\n`;
}
