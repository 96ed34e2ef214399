import { type AwsConnection, credentialSourcesPresent } from '../common/aws.js';
import { isThrottlescopeError } from '../common/errors.js';
import type { ReadProgress } from '../logs/sources.js';
import { collectMetrics, type MetricsProgress, type MetricsReport } from '../metrics/collect.js';
import { mapTargetGroupsWithConnection } from '../metrics/target-groups.js';
import {
  type CloudFrontEvidence,
  type CloudFrontFinding,
  cloudFrontFindings,
  cloudFrontGaps,
  withViewerFailures,
} from './cloudfront.js';
import type { Evidence, MetricsEvidence, ProbeEvidence } from './evidence.js';
import { readCloudFrontMetrics, readDistributionConfig } from './gather-cloudfront.js';
import { gatherLogEvidence } from './gather-logs.js';
import { gatherProbeEvidence } from './gather-probe.js';
import { type Diagnosis, diagnose } from './rules.js';

export interface DiagnoseOptions extends AwsConnection {
  /** ALB log sources, as `logs` takes them (files, dirs, -, s3://). */
  logs?: string[] | undefined;
  /** A recorded probe run (`probe --out DIR`). */
  probeDir?: string | undefined;
  /** A CloudFront distribution in front of the ALB: its config and AWS/CloudFront metrics are read. */
  distribution?: string | undefined;
  /** true/false forces CloudWatch on/off; undefined = on when credentials or an endpoint are present. */
  cloudwatch?: boolean | undefined;
  /**
   * Whether to ask ELBv2 which functions stand behind the throttled target groups in the logs:
   * true/false forces it; undefined = on when credentials or an endpoint are present, as for
   * CloudWatch (and independent of it: without metrics the mapping is what names the victims).
   */
  targetGroups?: boolean | undefined;
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
  periodSec?: number | undefined;
  signal?: AbortSignal | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  now?: number | undefined;
  /** Reads so far: S3/file objects and bytes of the logs, then CloudWatch GetMetricData calls. */
  onProgress?: ((p: DiagnoseProgress) => void) | undefined;
  /**
   * Maps the probe's wall-clock times onto the time line of the logs and metrics, when they
   * differ (the lab compresses time); trace ids join regardless.
   */
  probeTimeMap?: ((wallMs: number) => number) | undefined;
}

export type DiagnoseProgress = ({ part: 'logs' } & ReadProgress) | ({ part: 'metrics' } & MetricsProgress);

export interface DiagnoseResult {
  evidence: Evidence;
  diagnosis: Diagnosis;
  metrics?: MetricsReport | undefined;
  /** Findings about CloudFront in front (not root causes; docs/diagnose.md). */
  cloudfrontFindings: CloudFrontFinding[];
}

function describe(error: unknown): string {
  return isThrottlescopeError(error) ? error.message : error instanceof Error ? error.message : String(error);
}

/**
 * The functions behind the target groups the logs show throttled (ELBv2), when AWS is to be
 * asked: `options.targetGroups`, else the same rule as CloudWatch (credentials or an endpoint).
 */
async function targetGroupFunctionsFor(
  logs: Evidence['logs'],
  options: DiagnoseOptions,
  env: NodeJS.ProcessEnv,
  awsReachable: boolean,
): Promise<{ functionsByTargetGroup?: ReadonlyMap<string, readonly string[]> | undefined; gaps: string[] }> {
  const throttledGroups = Object.entries(logs?.summary.byTargetGroup ?? {})
    .filter(([, counts]) => (counts.byErrorReason.LambdaThrottling ?? 0) > 0)
    .map(([dimension]) => dimension);
  if (throttledGroups.length === 0) return { gaps: [] };
  if (!(options.targetGroups ?? awsReachable)) {
    return {
      gaps:
        options.targetGroups === undefined
          ? [
              'the functions behind the throttled target groups were not looked up (ELBv2): no AWS credentials found',
            ]
          : [],
    };
  }
  try {
    return await mapTargetGroupsWithConnection({ ...options, env }, throttledGroups, {
      signal: options.signal,
    });
  } catch (error) {
    // Only an interruption gets here; it is reported like any other part that could not finish.
    return { gaps: [`target groups: ${describe(error)}`] };
  }
}

/**
 * Gathers whatever evidence is available (each part optional; what is missing becomes a stated
 * gap, never a crash) and runs the rules.
 */
export async function runDiagnosis(options: DiagnoseOptions): Promise<DiagnoseResult> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now();
  const gaps: string[] = [];
  let probe: ProbeEvidence | undefined;
  if (options.probeDir) {
    try {
      probe = await gatherProbeEvidence(options.probeDir);
      const map = options.probeTimeMap;
      if (map) {
        for (const t of probe.timeline) t.timeMs = map(t.timeMs);
        for (const f of probe.failures) f.timeMs = map(f.timeMs);
        for (const u of probe.urls)
          for (const e of u.episodes) Object.assign(e, { startMs: map(e.startMs), endMs: map(e.endMs) });
      }
    } catch (error) {
      gaps.push(`probe run ${options.probeDir}: ${describe(error)}`);
    }
  }
  // The window: given, else the probe run widened by two minutes, else the last hour.
  let startMs = options.sinceMs;
  let endMs = options.untilMs;
  if (probe && probe.timeline.length > 0) {
    const first = Math.min(...probe.timeline.map((t) => t.timeMs));
    const last = Math.max(...probe.timeline.map((t) => t.timeMs));
    startMs ??= first - 120_000;
    endMs ??= last + 120_000;
  }
  endMs ??= now;
  startMs ??= endMs - 3_600_000;

  let logs: Evidence['logs'];
  if (options.logs && options.logs.length > 0) {
    try {
      const onProgress = options.onProgress;
      const failedRoots = (probe?.failures ?? []).flatMap((f) => (f.traceRoot ? [f.traceRoot] : []));
      const r = await gatherLogEvidence(
        options.logs,
        { startMs, endMs },
        options,
        options.signal,
        onProgress && ((p) => onProgress({ part: 'logs', ...p })),
        failedRoots,
      );
      logs = r.evidence;
      gaps.push(...r.problems);
    } catch (error) {
      gaps.push(`ALB logs: ${describe(error)}`);
    }
  } else {
    gaps.push('no ALB access logs given (--logs): the error_reason of each 502 is unknown');
  }

  const awsReachable = Boolean(options.endpointUrl) || credentialSourcesPresent(env, options.profile);
  // Independent of CloudWatch: asked meanwhile, its gaps listed after CloudWatch's.
  const targetGroupLookup = targetGroupFunctionsFor(logs, options, env, awsReachable);

  let metrics: MetricsReport | undefined;
  const wantCloudWatch = options.cloudwatch ?? awsReachable;
  if (wantCloudWatch) {
    try {
      metrics = await collectMetrics({
        ...options,
        startMs,
        endMs,
        periodSec: options.periodSec,
        signal: options.signal,
        onProgress: options.onProgress && ((p) => options.onProgress?.({ part: 'metrics', ...p })),
      });
    } catch (error) {
      gaps.push(`CloudWatch: ${describe(error)}`);
    }
  } else if (options.cloudwatch === undefined) {
    gaps.push(
      'CloudWatch not read: no AWS credentials found (set AWS_PROFILE, or pass --endpoint-url for the lab)',
    );
  }
  const { functionsByTargetGroup: targetGroupFunctions, gaps: targetGroupGaps } = await targetGroupLookup;
  gaps.push(...targetGroupGaps);
  const cloudfront = await gatherCloudFront(logs, options, env, { startMs, endMs }, wantCloudWatch, gaps);
  const metricsEvidence: MetricsEvidence | undefined = metrics;
  const evidence: Evidence = {
    window: { startMs, endMs },
    logs,
    metrics: metricsEvidence,
    probe,
    targetGroupFunctions,
    cloudfront,
    gaps,
  };
  const alb = logs && logs.summary.files > 0 ? logs.summary : undefined;
  gaps.push(...cloudFrontGaps(cloudfront, alb));
  return {
    evidence,
    diagnosis: withViewerFailures(diagnose(evidence), cloudfront, alb),
    metrics,
    cloudfrontFindings: cloudFrontFindings(cloudfront, alb),
  };
}

/**
 * The viewer side: CloudFront logs among --logs, and with --distribution the distribution's
 * config and (when CloudWatch is read) its AWS/CloudFront metrics. Failures become gaps.
 */
async function gatherCloudFront(
  logs: Evidence['logs'],
  options: DiagnoseOptions,
  env: NodeJS.ProcessEnv,
  window: { startMs: number; endMs: number },
  wantCloudWatch: boolean,
  gaps: string[],
): Promise<CloudFrontEvidence | undefined> {
  const id = options.distribution;
  if (!logs?.cloudfront && !id) return undefined;
  const cf: CloudFrontEvidence = { logs: logs?.cloudfront, alb5xxViaCloudFront: logs?.alb5xxViaCloudFront };
  if (!id) return cf;
  const conn = { ...options, env };
  const [config, metrics] = await Promise.allSettled([
    readDistributionConfig(id, conn, options.signal),
    wantCloudWatch
      ? readCloudFrontMetrics(id, { ...window, periodSec: options.periodSec }, conn, options.signal)
      : Promise.resolve(undefined),
  ]);
  if (config.status === 'fulfilled') cf.config = config.value;
  else gaps.push(`CloudFront distribution ${id}: ${describe(config.reason)}`);
  if (metrics.status === 'fulfilled' && metrics.value) {
    cf.metrics = metrics.value.metrics;
    gaps.push(...metrics.value.messages);
  } else if (metrics.status === 'rejected') gaps.push(`AWS/CloudFront metrics: ${describe(metrics.reason)}`);
  return cf;
}
