/**
 * What diagnose reasons over, gathered by the I/O layer (logs engine, CloudWatch, a recorded probe
 * run) into plain data. The rules (rules.ts) are pure functions of this, so each one is tested
 * from constructed evidence and from lab runs alike. Any part may be missing: the rules say what
 * they could not check.
 */
import type { LogSummary } from '../logs/aggregate.js';
import type { CloudFrontSummary } from '../logs/cloudfront/summary.js';
import type { TimeSeries } from '../metrics/series.js';
import type { CloudFrontEvidence } from './cloudfront.js';

export type { TimeSeries } from '../metrics/series.js';

/** The shape `metrics` produces (src/metrics), as far as diagnose reads it. */
export interface MetricsEvidence {
  window: { startMs: number; endMs: number; periodSec: number };
  account: { limit: number; unreservedLimit?: number | undefined };
  functions: {
    name: string;
    reserved?: number | null | undefined;
    timeoutSec?: number | undefined;
    series: {
      concurrentExecutions: TimeSeries;
      throttles: TimeSeries;
      invocations: TimeSeries;
      errors: TimeSeries;
      durationAvg?: TimeSeries | undefined;
      durationMax?: TimeSeries | undefined;
    };
  }[];
  accountSeries: {
    concurrentExecutions: TimeSeries;
    unreservedConcurrentExecutions?: TimeSeries | undefined;
    throttles?: TimeSeries | undefined;
  };
  /** ALB series: their 502 and LambdaUserError periods are throttled periods to the ranking. */
  alb?: { series: { elb502: TimeSeries; lambdaUserError: TimeSeries } }[] | undefined;
  warnings?: string[] | undefined;
}

/** A failed ALB entry, kept by trace root so probe failures can be found in the logs. */
export interface LoggedFailure {
  timeMs: number;
  elbStatusCode: number | null;
  errorReason: string | null;
  targetGroup: string;
  path: string | null;
}

export interface LogEvidence {
  summary: LogSummary;
  /** CloudFront standard logs among the sources (`--logs` takes both kinds). */
  cloudfront?: CloudFrontSummary | undefined;
  /** ALB 5xx per minute of requests that came through CloudFront (user agent `Amazon CloudFront`). */
  alb5xxViaCloudFront?: Map<number, number> | undefined;
  /** Trace `Root=` value → the entry, for 4xx/5xx entries. */
  failuresByTraceRoot: Map<string, LoggedFailure>;
  sources: string[];
}

export interface ProbeFailure {
  seq: number;
  url: string;
  timeMs: number;
  status: number | null;
  errorClass: string | null;
  origin: string | null;
  traceRoot: string | null;
}

export interface ProbeEvidence {
  dir: string;
  total: number;
  failed: number;
  /** Per URL: totals and failure episodes (maximal failure streaks). */
  urls: {
    url: string;
    total: number;
    failed: number;
    episodes: { startMs: number; endMs: number; failures: number }[];
  }[];
  failures: ProbeFailure[];
  /** Requests over time for charts: [timeMs, ok] per request (sampled when long). */
  timeline: { url: string; timeMs: number; ok: boolean }[];
  runsTest?: { z: number; p: number; clustered: boolean } | undefined;
}

export interface Evidence {
  window: { startMs: number; endMs: number };
  logs?: LogEvidence | undefined;
  metrics?: MetricsEvidence | undefined;
  probe?: ProbeEvidence | undefined;
  /**
   * The Lambda functions behind the target groups the logs name (ELBv2), by
   * `targetgroup/<name>/<id>`: the ALB logs say which group was throttled, not which function.
   * Groups that could not be mapped are absent (the reason is among the gaps).
   */
  targetGroupFunctions?: ReadonlyMap<string, readonly string[]> | undefined;
  /** The viewer side when CloudFront is in front: its logs, metrics and configuration. */
  cloudfront?: CloudFrontEvidence | undefined;
  /** What could not be gathered, as statements for the user (no credentials, empty window, ...). */
  gaps: string[];
}
