/**
 * CloudFront in front of the ALB, as evidence: the viewer side (CloudFront standard logs, or
 * AWS/CloudFront metrics) joined with the ALB side (ALB access logs) by minute, and the
 * distribution's configuration. Two findings with documented codes (docs/diagnose.md). They are
 * not root causes: they explain why viewers saw more (or other) failures than the origin made;
 * the Lambda cause found by rules.ts stays the root cause. Pure functions of the evidence.
 */
import { isoUtc } from '../common/time.js';
import type { LogSummary } from '../logs/aggregate.js';
import type { CloudFrontSummary } from '../logs/cloudfront/summary.js';
import type { TimeSeries } from '../metrics/series.js';
import type { Diagnosis, EvidenceLine } from './rules.js';

export const CLOUDFRONT_FINDING_CODES = ['cloudfront-error-caching', 'cloudfront-masked-origin'] as const;
export type CloudFrontFindingCode = (typeof CLOUDFRONT_FINDING_CODES)[number];

/**
 * Codes CloudFront caches when the origin returns them, for 10 s unless a custom error response
 * sets ErrorCachingMinTTL (AWS, "How CloudFront processes HTTP 3xx/4xx/5xx status codes";
 * ../shared/reference/aws-facts.md §7.1, cloudfront-athena-facts.md §A3.1).
 */
export const DEFAULT_ERROR_CACHING_CODES = [404, 414, 500, 501, 502, 503, 504] as const;
export const DEFAULT_ERROR_CACHING_MIN_TTL_SEC = 10;
/** The managed CachingDisabled cache policy (AWS, "Use managed cache policies"). */
export const CACHING_DISABLED_POLICY_ID = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';

/**
 * x-edge-detailed-result-type values for errors CloudFront made itself (could not reach or read
 * the origin, refused the request, Lambda@Edge failed): these never reached the ALB as a 5xx.
 * `Error` is an origin's error passed on, or replayed from the cache.
 */
const CLOUDFRONT_GENERATED = new Set([
  'AbortedOrigin',
  'OriginCommError',
  'OriginConnectError',
  'OriginDnsError',
  'OriginReadError',
  'OriginWriteError',
  'OriginError',
  'OriginInvalidResponseError',
  'OriginHeaderTooBigError',
  'OriginContentRangeLengthError',
  'OriginZeroSizeObjectError',
  'SlowReaderOriginError',
  'ClientCommError',
  'ClientHungUpRequest',
  'ClientGeoBlocked',
  'InvalidRequest',
  'InvalidRequestHeader',
  'InvalidRequestBlocked',
  'InvalidRequestCertificate',
  'InvalidRequestMethod',
  'LimitExceeded',
  'CapacityExceeded',
  'LambdaExecutionError',
  'LambdaValidationError',
  'LambdaLimitExceeded',
]);

export interface CloudFrontCustomErrorResponse {
  errorCode: number;
  responsePagePath: string | null;
  responseCode: number | null;
  errorCachingMinTtl: number | null;
}

export interface CloudFrontBehavior {
  /** `*` for the default behaviour. */
  pathPattern: string;
  cachePolicyId: string | null;
  /** The managed CachingDisabled policy, or legacy MinTTL = DefaultTTL = MaxTTL = 0. */
  cachingDisabled: boolean;
}

/** What diagnose reads of a distribution's configuration (GetDistributionConfig). */
export interface CloudFrontConfigEvidence {
  distributionId: string;
  customErrorResponses: CloudFrontCustomErrorResponse[];
  behaviors: CloudFrontBehavior[];
}

/** AWS/CloudFront metrics (DistributionId, Region=Global), one point per period. */
export interface CloudFrontMetricsEvidence {
  distributionId: string;
  periodSec: number;
  /** Requests, Sum. */
  requests: TimeSeries;
  /** 5xxErrorRate, Average, percent of viewer responses. */
  errorRate5xx: TimeSeries;
}

export interface CloudFrontEvidence {
  logs?: CloudFrontSummary | undefined;
  config?: CloudFrontConfigEvidence | undefined;
  metrics?: CloudFrontMetricsEvidence | undefined;
  /**
   * ALB 5xx per minute (epoch ms) of requests that came through CloudFront: user agent
   * `Amazon CloudFront`, which CloudFront sends to the origin unless the viewer's is forwarded.
   * When it counts any, the join uses it instead of every ALB 5xx (clients may also reach the ALB
   * directly, as the lab's and the seed's inside probe did).
   */
  alb5xxViaCloudFront?: ReadonlyMap<number, number> | undefined;
}

/** The user agent CloudFront sends to the origin when the viewer's is not forwarded. */
export const CLOUDFRONT_ORIGIN_USER_AGENT = 'Amazon CloudFront';

/** Whether the ALB side of the join is the requests that came through CloudFront. */
const viaCloudFront = (cf: CloudFrontEvidence) =>
  cf.alb5xxViaCloudFront !== undefined && [...cf.alb5xxViaCloudFront.values()].some((n) => n > 0);

export interface CloudFrontFix {
  summary: string;
  cloudformation: string;
  terraform: string;
}

export interface CloudFrontFinding {
  code: CloudFrontFindingCode;
  title: string;
  confidence: number;
  evidence: EvidenceLine[];
  fix?: CloudFrontFix | undefined;
}

/** Viewer-side and ALB-side 5xx per minute, for the report's chart and the findings. */
export interface EdgeMinute {
  minuteMs: number;
  /** 5xx CloudFront sent to viewers. */
  viewer5xx: number;
  /** Of those, the origin's errors passed on or replayed from cache (not CloudFront's own). */
  viewerOrigin5xx: number;
  /** 5xx the ALB answered (its access log). */
  alb5xx: number;
  /** viewerOrigin5xx beyond what the ALB answered that minute: replays from the edge cache. */
  replayed: number;
}

const sumValues = (m: Record<string, number>, keep: (k: string) => boolean) =>
  Object.entries(m).reduce((n, [k, v]) => (keep(k) ? n + v : n), 0);
const is5xx = (status: string) => status.length === 3 && status.startsWith('5');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The viewer side per minute: from the logs when given, else from the metrics. */
function viewerByMinute(cf: CloudFrontEvidence): Map<number, { all: number; origin: number }> {
  const out = new Map<number, { all: number; origin: number }>();
  if (cf.logs) {
    for (const m of cf.logs.series) {
      const all = sumValues(m.byStatus, is5xx);
      if (all === 0) continue;
      const origin = sumValues(m.fiveXx, (detail) => !CLOUDFRONT_GENERATED.has(detail));
      out.set(Date.parse(m.minute), { all, origin });
    }
    return out;
  }
  const metrics = cf.metrics;
  if (metrics) {
    const rate = new Map(
      metrics.errorRate5xx.timestampsMs.map((t, i) => [t, metrics.errorRate5xx.values[i] ?? 0]),
    );
    metrics.requests.timestampsMs.forEach((t, i) => {
      const n = Math.round(((metrics.requests.values[i] ?? 0) * (rate.get(t) ?? 0)) / 100);
      // Metrics do not tell CloudFront's own errors from the origin's: all are counted as the origin's.
      if (n > 0) out.set(t, { all: n, origin: n });
    });
  }
  return out;
}

/** Joins the viewer side and the ALB side by minute (minutes with a 5xx on either side). */
export function edgeMinutes(cf: CloudFrontEvidence | undefined, alb: LogSummary | undefined): EdgeMinute[] {
  if (!cf || (!cf.logs && !cf.metrics)) return [];
  const viewer = viewerByMinute(cf);
  let albByMinute = new Map<number, number>();
  for (const m of alb?.series ?? []) {
    const n = sumValues(m.byElbStatus, is5xx);
    if (n > 0) albByMinute.set(Date.parse(m.minute), n);
  }
  if (alb && viaCloudFront(cf)) albByMinute = new Map(cf.alb5xxViaCloudFront);
  const minutes = [...new Set([...viewer.keys(), ...albByMinute.keys()])].sort((a, b) => a - b);
  return minutes.map((minuteMs) => {
    const v = viewer.get(minuteMs) ?? { all: 0, origin: 0 };
    const alb5xx = albByMinute.get(minuteMs) ?? 0;
    return {
      minuteMs,
      viewer5xx: v.all,
      viewerOrigin5xx: v.origin,
      alb5xx,
      replayed: alb ? Math.max(0, v.origin - alb5xx) : 0,
    };
  });
}

/**
 * The error caching minimum TTL that applies to an origin status: a custom error response's
 * ErrorCachingMinTTL, else AWS's default (10 s for 404, 414, 500-504; others are not cached by
 * default). 0 when every cache behaviour has caching disabled. Undefined without the config.
 */
export function errorCachingTtl(
  config: CloudFrontConfigEvidence | undefined,
  status: number,
): number | undefined {
  if (!config) return undefined;
  if (config.behaviors.length > 0 && config.behaviors.every((b) => b.cachingDisabled)) return 0;
  const custom = config.customErrorResponses.find((r) => r.errorCode === status);
  if (custom?.errorCachingMinTtl !== null && custom?.errorCachingMinTtl !== undefined)
    return custom.errorCachingMinTtl;
  return (DEFAULT_ERROR_CACHING_CODES as readonly number[]).includes(status)
    ? DEFAULT_ERROR_CACHING_MIN_TTL_SEC
    : 0;
}

/** `/api/cart` → `/api/*`: the path patterns the failing paths fall under, for the fix. */
function dynamicPathPatterns(
  alb: LogSummary | undefined,
  config: CloudFrontConfigEvidence | undefined,
): string[] {
  // The paths that failed at the origin, by first segment; a path at the root is the default
  // behaviour (`*`). Behaviours serving the custom error pages are never among them.
  const patterns = new Set<string>();
  for (const p of alb?.topFailingPaths ?? []) {
    const first = /^\/[A-Za-z0-9._~-]+\//.exec(p.path);
    patterns.add(first ? `${first[0]}*` : '*');
  }
  if (patterns.size > 0) return [...patterns].slice(0, 3);
  const pages = config?.customErrorResponses.map((r) => r.responsePagePath).filter((p) => p !== null) ?? [];
  const caching = config?.behaviors
    .filter((b) => !b.cachingDisabled && !pages.some((p) => p.startsWith(b.pathPattern.replace(/\*$/, ''))))
    .map((b) => b.pathPattern);
  return caching && caching.length > 0 ? [...new Set(caching)].slice(0, 3) : ['/api/*'];
}

/** A YAML/HCL string literal (double-quoted, escaped), so that no path can break the snippet. */
const quoted = (s: string) => JSON.stringify(s);

/** The fix as IaC snippets: error caching TTL 0 for the 5xx seen, CachingDisabled for dynamic paths. */
export function errorCachingFix(
  codes: readonly number[],
  patterns: readonly string[],
  config: CloudFrontConfigEvidence | undefined,
): CloudFrontFix {
  const entries = codes.map((code) => {
    const existing = config?.customErrorResponses.find((r) => r.errorCode === code);
    return { code, page: existing?.responsePagePath ?? null, responseCode: existing?.responseCode ?? null };
  });
  const ordered = patterns.filter((p) => p !== '*');
  const byDefault = patterns.includes('*');
  const cfn = [
    '# AWS::CloudFront::Distribution, inside DistributionConfig',
    'CustomErrorResponses:',
    ...entries.flatMap((e) => [
      `  - ErrorCode: ${e.code}`,
      '    ErrorCachingMinTTL: 0',
      ...(e.page !== null
        ? [`    ResponsePagePath: ${quoted(e.page)}`, `    ResponseCode: "${e.responseCode ?? e.code}"`]
        : []),
    ]),
    ...(ordered.length > 0
      ? [
          'CacheBehaviors:',
          ...ordered.flatMap((p) => [
            `  - PathPattern: ${quoted(p)}`,
            `    CachePolicyId: ${CACHING_DISABLED_POLICY_ID} # Managed-CachingDisabled`,
            '    # keep TargetOriginId, ViewerProtocolPolicy and the other settings of this behaviour',
          ]),
        ]
      : []),
    ...(byDefault
      ? [
          'DefaultCacheBehavior:',
          `  CachePolicyId: ${CACHING_DISABLED_POLICY_ID} # Managed-CachingDisabled`,
          '  # keep TargetOriginId, ViewerProtocolPolicy and the other settings',
        ]
      : []),
  ].join('\n');
  const tf = [
    '# resource "aws_cloudfront_distribution"',
    ...entries.flatMap((e) => [
      'custom_error_response {',
      `  error_code            = ${e.code}`,
      '  error_caching_min_ttl = 0',
      ...(e.page !== null
        ? [
            `  response_page_path    = ${quoted(e.page)}`,
            `  response_code         = ${e.responseCode ?? e.code}`,
          ]
        : []),
      '}',
    ]),
    ...ordered.flatMap((p) => [
      'ordered_cache_behavior {',
      `  path_pattern    = ${quoted(p)}`,
      `  cache_policy_id = "${CACHING_DISABLED_POLICY_ID}" # Managed-CachingDisabled`,
      '  # keep target_origin_id, viewer_protocol_policy, allowed_methods, cached_methods',
      '}',
    ]),
    ...(byDefault
      ? [
          'default_cache_behavior {',
          `  cache_policy_id = "${CACHING_DISABLED_POLICY_ID}" # Managed-CachingDisabled`,
          '  # keep target_origin_id, viewer_protocol_policy, allowed_methods, cached_methods',
          '}',
        ]
      : []),
  ].join('\n');
  return {
    summary: `Set the error caching minimum TTL to 0 for ${codes.join(', ')} (so one origin error is not replayed to other viewers), or use the managed CachingDisabled cache policy for the dynamic paths (${patterns.map((p) => (p === '*' ? 'the default behaviour' : p)).join(', ')}).`,
    cloudformation: cfn,
    terraform: tf,
  };
}

function errorCachingFinding(
  cf: CloudFrontEvidence,
  alb: LogSummary | undefined,
  minutes: readonly EdgeMinute[],
): CloudFrontFinding | undefined {
  if (!alb) return undefined;
  const viewer5xx = minutes.reduce((n, m) => n + m.viewer5xx, 0);
  const replayed = minutes.reduce((n, m) => n + m.replayed, 0);
  const alb5xx = minutes.reduce((n, m) => n + m.alb5xx, 0);
  if (viewer5xx === 0 || replayed === 0) return undefined;
  const statuses = cf.logs ? Object.keys(cf.logs.byStatus).filter(is5xx).map(Number) : [502];
  const codes = statuses.length > 0 ? statuses.sort((a, b) => a - b) : [502];
  const ttls = codes.map((c) => errorCachingTtl(cf.config, c));
  // A distribution that caches none of these errors cannot have replayed them.
  if (cf.config && ttls.every((t) => t === 0)) return undefined;
  const main = codes.includes(502) ? 502 : (codes[0] as number);
  const ttl = errorCachingTtl(cf.config, main) ?? DEFAULT_ERROR_CACHING_MIN_TTL_SEC;
  const source = cf.logs ? 'CloudFront logs' : 'AWS/CloudFront metrics';
  const evidence: EvidenceLine[] = [
    {
      text: `${source}: ${fmt(viewer5xx)} 5xx sent to viewers in ${minutes.filter((m) => m.viewer5xx > 0).length} minutes${
        cf.logs
          ? `, ${fmt(minutes.reduce((n, m) => n + m.viewerOrigin5xx, 0))} of them the origin's errors (x-edge-detailed-result-type Error)`
          : ''
      }`,
    },
    {
      text: `ALB logs: ${fmt(alb5xx)} 5xx in the same minutes${
        viaCloudFront(cf)
          ? ` to requests that came through CloudFront (user agent ${CLOUDFRONT_ORIGIN_USER_AGENT})`
          : ''
      }${
        alb.byErrorReason.LambdaThrottling
          ? ` (${fmt(alb.byErrorReason.LambdaThrottling)} LambdaThrottling in the window)`
          : ''
      }`,
    },
  ];
  const worst = [...minutes].sort((a, b) => b.replayed - a.replayed)[0];
  if (worst && worst.replayed > 0)
    evidence.push({
      text: `${isoUtc(worst.minuteMs).slice(11, 16)} UTC: viewers got ${fmt(worst.viewer5xx)} 5xx while the ALB answered ${fmt(worst.alb5xx)}: ${fmt(worst.replayed)} replayed from the edge cache`,
      timeMs: worst.minuteMs,
    });
  evidence.push({
    text: cf.config
      ? `distribution ${cf.config.distributionId}: ${main} is cached for ${ttl} s (${
          cf.config.customErrorResponses.some((r) => r.errorCode === main && r.errorCachingMinTtl !== null)
            ? 'CustomErrorResponse ErrorCachingMinTTL'
            : "AWS's default ErrorCachingMinTTL"
        }); ${cf.config.behaviors.filter((b) => !b.cachingDisabled).length} of ${cf.config.behaviors.length} cache behaviours cache responses`
      : `the distribution's configuration was not read (--distribution ID): ${ttl} s is AWS's default ErrorCachingMinTTL for ${main}`,
  });
  return {
    code: 'cloudfront-error-caching',
    title: `${fmt(replayed)} of ${fmt(viewer5xx)} viewer 5xx were cached replays of an origin error (ErrorCachingMinTTL ${ttl} s); the ALB answered ${fmt(alb5xx)}`,
    confidence: cf.config ? 0.9 : cf.logs ? 0.7 : 0.5,
    evidence,
    fix: errorCachingFix(codes, dynamicPathPatterns(alb, cf.config), cf.config),
  };
}

function maskedOriginFinding(
  cf: CloudFrontEvidence,
  alb: LogSummary | undefined,
  minutes: readonly EdgeMinute[],
): CloudFrontFinding | undefined {
  const config = cf.config;
  const throttled = alb?.byErrorReason.LambdaThrottling ?? 0;
  if (!config || !alb || throttled === 0) return undefined;
  const page = config.customErrorResponses.find((r) => r.errorCode === 502 && r.responsePagePath !== null);
  if (!page) return undefined;
  const shownAs = page.responseCode ?? 502;
  // A page served with a non-error status (200) hides the failure from the viewer's status too:
  // those responses cannot be told from successes by status, so they are not counted.
  const viewerSaw =
    shownAs < 500
      ? undefined
      : cf.logs
        ? (cf.logs.byStatus[String(shownAs)] ?? 0)
        : minutes.reduce((n, m) => n + m.viewer5xx, 0);
  const evidence: EvidenceLine[] = [
    {
      text: `distribution ${config.distributionId}: a custom error response replaces the origin's 502 with ${page.responsePagePath} (status ${shownAs})`,
    },
    {
      text: `ALB logs: ${fmt(throttled)} 502 LambdaThrottling in the window: the origin's answer, which viewers never saw`,
    },
  ];
  if (viewerSaw === undefined)
    evidence.push({
      text: `viewers got the page with status ${shownAs}: the origin's failures do not even show as errors in the viewers' status codes`,
    });
  else if (cf.logs || cf.metrics)
    evidence.push({ text: `viewers got ${fmt(viewerSaw)} responses with status ${shownAs} in the window` });
  evidence.push({
    text: 'probe the ALB directly (throttlescope probe <ALB URL>) to see the 502 with Server: awselb/2.0 that the page hides',
  });
  return {
    code: 'cloudfront-masked-origin',
    title: `viewers saw the custom error page ${page.responsePagePath} (status ${shownAs}) while the origin answered 502 LambdaThrottling (${fmt(throttled)} in the ALB logs)`,
    confidence: 0.85,
    evidence,
  };
}

/** The CloudFront findings for the evidence, most telling first. */
export function cloudFrontFindings(
  cf: CloudFrontEvidence | undefined,
  alb: LogSummary | undefined,
): CloudFrontFinding[] {
  if (!cf) return [];
  const minutes = edgeMinutes(cf, alb);
  const out: CloudFrontFinding[] = [];
  const caching = errorCachingFinding(cf, alb, minutes);
  if (caching) out.push(caching);
  const masked = maskedOriginFinding(cf, alb, minutes);
  if (masked) out.push(masked);
  return out;
}

/** What the CloudFront evidence cannot say on its own, for the gaps list. */
export function cloudFrontGaps(cf: CloudFrontEvidence | undefined, alb: LogSummary | undefined): string[] {
  if (!cf) return [];
  const gaps: string[] = [];
  const viewer5xx = edgeMinutes(cf, alb).reduce((n, m) => n + m.viewer5xx, 0);
  if (viewer5xx > 0 && !alb)
    gaps.push(
      'CloudFront error caching not measured: give the ALB access logs of the same window (--logs) to compare viewer and origin 5xx',
    );
  if (!cf.config)
    gaps.push(
      'CloudFront configuration not read (--distribution ID): error caching TTLs and custom error pages assumed AWS defaults',
    );
  return gaps;
}

/**
 * Fails closed on the viewer side: when the evidence held no other failure but viewers got 5xx,
 * the diagnosis is `unexplained`, never "healthy".
 */
export function withViewerFailures(
  d: Diagnosis,
  cf: CloudFrontEvidence | undefined,
  alb: LogSummary | undefined,
): Diagnosis {
  if (d.rootCause !== 'healthy' || !cf) return d;
  const minutes = edgeMinutes(cf, alb);
  const viewer5xx = minutes.reduce((n, m) => n + m.viewer5xx, 0);
  if (viewer5xx === 0) return d;
  const evidence: EvidenceLine[] = [];
  if (cf.logs) {
    const byDetail: Record<string, number> = {};
    for (const m of cf.logs.series)
      for (const [k, v] of Object.entries(m.fiveXx)) byDetail[k] = (byDetail[k] ?? 0) + v;
    const list = Object.entries(byDetail)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} x${fmt(v)}`)
      .join(', ');
    evidence.push({
      text: `CloudFront logs: ${fmt(viewer5xx)} 5xx sent to viewers, by x-edge-detailed-result-type: ${list}`,
    });
    const own = Object.entries(byDetail).reduce((n, [k, v]) => (CLOUDFRONT_GENERATED.has(k) ? n + v : n), 0);
    if (own > 0)
      evidence.push({
        text: `${fmt(own)} of them CloudFront made itself (it could not reach, or read in time, the origin, or refused the request): probe the origin directly`,
      });
  } else {
    evidence.push({
      text: `AWS/CloudFront metrics: about ${fmt(viewer5xx)} 5xx sent to viewers (Requests x 5xxErrorRate)`,
    });
  }
  if (!alb)
    evidence.push({
      text: 'no ALB access logs: whether the origin answered these 5xx, and why, is unknown (--logs)',
    });
  const finding = {
    code: 'unexplained' as const,
    title: `unexplained: ${fmt(viewer5xx)} 5xx CloudFront sent to viewers match no known cause`,
    confidence: 0.5,
    impact: viewer5xx,
    evidence,
  };
  return {
    ...d,
    rootCause: 'unexplained',
    headline: finding.title,
    confidence: finding.confidence,
    findings: [...d.findings, finding],
    evidenceChain: [...d.evidenceChain, ...evidence.map((l) => ({ step: 'cause', detail: l.text }))],
  };
}
