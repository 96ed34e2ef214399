import type { ReportModel, ReportRecommendation, ReportVerification } from '../report/model.js';
import { cloudFrontFindings, edgeMinutes } from './cloudfront.js';
import type { Evidence } from './evidence.js';
import type { Diagnosis } from './rules.js';

/** Probe buckets for the success chart: about 120 points whatever the run's length. */
function probeBuckets(e: Evidence): NonNullable<ReportModel['charts']['probe']> | undefined {
  const probe = e.probe;
  if (!probe || probe.timeline.length === 0) return undefined;
  const start = Math.min(...probe.timeline.map((t) => t.timeMs));
  const end = Math.max(...probe.timeline.map((t) => t.timeMs));
  const width = Math.max(1000, Math.ceil((end - start + 1) / 120 / 1000) * 1000);
  return {
    urls: probe.urls.map((u) => {
      const n = Math.floor((end - start) / width) + 1;
      const ok = new Array<number>(n).fill(0);
      const all = new Array<number>(n).fill(0);
      for (const t of probe.timeline) {
        if (t.url !== u.url) continue;
        const i = Math.floor((t.timeMs - start) / width);
        all[i] = (all[i] ?? 0) + 1;
        if (t.ok) ok[i] = (ok[i] ?? 0) + 1;
      }
      return {
        url: u.url,
        timesMs: all.map((_, i) => start + i * width),
        successRate: all.map((a, i) => (a === 0 ? null : (ok[i] ?? 0) / a)),
        episodes: u.episodes,
      };
    }),
  };
}

export function buildReportModel(
  e: Evidence,
  d: Diagnosis,
  extra: {
    recommendation?: ReportRecommendation | undefined;
    verification?: ReportVerification | undefined;
    now?: number;
  } = {},
): ReportModel {
  const series = e.logs?.summary.series ?? [];
  const reasons = new Set<string>();
  for (const m of series) for (const r of Object.keys(m.fiveXx)) reasons.add(r);
  const errorMinutes = series.filter((m) => Object.keys(m.fiveXx).length > 0 || m.requests > 0);
  const metrics = e.metrics;
  const times = metrics?.accountSeries.concurrentExecutions.timestampsMs ?? [];
  return {
    title: `throttlescope diagnosis: ${d.rootCause}`,
    generatedAt: new Date(extra.now ?? Date.now()).toISOString(),
    window: e.window,
    rootCause: {
      code: d.rootCause,
      headline: d.headline,
      confidence: d.confidence,
      culprit: d.culprit ?? undefined,
      victims: d.victims,
    },
    findings: [
      ...d.findings.map((f) => ({
        code: f.code,
        title: f.title,
        confidence: f.confidence,
        evidence: f.evidence,
      })),
      ...cloudFrontFindings(e.cloudfront, albSummary(e)),
    ],
    charts: {
      errorsByReason: {
        minutesMs: errorMinutes.map((m) => Date.parse(m.minute)),
        series: [...reasons]
          .sort()
          .map((reason) => ({ reason, counts: errorMinutes.map((m) => m.fiveXx[reason] ?? 0) })),
      },
      concurrency: {
        timesMs: times,
        accountLimit: metrics?.account.limit ?? 0,
        series: (metrics?.functions ?? []).map((f) => ({
          function: f.name,
          values: times.map((t) => {
            const i = f.series.concurrentExecutions.timestampsMs.indexOf(t);
            return i < 0 ? 0 : (f.series.concurrentExecutions.values[i] ?? 0);
          }),
        })),
      },
      probe: probeBuckets(e),
      edge: edgeChart(e),
    },
    evidenceChain: d.evidenceChain,
    recommendation: extra.recommendation,
    verification: extra.verification,
    gaps: d.gaps,
  };
}

/** The ALB summary, when ALB logs (not only CloudFront logs) were read. */
const albSummary = (e: Evidence) => (e.logs && e.logs.summary.files > 0 ? e.logs.summary : undefined);

/** Viewer-side and ALB-side 5xx per minute, when CloudFront evidence was given. */
function edgeChart(e: Evidence): NonNullable<ReportModel['charts']['edge']> | undefined {
  if (!e.cloudfront) return undefined;
  const minutes = edgeMinutes(e.cloudfront, albSummary(e));
  return {
    minutesMs: minutes.map((m) => m.minuteMs),
    viewer5xx: minutes.map((m) => m.viewer5xx),
    alb5xx: minutes.map((m) => m.alb5xx),
    replayed: minutes.map((m) => m.replayed),
  };
}
