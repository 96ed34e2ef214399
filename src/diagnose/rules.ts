import { isoUtc } from '../common/time.js';
import { errorReason, UNDOCUMENTED_REASON } from '../logs/error-reasons.js';
import {
  type NoisyNeighbourRanking,
  POOL_FULL_FRACTION,
  rankNoisyNeighbours,
  sharedPoolSizeOf,
  sharedPoolUseOf,
} from '../metrics/rank.js';
import { alignDown, seriesSum } from '../metrics/series.js';
import type { Evidence, LoggedFailure, MetricsEvidence, TimeSeries } from './evidence.js';

/** Stable root-cause codes (docs/diagnose.md). */
export const ROOT_CAUSES = [
  'account-concurrency-exhausted',
  'function-reserved-concurrency-too-low',
  'scaling-rate-limit',
  'function-errors',
  'invalid-response',
  'function-timeout',
  'target-errors',
  'endpoint-unreachable',
  'unexplained',
  'healthy',
] as const;
export type RootCauseCode = (typeof ROOT_CAUSES)[number];

export interface EvidenceLine {
  text: string;
  timeMs?: number | undefined;
}

export interface Finding {
  code: RootCauseCode;
  title: string;
  /** 0..1: how sure the rule is, given which evidence it had. */
  confidence: number;
  /** Failed requests (or throttles) the finding explains, to rank findings. */
  impact: number;
  culprit?: string | undefined;
  victims?: string[] | undefined;
  evidence: EvidenceLine[];
}

export interface Diagnosis {
  rootCause: RootCauseCode;
  headline: string;
  culprit: string | null;
  victims: string[];
  confidence: number;
  findings: Finding[];
  /** The chain from symptom to cause, in order, for people. */
  evidenceChain: { step: string; detail: string }[];
  gaps: string[];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (a: number, b: number) => (b === 0 ? '0%' : `${((100 * a) / b).toFixed(1)}%`);
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function valueAt(series: TimeSeries | undefined, t: number): number {
  if (!series) return 0;
  const i = series.timestampsMs.indexOf(t);
  return i < 0 ? 0 : (series.values[i] ?? 0);
}

const LAMBDA_ERROR_REASONS = new Set([
  'LambdaUnhandled',
  'LambdaServiceException',
  'LambdaUnhandledException',
]);
const INVALID_RESPONSE_REASONS = new Set(['LambdaInvalidResponse', 'LambdaResponseTooLarge']);

/**
 * Throttled requests in the ALB access logs (502 LambdaThrottling), per minute. CloudWatch has no
 * series for them, so the ranking gets them as logged throttles.
 */
function loggedThrottlesByMinute(e: Evidence): Map<number, number> {
  const byMinute = new Map<number, number>();
  for (const m of e.logs?.summary.series ?? []) {
    const n = m.fiveXx.LambdaThrottling ?? 0;
    if (n > 0) byMinute.set(Date.parse(m.minute), n);
  }
  return byMinute;
}

interface ThrottledTargetGroup {
  /** `targetgroup/<name>/<id>`. */
  targetGroup: string;
  throttles: number;
  /** The functions behind it (ELBv2); undefined when not known. */
  functions: readonly string[] | undefined;
}

/** Target groups with 502 LambdaThrottling in the logs, most throttled first. */
function throttledTargetGroups(e: Evidence): ThrottledTargetGroup[] {
  return Object.entries(e.logs?.summary.byTargetGroup ?? {})
    .map(([targetGroup, counts]) => ({
      targetGroup,
      throttles: counts.byErrorReason.LambdaThrottling ?? 0,
      functions: e.targetGroupFunctions?.get(targetGroup),
    }))
    .filter((g) => g.throttles > 0)
    .sort((a, b) => b.throttles - a.throttles);
}

/** `targetgroup/api-tg/0123…` → `api-tg` (names are unique in an account's region). */
const targetGroupName = (dimension: string) => dimension.split('/')[1] ?? dimension;

/** Which function each throttled target group stands for, so the log evidence names functions. */
function targetGroupEvidence(groups: readonly ThrottledTargetGroup[]): EvidenceLine[] {
  if (groups.length === 0) return [];
  const parts = groups.map(
    (g) =>
      `${targetGroupName(g.targetGroup)} -> ${g.functions && g.functions.length > 0 ? `function ${g.functions.join(', ')}` : 'function unknown'} (${fmt(g.throttles)})`,
  );
  return [{ text: `ALB logs: LambdaThrottling by target group: ${parts.join(', ')}` }];
}

/** The functions behind the throttled target groups, most throttled first. */
function functionsBehind(groups: readonly ThrottledTargetGroup[]): string[] {
  const throttles = new Map<string, number>();
  for (const g of groups)
    for (const f of g.functions ?? []) throttles.set(f, (throttles.get(f) ?? 0) + g.throttles);
  return [...throttles.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
}

/** Log minutes summed into the metrics' periods (which may be longer than a minute). */
function inPeriods(byMinute: Map<number, number>, periodSec: number): TimeSeries {
  const byPeriod = new Map<number, number>();
  for (const [t, n] of byMinute) {
    const p = alignDown(t, periodSec);
    byPeriod.set(p, (byPeriod.get(p) ?? 0) + n);
  }
  const timestampsMs = [...byPeriod.keys()].sort((a, b) => a - b);
  return { timestampsMs, values: timestampsMs.map((t) => byPeriod.get(t) as number) };
}

/** How full the account and its shared pool were in the throttled periods (both exhaustion findings). */
function poolEvidence(ranking: NoisyNeighbourRanking, metrics: MetricsEvidence): EvidenceLine {
  const times = ranking.throttledPeriodsMs;
  const limit = metrics.account.limit;
  const reservedTotal = sum(metrics.functions.map((f) => f.reserved ?? 0));
  const peak = Math.max(0, ...times.map((t) => valueAt(metrics.accountSeries.concurrentExecutions, t)));
  return {
    text: `CloudWatch: account ConcurrentExecutions peaked at ${fmt(peak)} of the ${fmt(limit)} limit (${fmt(reservedTotal)} reserved, shared pool ${fmt(ranking.sharedPoolSize)}); the pool was full in ${ranking.poolFullPeriods} of ${times.length} throttled period(s)`,
    timeMs: times[0],
  };
}

/** The victims with their Throttles, over the throttled periods. */
function throttledEvidence(ranking: NoisyNeighbourRanking, victims: readonly string[]): EvidenceLine {
  const times = ranking.throttledPeriodsMs;
  const throttlesOf = new Map(ranking.functions.map((f) => [f.name, f.throttles]));
  return {
    text: `throttled: ${victims
      .map((name) => `${name} (${fmt(throttlesOf.get(name) ?? 0)} Throttles)`)
      .join(', ')} between ${isoUtc(times[0] as number)} and ${isoUtc(times[times.length - 1] as number)}`,
  };
}

/**
 * The culprit, its victims and the pool-full periods are the noisy-neighbour ranking's
 * (src/metrics/rank.ts, docs/metrics.md), the one `metrics` prints, fed the log minutes as well:
 * one definition of the noisy neighbour, whichever command names it.
 */
function accountConcurrencyRule(e: Evidence, findings: Finding[]): void {
  const logMinutes = loggedThrottlesByMinute(e);
  const logThrottles = sum([...logMinutes.values()]);
  const metrics = e.metrics;
  const metricThrottles = sum((metrics?.functions ?? []).map((f) => seriesSum(f.series.throttles)));
  // The rule is about throttling: ALB 502s alone (which the ranking also counts) are more often
  // the functions' own errors, which the error rules judge.
  if (logThrottles === 0 && metricThrottles === 0) return;
  const groups = throttledTargetGroups(e);
  if (!metrics) {
    // Without metrics the pool's holder is unknown, but the throttled functions are not: they
    // stand behind the throttled target groups.
    const victims = functionsBehind(groups);
    findings.push({
      code: 'account-concurrency-exhausted',
      title:
        victims.length > 0
          ? `Lambda throttling of ${victims.join(', ')} behind the load balancer (cause not confirmed: no CloudWatch metrics)`
          : 'Lambda throttling behind the load balancer (cause not confirmed: no CloudWatch metrics)',
      confidence: 0.4,
      impact: logThrottles,
      victims,
      evidence: [
        {
          text: `ALB logs: ${fmt(logThrottles)} requests answered 502 LambdaThrottling in ${logMinutes.size} minute(s)`,
        },
        ...targetGroupEvidence(groups),
        {
          text: 'without Lambda ConcurrentExecutions the function that holds the pool cannot be named: add CloudWatch access',
        },
      ],
    });
    return;
  }
  const ranking = rankNoisyNeighbours({
    ...metrics,
    loggedThrottles: inPeriods(logMinutes, metrics.window.periodSec),
  });
  const culprit = ranking.functions.find((f) => f.name === ranking.culprit);
  if (!culprit) {
    if (ranking.poolExhausted)
      sharedExhaustionFinding(ranking, metrics, logThrottles, metricThrottles, groups, findings);
    return;
  }
  const times = ranking.throttledPeriodsMs;
  const fullFraction = ranking.poolFullPeriods / times.length;
  const poolShare = culprit.poolShare ?? 0;
  const victims = ranking.victims;
  const evidence: EvidenceLine[] = [];
  if (logThrottles > 0) {
    evidence.push({
      text: `ALB logs: ${fmt(logThrottles)} requests answered 502 LambdaThrottling in ${logMinutes.size} minute(s), ${isoUtc(Math.min(...logMinutes.keys()))} .. ${isoUtc(Math.max(...logMinutes.keys()))}`,
      timeMs: Math.min(...logMinutes.keys()),
    });
    evidence.push(...targetGroupEvidence(groups));
  }
  evidence.push(poolEvidence(ranking, metrics));
  evidence.push({
    text: `${culprit.name} held ${(poolShare * 100).toFixed(0)}% of the shared pool while it was full (${(culprit.share * 100).toFixed(0)}% of account concurrency while throttling happened), with no reserved concurrency (its peak: ${fmt(culprit.peakConcurrency)})`,
  });
  for (const r of ranking.functions.filter((f) => f !== culprit).slice(0, 3)) {
    evidence.push({
      text: `${r.name}: ${(r.share * 100).toFixed(0)}% of account concurrency, reserved ${r.reserved ?? 'none'}`,
    });
  }
  if (victims.length > 0) evidence.push(throttledEvidence(ranking, victims));
  findings.push({
    code: 'account-concurrency-exhausted',
    title: `${culprit.name} exhausts the account's shared Lambda concurrency and starves ${victims.length > 0 ? victims.join(', ') : 'the other functions'}`,
    confidence: Math.min(
      0.97,
      0.55 + 0.25 * fullFraction + (logThrottles > 0 ? 0.15 : 0) + (poolShare >= 0.5 ? 0.05 : 0),
    ),
    impact: Math.max(logThrottles, metricThrottles),
    culprit: culprit.name,
    victims,
    evidence,
  });
}

/**
 * The shared pool is full and functions are starved, but no single function holds most of it
 * (say two busy functions at 45% each): capping one would leave the others to fill the pool, so
 * no culprit is named; the finding says so, and what helps instead.
 */
function sharedExhaustionFinding(
  ranking: NoisyNeighbourRanking,
  metrics: MetricsEvidence,
  logThrottles: number,
  metricThrottles: number,
  groups: readonly ThrottledTargetGroup[],
  findings: Finding[],
): void {
  const fullFraction = ranking.poolFullPeriods / Math.max(1, ranking.throttledPeriodsMs.length);
  // The fewest functions that together hold three quarters of the pool (at most four): not the
  // starved ones squeezed into what is left.
  const holders: typeof ranking.functions = [];
  let heldShare = 0;
  for (const f of ranking.functions
    .filter((f) => f.unreserved && (f.poolShare ?? 0) > 0)
    .sort((a, b) => (b.poolShare ?? 0) - (a.poolShare ?? 0))) {
    if (heldShare >= 0.75 || holders.length === 4) break;
    holders.push(f);
    heldShare += f.poolShare ?? 0;
  }
  // The holders' own occasional throttles do not make them victims of the pool they fill.
  const held = new Set(holders.map((f) => f.name));
  const victims = ranking.victims.filter((name) => !held.has(name));
  const evidence: EvidenceLine[] = [];
  if (logThrottles > 0) {
    evidence.push({ text: `ALB logs: ${fmt(logThrottles)} requests answered 502 LambdaThrottling` });
    evidence.push(...targetGroupEvidence(groups));
  }
  evidence.push(poolEvidence(ranking, metrics));
  evidence.push({
    text: `the pool was held by several functions together: ${holders
      .map((f) => `${f.name} ${((f.poolShare ?? 0) * 100).toFixed(0)}%`)
      .join(', ')} of it; none holds most of it, so capping one would leave the others to fill it`,
  });
  if (victims.length > 0) evidence.push(throttledEvidence(ranking, victims));
  evidence.push({
    text: 'what helps: reserved concurrency for the functions that must not be throttled (a guarantee), caps on the busy ones together, or a higher account limit (Service Quotas)',
  });
  findings.push({
    code: 'account-concurrency-exhausted',
    title: `Several functions together (${holders.map((f) => f.name).join(', ')}) exhaust the account's shared Lambda concurrency and starve ${victims.length > 0 ? victims.join(', ') : 'the other functions'}`,
    confidence: Math.min(0.85, 0.5 + 0.2 * fullFraction + (logThrottles > 0 ? 0.1 : 0)),
    impact: Math.max(logThrottles, metricThrottles),
    victims,
    evidence,
  });
}

function reservedTooLowRule(e: Evidence, findings: Finding[]): void {
  const metrics = e.metrics;
  if (!metrics) return;
  for (const f of metrics.functions) {
    if (f.reserved == null) continue;
    const throttles = sum(f.series.throttles.values);
    if (throttles === 0) continue;
    const peak = Math.max(0, ...f.series.concurrentExecutions.values);
    if (f.reserved > 0 && peak < 0.9 * f.reserved) continue;
    findings.push({
      code: 'function-reserved-concurrency-too-low',
      title:
        f.reserved === 0
          ? `${f.name} has reserved concurrency 0: every invocation is throttled`
          : `${f.name} is throttled at its own reserved concurrency (${f.reserved})`,
      confidence: 0.85,
      impact: throttles,
      culprit: f.name,
      victims: [f.name],
      evidence: [
        {
          text: `${f.name}: ${fmt(throttles)} Throttles; ConcurrentExecutions peaked at ${fmt(peak)} with reserved concurrency ${f.reserved}`,
        },
        {
          text: 'reserved concurrency is a cap as well as a guarantee: raise it, or lower the traffic this function receives',
        },
      ],
    });
  }
}

/**
 * Throttles while the pool the function draws from (its reservation, or the shared pool) had room,
 * under the ranking's 90% "full" mark: it scaled faster than Lambda lets a function scale. Under
 * 70% use that is clear; between 70% and 90% a per-minute Maximum may hide a moment when the
 * pool was full, so the finding is less sure.
 */
function scalingRule(e: Evidence, findings: Finding[]): void {
  const metrics = e.metrics;
  if (!metrics) return;
  // The shared pool as the noisy-neighbour ranking measures it, so that "room" here is exactly
  // "not full" there.
  const poolSize = sharedPoolSizeOf(metrics);
  const unreservedAt = sharedPoolUseOf(metrics);
  for (const f of metrics.functions) {
    let throttlesWithRoom = 0;
    let at: number | undefined;
    // The pool the function draws from: its own reservation, or the shared pool.
    const size = f.reserved ?? poolSize;
    let highest = 0;
    f.series.throttles.timestampsMs.forEach((t, i) => {
      const th = f.series.throttles.values[i] ?? 0;
      if (th === 0) return;
      const used = f.reserved != null ? valueAt(f.series.concurrentExecutions, t) : unreservedAt(t);
      if (used < POOL_FULL_FRACTION * size) {
        throttlesWithRoom += th;
        at ??= t;
        highest = Math.max(highest, used);
      }
    });
    if (throttlesWithRoom === 0) continue;
    const clear = highest < 0.7 * size;
    const poolName =
      f.reserved != null ? `its reserved concurrency (${fmt(size)})` : `the shared pool (${fmt(size)})`;
    findings.push({
      code: 'scaling-rate-limit',
      title: `${f.name} was throttled while the account pool had room: it scaled faster than Lambda's scaling rate`,
      confidence: clear ? 0.6 : 0.45,
      impact: throttlesWithRoom,
      culprit: f.name,
      victims: [f.name],
      evidence: [
        {
          text: `${f.name}: ${fmt(throttlesWithRoom)} Throttles in periods where the use of ${poolName} stayed at or under ${pct(highest, size)}`,
          timeMs: at,
        },
        ...(clear
          ? []
          : [
              {
                text: 'that pool was over 70% used then: a per-minute Maximum can hide a moment when it was full',
              },
            ]),
        {
          text: 'each function may add 1,000 execution environments every 10 seconds; smooth the ramp or use provisioned concurrency',
        },
      ],
    });
  }
}

function reasonCounts(e: Evidence, set: Set<string>): { total: number; by: Record<string, number> } {
  const by: Record<string, number> = {};
  let total = 0;
  for (const [reason, n] of Object.entries(e.logs?.summary.byErrorReason ?? {})) {
    if (set.has(reason)) {
      by[reason] = n;
      total += n;
    }
  }
  return { total, by };
}

function errorRules(e: Evidence, findings: Finding[]): void {
  const unhandled = reasonCounts(e, LAMBDA_ERROR_REASONS);
  const metrics = e.metrics;
  const erroring = (metrics?.functions ?? [])
    .map((f) => ({ f, errors: sum(f.series.errors.values) }))
    .filter((x) => x.errors > 0)
    .sort((a, b) => b.errors - a.errors);
  const timeouts = erroring.filter(
    ({ f }) =>
      f.timeoutSec !== undefined &&
      Math.max(0, ...(f.series.durationMax?.values ?? [])) >= 0.98 * f.timeoutSec * 1000,
  );
  for (const { f, errors } of timeouts) {
    findings.push({
      code: 'function-timeout',
      title: `${f.name} runs into its ${f.timeoutSec} s timeout`,
      confidence: 0.8,
      impact: errors,
      culprit: f.name,
      victims: [f.name],
      evidence: [
        { text: `${f.name}: ${fmt(errors)} Errors; Duration Maximum reached the ${f.timeoutSec} s timeout` },
        ...(unhandled.total > 0
          ? [
              {
                text: `ALB logs: ${fmt(unhandled.total)} LambdaUnhandled (a timed-out invocation is unhandled)`,
              },
            ]
          : []),
      ],
    });
  }
  const rest = erroring.filter((x) => !timeouts.includes(x));
  if (unhandled.total > 0 || rest.length > 0) {
    findings.push({
      code: 'function-errors',
      title:
        rest.length > 0
          ? `${rest.map((x) => x.f.name).join(', ')} fail with unhandled errors`
          : 'Lambda functions fail with unhandled errors',
      confidence: unhandled.total > 0 && rest.length > 0 ? 0.85 : 0.65,
      impact: Math.max(unhandled.total, sum(rest.map((x) => x.errors))),
      culprit: rest[0]?.f.name,
      victims: rest.map((x) => x.f.name),
      evidence: [
        ...Object.entries(unhandled.by).map(([r, n]) => ({
          text: `ALB logs: ${fmt(n)} ${r} - ${errorReason(r)?.meaning ?? ''}`,
        })),
        ...rest.map((x) => ({ text: `${x.f.name}: ${fmt(x.errors)} Errors in CloudWatch` })),
        {
          text: "read the functions' own CloudWatch Logs at those times: unlike throttles, these invocations ran and logged",
        },
      ],
    });
  }
  const invalid = reasonCounts(e, INVALID_RESPONSE_REASONS);
  if (invalid.total > 0) {
    findings.push({
      code: 'invalid-response',
      title: 'a Lambda function returns responses the load balancer cannot use',
      confidence: 0.9,
      impact: invalid.total,
      evidence: Object.entries(invalid.by).map(([r, n]) => ({
        text: `ALB logs: ${fmt(n)} ${r} - ${errorReason(r)?.meaning ?? ''}`,
      })),
    });
  }
  const targetReasons: Record<string, number> = {};
  let targetTotal = 0;
  for (const [r, n] of Object.entries(e.logs?.summary.byErrorReason ?? {})) {
    const entry = errorReason(r);
    if (r.startsWith('Lambda') || entry?.group === 'authentication') continue;
    targetReasons[r] = n;
    targetTotal += n;
  }
  if (targetTotal > 0) {
    findings.push({
      code: 'target-errors',
      title: 'targets behind the load balancer fail (not Lambda)',
      confidence: 0.75,
      impact: targetTotal,
      evidence: Object.entries(targetReasons).map(([r, n]) => ({
        text: `ALB logs: ${fmt(n)} ${r} - ${errorReason(r)?.meaning ?? 'undocumented reason'}`,
      })),
    });
  }
}

/** Evidence from the probe and its join to the logs, prepended to the root cause's evidence. */
function probeEvidence(e: Evidence): EvidenceLine[] {
  const probe = e.probe;
  if (!probe) return [];
  const lines: EvidenceLine[] = [];
  const episodes = sum(probe.urls.map((u) => u.episodes.length));
  lines.push({
    text: `probe: ${fmt(probe.failed)} of ${fmt(probe.total)} requests failed (${pct(probe.failed, probe.total)}) on ${probe.urls.length} URL(s), in ${fmt(episodes)} failure streak(s)${
      probe.runsTest
        ? ` (runs test z=${probe.runsTest.z.toFixed(1)}, p=${probe.runsTest.p.toExponential(1)}: ${probe.runsTest.clustered ? 'failures cluster in streaks' : 'failures look random'})`
        : ''
    }`,
  });
  const failingUrls = probe.urls.filter((u) => u.failed > 0);
  if (failingUrls.length > 1) {
    lines.push({
      text: `${failingUrls.length} different URLs failed at the same time: the cause is shared, not one function's bug`,
    });
  }
  if (e.logs && probe.failures.length > 0) {
    let found = 0;
    const reasons: Record<string, number> = {};
    for (const f of probe.failures) {
      if (!f.traceRoot) continue;
      const logged: LoggedFailure | undefined = e.logs.failuresByTraceRoot.get(f.traceRoot);
      if (!logged) continue;
      found++;
      const r = logged.errorReason ?? `elb ${logged.elbStatusCode}`;
      reasons[r] = (reasons[r] ?? 0) + 1;
    }
    const list = Object.entries(reasons)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${fmt(n)} ${r}`)
      .join(', ');
    lines.push({
      text: `ALB logs: ${fmt(found)} of ${fmt(probe.failures.length)} probe failures found by trace id${list ? `: ${list}` : ''}`,
    });
    // The ALB delivers a log file every 5 minutes: failures newer than its last entry cannot be
    // in the logs yet, which is not evidence against them.
    const lastLogged = e.logs.summary.lastTime ? Date.parse(e.logs.summary.lastTime) : Number.NaN;
    const unmatched = probe.failures.length - found;
    if (unmatched > 0 && Number.isFinite(lastLogged)) {
      const newer = probe.failures.filter(
        (f) => f.timeMs > lastLogged && !(f.traceRoot && e.logs?.failuresByTraceRoot.has(f.traceRoot)),
      ).length;
      if (newer > 0) {
        lines.push({
          text: `${fmt(newer)} of the ${fmt(unmatched)} not found are newer than the last log entry (${isoUtc(lastLogged)}): the ALB delivers its logs every 5 minutes, so diagnose again after the next delivery to match them`,
        });
      }
    }
  }
  const origins: Record<string, number> = {};
  for (const f of probe.failures) if (f.origin) origins[f.origin] = (origins[f.origin] ?? 0) + 1;
  if ((origins.alb ?? 0) > 0)
    lines.push({
      text: `${fmt(origins.alb ?? 0)} failures carried Server: awselb/2.0: the load balancer itself answered`,
    });
  return lines;
}

/** What each transport failure class of the probe usually means, and what to check next. */
const TRANSPORT_KINDS: Record<string, { meaning: string; next: string }> = {
  refused: {
    meaning: 'connection refused: nothing listens on that address and port',
    next: "check the URL's host and port, that the load balancer and its listener exist on that port, and that nothing in between answers with a reset",
  },
  dns: {
    meaning: 'the host name does not resolve',
    next: 'check the spelling, the DNS record (Route 53 alias or CNAME to the load balancer or distribution) and the resolver the client uses',
  },
  tls: {
    meaning:
      'the TLS handshake failed: certificate or SNI mismatch, an expired certificate, or an untrusted chain',
    next: "check that the listener's certificate covers the host name the client sends (SNI), is valid today, and chains to a CA the client trusts",
  },
  reset: {
    meaning: 'the connection was dropped or reset: the load balancer or a proxy closed it',
    next: "check idle timeouts (the client's keep-alive must be shorter than the load balancer's), proxies, and connection limits",
  },
  timeout: {
    meaning: 'no answer within the timeout',
    next: 'check security groups and network ACLs (a dropped packet times out where a closed port is refused), routing, and whether the endpoint is overloaded; compare with the probe --timeout',
  },
  other: {
    meaning: 'another transport error (no HTTP answer)',
    next: "read the probe's failures.har for the error message",
  },
};
const TRANSPORT_ORDER = ['refused', 'dns', 'tls', 'reset', 'timeout', 'other'];

/** Probe failures with no HTTP answer (a transport error instead of a status). */
const transportFailures = (e: Evidence) =>
  (e.probe?.failures ?? []).filter((f) => f.status === null && f.errorClass !== null);

const byKindText = (counts: Record<string, number>) =>
  TRANSPORT_ORDER.filter((k) => (counts[k] ?? 0) > 0)
    .map((k) => `${fmt(counts[k] ?? 0)} ${k}`)
    .join(', ');

/** Logged 5xx, plus logged entries below 500 that carry an error_reason (e.g. 401 authentication failures). */
function loggedFailures(e: Evidence): number {
  const summary = e.logs?.summary;
  if (!summary) return 0;
  let n = 0;
  for (const [status, count] of Object.entries(summary.byElbStatus)) if (status.startsWith('5')) n += count;
  const fiveXxByReason: Record<string, number> = {};
  for (const m of summary.series)
    for (const [r, c] of Object.entries(m.fiveXx)) fiveXxByReason[r] = (fiveXxByReason[r] ?? 0) + c;
  for (const [r, c] of Object.entries(summary.byErrorReason)) n += Math.max(0, c - (fiveXxByReason[r] ?? 0));
  return n;
}

/**
 * Logged reasons that no rule reads: Lambda codes outside the sets the error rules know (VPC, KMS,
 * permissions, undocumented ones) and authentication codes (target-errors reads every other group,
 * undocumented ones too).
 */
function unreadReasons(e: Evidence): { total: number; by: Record<string, number> } {
  const by: Record<string, number> = {};
  let total = 0;
  for (const [r, n] of Object.entries(e.logs?.summary.byErrorReason ?? {})) {
    if (LAMBDA_ERROR_REASONS.has(r) || INVALID_RESPONSE_REASONS.has(r) || r === 'LambdaThrottling') continue;
    if (!r.startsWith('Lambda') && errorReason(r)?.group !== 'authentication') continue;
    by[r] = n;
    total += n;
  }
  return { total, by };
}

/** The probe's requests got no HTTP answer: the endpoint is unreachable, whatever runs behind it. */
function endpointUnreachableRule(e: Evidence, findings: Finding[]): void {
  const transport = transportFailures(e);
  if (transport.length === 0) return;
  const counts: Record<string, number> = {};
  for (const f of transport) counts[f.errorClass as string] = (counts[f.errorClass as string] ?? 0) + 1;
  const urls = new Map<string, { counts: Record<string, number>; first: number; last: number; n: number }>();
  for (const f of transport) {
    const u = urls.get(f.url) ?? { counts: {}, first: f.timeMs, last: f.timeMs, n: 0 };
    u.counts[f.errorClass as string] = (u.counts[f.errorClass as string] ?? 0) + 1;
    u.first = Math.min(u.first, f.timeMs);
    u.last = Math.max(u.last, f.timeMs);
    u.n++;
    urls.set(f.url, u);
  }
  const failures = (e.probe?.failed ?? 0) + loggedFailures(e);
  const share = failures === 0 ? 1 : transport.length / failures;
  const first = Math.min(...transport.map((f) => f.timeMs));
  const last = Math.max(...transport.map((f) => f.timeMs));
  const total = e.probe?.total ?? transport.length;
  const urlNames = [...urls.keys()];
  findings.push({
    code: 'endpoint-unreachable',
    title: `${urlNames.length === 1 ? urlNames[0] : `${urlNames.length} URLs`} cannot be reached: ${fmt(transport.length)} of ${fmt(total)} probe requests got no HTTP answer (${byKindText(counts)})`,
    confidence: 0.5 + 0.45 * share,
    impact: transport.length,
    evidence: [
      {
        text: `probe: ${fmt(transport.length)} transport failures with no HTTP answer: ${byKindText(counts)}; first ${isoUtc(first)}, last ${isoUtc(last)}`,
        timeMs: first,
      },
      ...[...urls.entries()].map(([url, u]) => ({
        text: `${url}: ${fmt(u.n)} of ${fmt(e.probe?.urls.find((x) => x.url === url)?.total ?? u.n)} requests unanswered (${byKindText(u.counts)}), ${isoUtc(u.first)} to ${isoUtc(u.last)}`,
        timeMs: u.first,
      })),
      ...TRANSPORT_ORDER.filter((k) => (counts[k] ?? 0) > 0).map((k) => ({
        text: `${k}: ${TRANSPORT_KINDS[k]?.meaning}; next: ${TRANSPORT_KINDS[k]?.next}`,
      })),
      {
        text: 'no HTTP status came back, so no target answered these requests: Lambda concurrency is not what failed them, and reserved concurrency will not fix them',
      },
    ],
  });
}

/** Who answered the probe's failed requests, from the response fingerprints (classify.ts). */
const HOP_NAMES: Record<string, string> = {
  alb: 'the load balancer itself (Server: awselb/2.0)',
  cloudfront: 'CloudFront',
  'api-gateway': 'API Gateway',
  'function-url': 'a Lambda function URL',
  application: 'the application',
  network: 'no one (transport failure)',
};

/**
 * Failures that no rule explains: never "healthy". Lists what was seen and, as gaps, which
 * missing evidence would tell.
 */
function unexplainedFinding(e: Evidence, failures: number, gaps: string[]): Finding {
  const probe = e.probe;
  const probeFailed = probe?.failed ?? 0;
  const logged = loggedFailures(e);
  const evidence: EvidenceLine[] = [];
  const statuses: Record<string, number> = {};
  const hops: Record<string, number> = {};
  for (const f of probe?.failures ?? []) {
    const s = f.status === null ? (f.errorClass ?? 'no answer') : String(f.status);
    statuses[s] = (statuses[s] ?? 0) + 1;
    if (f.origin) hops[f.origin] = (hops[f.origin] ?? 0) + 1;
  }
  const list = (m: Record<string, number>, name: (k: string) => string = (k) => k) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${name(k)} x${fmt(n)}`)
      .join(', ');
  if (probeFailed > 0) evidence.push({ text: `probe: failed requests by status: ${list(statuses)}` });
  if (Object.keys(hops).length > 0)
    evidence.push({ text: `probe: who answered them: ${list(hops, (k) => HOP_NAMES[k] ?? k)}` });
  const summary = e.logs?.summary;
  if (summary) {
    const loggedErrors = Object.fromEntries(
      Object.entries(summary.byElbStatus).filter(([s]) => Number(s) >= 400),
    );
    if (Object.keys(loggedErrors).length > 0)
      evidence.push({ text: `ALB logs: error statuses: ${list(loggedErrors)}` });
    for (const [r, n] of Object.entries(summary.byErrorReason).sort((a, b) => b[1] - a[1]))
      evidence.push({ text: `ALB logs: ${fmt(n)} ${r} - ${errorReason(r)?.meaning ?? UNDOCUMENTED_REASON}` });
    if (Object.keys(summary.byErrorReason).length === 0 && logged > 0)
      evidence.push({ text: 'ALB logs: the failed entries carry no error_reason' });
  }
  const albAnswers = (probe?.failures ?? []).filter((f) => f.origin === 'alb');
  const alb502 = albAnswers.filter((f) => f.status === 502).length;
  let title = `unexplained: ${fmt(probeFailed)} probe failures and ${fmt(logged)} logged failures match no known cause`;
  if (albAnswers.length > 0 && !e.logs) {
    const hosts = [...new Set(albAnswers.map((f) => hostOf(f.url)))];
    const statusText =
      alb502 === albAnswers.length ? `${fmt(alb502)} 502s` : `${fmt(albAnswers.length)} errors`;
    title = `unexplained: the load balancer${hosts.length > 0 ? ` behind ${hosts.join(', ')}` : ''} itself answered ${statusText} (Server: awselb/2.0); its access logs (--logs) give the reason`;
    evidence.push({
      text: `the load balancer generated these responses itself, so the error_reason of each is in its access log: run diagnose again with --logs s3://<log bucket>/<prefix> (the load balancer's access_logs.s3 attributes) for the same window; with Lambda targets, LambdaThrottling there means Lambda refused the invoke for want of concurrency`,
    });
  }
  const hasGap = (start: string) => gaps.some((g) => g.startsWith(start));
  if (!e.logs && !hasGap('no ALB access logs given'))
    gaps.push(
      'no ALB access logs given (--logs): they would give the error_reason of each failure the load balancer answered',
    );
  if (!e.metrics)
    gaps.push(
      'no CloudWatch access: Lambda Throttles, Errors and ConcurrentExecutions would tell throttling from function errors (credentials, or --endpoint-url for the lab)',
    );
  if (!probe)
    gaps.push(
      'no probe run given (--probe): which hop answered the failures (response fingerprints) is unknown',
    );
  return {
    code: 'unexplained',
    title,
    confidence: 0.5,
    impact: failures,
    evidence,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Runs every rule and picks the root cause: the most confident finding with the largest impact. */
export function diagnose(e: Evidence): Diagnosis {
  const findings: Finding[] = [];
  accountConcurrencyRule(e, findings);
  reservedTooLowRule(e, findings);
  scalingRule(e, findings);
  errorRules(e, findings);
  endpointUnreachableRule(e, findings);
  findings.sort((a, b) => b.confidence * b.impact - a.confidence * a.impact);
  const gaps = [...e.gaps, ...(e.metrics?.warnings ?? [])];
  const probeLines = probeEvidence(e);
  const top = findings[0];
  const chain: { step: string; detail: string }[] = [];
  for (const l of probeLines) chain.push({ step: 'symptom', detail: l.text });
  // Fail closed: "healthy" only when the evidence holds no failure at all.
  const failures = (e.probe?.failed ?? 0) + loggedFailures(e);
  if (!top && failures === 0) {
    return {
      rootCause: 'healthy',
      headline: 'healthy: no failures in the evidence',
      culprit: null,
      victims: [],
      confidence: 0.8,
      findings: [],
      evidenceChain: chain,
      gaps,
    };
  }
  if (!top) {
    const finding = unexplainedFinding(e, failures, gaps);
    findings.push(finding);
    return finish(finding, findings, chain, probeLines, gaps);
  }
  // Reasons no rule reads (undocumented Lambda or authentication codes) are not dropped: listed as
  // a further finding, which becomes the root cause if it outweighs the others.
  const unread = unreadReasons(e);
  if (unread.total > 0) {
    findings.push({
      code: 'unexplained',
      title: `unexplained: ${fmt(unread.total)} logged failures carry an error_reason no rule reads`,
      confidence: 0.5,
      impact: unread.total,
      evidence: Object.entries(unread.by).map(([r, n]) => ({
        text: `ALB logs: ${fmt(n)} ${r} - ${errorReason(r)?.meaning ?? UNDOCUMENTED_REASON}`,
      })),
    });
    findings.sort((a, b) => b.confidence * b.impact - a.confidence * a.impact);
  }
  return finish(findings[0] as Finding, findings, chain, probeLines, gaps);
}

function finish(
  top: Finding,
  findings: Finding[],
  chain: { step: string; detail: string }[],
  probeLines: EvidenceLine[],
  gaps: string[],
): Diagnosis {
  for (const l of top.evidence) chain.push({ step: 'cause', detail: l.text });
  if (probeLines.length > 0) top.evidence.unshift(...probeLines);
  return {
    rootCause: top.code,
    headline: top.title,
    culprit: top.culprit ?? null,
    victims: top.victims ?? [],
    confidence: top.confidence,
    findings,
    evidenceChain: chain,
    gaps,
  };
}
