import { traceRootOf } from '../common/trace-id.js';
import { targetGroupDimension } from '../logs/aggregate.js';
import { analyseAlbLogs } from '../logs/analyse.js';
import { requestLineParts } from '../logs/record.js';
import type { AwsOptions, ReadProgress } from '../logs/sources.js';
import type { LogEvidence, LoggedFailure } from './evidence.js';

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
): Promise<{ evidence: LogEvidence; problems: string[] }> {
  const failuresByTraceRoot = new Map<string, LoggedFailure>();
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
  if (analysis.summary.requests === 0) {
    problems.push(
      `no ALB log entries in the window from ${sources.join(', ')} (${analysis.summary.files} files read)`,
    );
  }
  return { evidence: { summary: analysis.summary, failuresByTraceRoot, sources }, problems };
}
