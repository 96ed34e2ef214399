import { UsageError } from '../common/errors.js';
import { minuteStart } from '../common/time.js';
import { traceRootOf } from '../common/trace-id.js';
import { targetGroupDimension } from '../logs/aggregate.js';
import { analyseAlbLogs } from '../logs/analyse.js';
import { AthenaQueryRunner } from '../logs/athena/client.js';
import {
  analyseOnAthena,
  failedTracesOnAthena,
  isAthenaSource,
  parseAthenaSource,
} from '../logs/athena/summary.js';
import { requestLineParts } from '../logs/record.js';
import type { AwsOptions, ReadProgress } from '../logs/sources.js';
import { CLOUDFRONT_ORIGIN_USER_AGENT } from './cloudfront.js';
import type { LogEvidence, LoggedFailure } from './evidence.js';

/** Probe failures looked up in one Athena query, at most (the query text stays far below Athena's 256 KB). */
const MAX_ATHENA_TRACE_LOOKUP = 2_000;

/**
 * `--logs athena://db.table`: per-minute reasons and target groups from the Athena summary, and
 * the probe's failed trace ids looked up in one bounded query.
 */
async function gatherFromAthena(
  spec: string,
  window: { startMs?: number | undefined; endMs?: number | undefined },
  aws: AwsOptions,
  signal: AbortSignal | undefined,
  traceRoots: readonly string[],
): Promise<{ evidence: LogEvidence; problems: string[] }> {
  const source = parseAthenaSource(spec);
  const runner = await AthenaQueryRunner.create({ aws, settings: source.settings, signal });
  try {
    const sinceMs = window.startMs;
    const untilMs = window.endMs;
    const analysis = await analyseOnAthena(runner, source, { sinceMs, untilMs, aws, signal });
    const roots = [...new Set(traceRoots)];
    const failuresByTraceRoot: Map<string, LoggedFailure> = await failedTracesOnAthena(
      runner,
      source,
      { sinceMs, untilMs },
      roots.slice(0, MAX_ATHENA_TRACE_LOOKUP),
    );
    const problems: string[] = [];
    if (roots.length > MAX_ATHENA_TRACE_LOOKUP)
      problems.push(
        `looked up the first ${MAX_ATHENA_TRACE_LOOKUP} of ${roots.length} failed probe trace ids in Athena`,
      );
    if (analysis.summary.malformed > 0)
      problems.push(`${analysis.summary.malformed} log lines did not match the Athena table's regex`);
    if (analysis.summary.requests === 0)
      problems.push(
        `no ALB log entries in the window from ${spec} (${analysis.summary.files} objects read by Athena)`,
      );
    return { evidence: { summary: analysis.summary, failuresByTraceRoot, sources: [spec] }, problems };
  } finally {
    runner.close();
  }
}

/**
 * Reads ALB logs for diagnose: the summary, plus every failed entry by trace root so probe
 * failures can be looked up (memory grows with failures, not with traffic).
 */
export async function gatherLogEvidence(
  sources: string[],
  window: { startMs?: number | undefined; endMs?: number | undefined },
  aws: AwsOptions,
  signal?: AbortSignal,
  onProgress?: (p: ReadProgress) => void,
  /** The probe's failed trace roots: what an Athena source looks up (local sources keep every failure). */
  traceRoots: readonly string[] = [],
): Promise<{ evidence: LogEvidence; problems: string[] }> {
  if (sources.some(isAthenaSource)) {
    if (sources.length !== 1)
      throw new UsageError(
        `an athena:// log source cannot be combined with other sources (${sources.join(', ')})`,
      );
    return gatherFromAthena(sources[0] as string, window, aws, signal, traceRoots);
  }
  const failuresByTraceRoot = new Map<string, LoggedFailure>();
  const alb5xxViaCloudFront = new Map<number, number>();
  const analysis = await analyseAlbLogs(sources, {
    sinceMs: window.startMs,
    untilMs: window.endMs,
    aws,
    signal,
    onProgress,
    // Only failed entries are looked up; the others are counted from their scanned fields.
    recordsFor: (f) => f.elbStatusCode !== null && f.elbStatusCode >= 400,
    onRecord(r) {
      if (r.elbStatusCode === null || r.elbStatusCode < 400) return;
      if (r.elbStatusCode >= 500 && r.userAgent === CLOUDFRONT_ORIGIN_USER_AGENT) {
        const minute = minuteStart(r.timeMs);
        alb5xxViaCloudFront.set(minute, (alb5xxViaCloudFront.get(minute) ?? 0) + 1);
      }
      const root = traceRootOf(r.traceId ?? undefined);
      if (!root) return;
      failuresByTraceRoot.set(root, {
        timeMs: r.timeMs,
        elbStatusCode: r.elbStatusCode,
        errorReason: r.errorReason,
        targetGroup: targetGroupDimension(r.targetGroupArn),
        path: requestLineParts(r.request).path,
      });
    },
  });
  const problems = analysis.errors.map((e) => e.message);
  if (analysis.summary.malformed > 0)
    problems.push(`${analysis.summary.malformed} malformed log lines skipped`);
  const cloudfront = analysis.cloudfront;
  if (cloudfront && cloudfront.malformed > 0)
    problems.push(`${cloudfront.malformed} malformed CloudFront log lines skipped`);
  if (cloudfront && cloudfront.requests === 0)
    problems.push(`no CloudFront log entries in the window (${cloudfront.files} files read)`);
  if (analysis.summary.requests === 0 && !(cloudfront && analysis.summary.files === 0)) {
    problems.push(
      `no ALB log entries in the window from ${sources.join(', ')} (${analysis.summary.files} files read)`,
    );
  }
  return {
    evidence: { summary: analysis.summary, cloudfront, alb5xxViaCloudFront, failuresByTraceRoot, sources },
    problems,
  };
}
