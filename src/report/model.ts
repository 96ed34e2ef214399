/**
 * The data behind `diagnose --html FILE`. The diagnose engine builds it; the
 * renderer (`renderHtmlReport`) only displays it. Everything here must be
 * JSON-serialisable: the model is embedded verbatim in the page for the charts.
 *
 * Every string may come from a log (function names, URLs, user agents,
 * error reasons) and is treated as attacker-controlled by the renderer.
 * Times are epoch milliseconds (UTC).
 */

export interface TimeWindow {
  startMs: number;
  endMs: number;
}

export interface ReportRootCause {
  /** Stable root-cause code (docs/diagnose.md), e.g. `account-concurrency-exhausted`. */
  code: string;
  /** One sentence a person reads first. */
  headline: string;
  /** 0..1. */
  confidence: number;
  /** The function that holds the pool (the noisy neighbour), when there is one. */
  culprit?: string | undefined;
  /** Functions (or endpoints) that suffered for it. */
  victims: string[];
}

export interface ReportEvidenceLine {
  text: string;
  timeMs?: number | undefined;
}

export interface ReportFinding {
  code: string;
  title: string;
  /** 0..1. */
  confidence: number;
  evidence: ReportEvidenceLine[];
  /** A configuration fix, as infrastructure-as-code snippets (CloudFront findings). */
  fix?: { summary: string; cloudformation: string; terraform: string } | undefined;
}

/** 5xx per minute, stacked by ALB `error_reason`. */
export interface ErrorsByReasonChart {
  /** Start of each minute bucket. */
  minutesMs: number[];
  /** One series per error_reason; `counts[i]` belongs to `minutesMs[i]`. */
  series: { reason: string; counts: number[] }[];
}

/** Concurrent executions per function, stacked, against the account limit. */
export interface ConcurrencyChart {
  timesMs: number[];
  accountLimit: number;
  /** `values[i]` belongs to `timesMs[i]` (CloudWatch ConcurrentExecutions, Maximum). */
  series: { function: string; values: number[] }[];
}

export interface ProbeEpisode {
  startMs: number;
  endMs: number;
  /** Failed requests in the streak. */
  failures: number;
}

export interface ProbeUrlSeries {
  url: string;
  /** Start of each bucket. */
  timesMs: number[];
  /** Share of successful requests per bucket, 0..1 (`null` for a bucket with no requests). */
  successRate: (number | null)[];
  /** Failure streaks, drawn as shaded boxes. */
  episodes: ProbeEpisode[];
}

export interface ProbeChart {
  urls: ProbeUrlSeries[];
}

/** CloudFront in front: 5xx viewers got against 5xx the ALB answered, per minute. */
export interface EdgeErrorsChart {
  minutesMs: number[];
  viewer5xx: number[];
  alb5xx: number[];
  /** Viewer 5xx beyond the ALB's that minute: replays of a cached error. */
  replayed: number[];
}

export interface ReportCharts {
  errorsByReason: ErrorsByReasonChart;
  concurrency: ConcurrencyChart;
  probe?: ProbeChart | undefined;
  edge?: EdgeErrorsChart | undefined;
}

export interface ReportEvidenceStep {
  step: string;
  detail: string;
}

export interface ReportRecommendation {
  function: string;
  reservedConcurrency: number;
  /** The equivalent CLI command, e.g. `aws lambda put-function-concurrency ...`. */
  command: string;
  reasoning: string;
}

export interface ReportVerification {
  /** Failure rates 0..1 and sample sizes. */
  before: { rate: number; n: number };
  after: { rate: number; n: number };
  pValue: number;
  verdict: 'improved' | 'no-change' | 'worse';
}

export interface ReportModel {
  title: string;
  /** ISO-8601 timestamp of when the report was made. */
  generatedAt: string;
  window: TimeWindow;
  rootCause: ReportRootCause;
  findings: ReportFinding[];
  charts: ReportCharts;
  /** From symptom to cause, in order. */
  evidenceChain: ReportEvidenceStep[];
  recommendation?: ReportRecommendation | undefined;
  verification?: ReportVerification | undefined;
  /** What evidence was missing (no permissions, no logs in the window, ...). */
  gaps?: string[] | undefined;
}
