import { isoUtc } from '../common/time.js';
import { errorReason } from '../logs/error-reasons.js';
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

/** Minutes (bucket starts) with throttling, from logs and from metrics. */
function throttledBuckets(e: Evidence): { fromLogs: Map<number, number>; fromMetrics: Map<number, number> } {
  const fromLogs = new Map<number, number>();
  for (const m of e.logs?.summary.series ?? []) {
    const n = m.fiveXx.LambdaThrottling ?? 0;
    if (n > 0) fromLogs.set(Date.parse(m.minute), n);
  }
  const fromMetrics = new Map<number, number>();
  const metrics = e.metrics;
  if (metrics) {
    const add = (s: TimeSeries) =>
      s.timestampsMs.forEach((t, i) => {
        const v = s.values[i] ?? 0;
        if (v > 0) fromMetrics.set(t, (fromMetrics.get(t) ?? 0) + v);
      });
    for (const f of metrics.functions) add(f.series.throttles);
  }
  return { fromLogs, fromMetrics };
}

/** Map log minutes onto metric buckets (periods may be longer than a minute). */
function bucketOf(metrics: MetricsEvidence, t: number): number {
  const p = metrics.window.periodSec * 1000;
  return t - (((t % p) + p) % p);
}

function accountConcurrencyRule(e: Evidence, findings: Finding[]): void {
  const { fromLogs, fromMetrics } = throttledBuckets(e);
  const logThrottles = sum([...fromLogs.values()]);
  const metrics = e.metrics;
  if (logThrottles === 0 && fromMetrics.size === 0) return;
  if (!metrics) {
    findings.push({
      code: 'account-concurrency-exhausted',
      title: 'Lambda throttling behind the load balancer (cause not confirmed: no CloudWatch metrics)',
      confidence: 0.4,
      impact: logThrottles,
      evidence: [
        {
          text: `ALB logs: ${fmt(logThrottles)} requests answered 502 LambdaThrottling in ${fromLogs.size} minute(s)`,
        },
        {
          text: 'without Lambda ConcurrentExecutions the function that holds the pool cannot be named: add CloudWatch access',
        },
      ],
    });
    return;
  }
  const buckets = new Set<number>([...fromMetrics.keys()]);
  for (const t of fromLogs.keys()) buckets.add(bucketOf(metrics, t));
  const times = [...buckets].sort((a, b) => a - b);
  const limit = metrics.account.limit;
  const reservedTotal = sum(metrics.functions.map((f) => f.reserved ?? 0));
  const poolSize = limit - reservedTotal;
  let fullBuckets = 0;
  let peak = 0;
  const shares = new Map<string, number[]>();
  for (const t of times) {
    const account = valueAt(metrics.accountSeries.concurrentExecutions, t);
    const unreserved =
      metrics.accountSeries.unreservedConcurrentExecutions !== undefined
        ? valueAt(metrics.accountSeries.unreservedConcurrentExecutions, t)
        : sum(
            metrics.functions
              .filter((f) => f.reserved == null)
              .map((f) => valueAt(f.series.concurrentExecutions, t)),
          );
    peak = Math.max(peak, account);
    if (unreserved >= 0.9 * poolSize || account >= 0.9 * limit) fullBuckets++;
    for (const f of metrics.functions) {
      const c = valueAt(f.series.concurrentExecutions, t);
      const list = shares.get(f.name) ?? [];
      list.push(account > 0 ? Math.min(1, c / account) : 0);
      shares.set(f.name, list);
    }
  }
  const ranking = metrics.functions
    .map((f) => ({ f, share: sum(shares.get(f.name) ?? []) / Math.max(1, times.length) }))
    .sort((a, b) => b.share - a.share);
  const throttledFns = metrics.functions
    .map((f) => ({ name: f.name, throttles: sum(f.series.throttles.values), reserved: f.reserved }))
    .filter((f) => f.throttles > 0);
  const fullFraction = times.length === 0 ? 0 : fullBuckets / times.length;
  const top = ranking[0];
  const topShare = top?.share ?? 0;
  const culprit = top && top.f.reserved == null && topShare >= 0.4 ? top.f : undefined;
  if (fullFraction < 0.5 || !culprit) return;
  const victims = throttledFns.filter((f) => f.name !== culprit.name).map((f) => f.name);
  const metricThrottles = sum([...fromMetrics.values()]);
  const first = times[0] as number;
  const last = times[times.length - 1] as number;
  const evidence: { text: string; timeMs?: number }[] = [];
  if (logThrottles > 0) {
    evidence.push({
      text: `ALB logs: ${fmt(logThrottles)} requests answered 502 LambdaThrottling in ${fromLogs.size} minute(s), ${isoUtc(Math.min(...fromLogs.keys()))} .. ${isoUtc(Math.max(...fromLogs.keys()))}`,
      timeMs: Math.min(...fromLogs.keys()),
    });
  }
  evidence.push({
    text: `CloudWatch: account ConcurrentExecutions peaked at ${fmt(peak)} of the ${fmt(limit)} limit (${fmt(reservedTotal)} reserved, shared pool ${fmt(poolSize)}); the pool was full in ${fullBuckets} of ${times.length} throttled period(s)`,
    timeMs: first,
  });
  evidence.push({
    text: `${culprit.name} held ${(topShare * 100).toFixed(0)}% of account concurrency while throttling happened, with no reserved concurrency (its peak: ${fmt(Math.max(0, ...culprit.series.concurrentExecutions.values))})`,
  });
  for (const r of ranking.slice(1, 4)) {
    evidence.push({
      text: `${r.f.name}: ${(r.share * 100).toFixed(0)}% of account concurrency, reserved ${r.f.reserved ?? 'none'}`,
    });
  }
  if (victims.length > 0) {
    evidence.push({
      text: `throttled: ${throttledFns
        .filter((f) => f.name !== culprit.name)
        .map((f) => `${f.name} (${fmt(f.throttles)} Throttles)`)
        .join(', ')} between ${isoUtc(first)} and ${isoUtc(last)}`,
    });
  }
  findings.push({
    code: 'account-concurrency-exhausted',
    title: `${culprit.name} exhausts the account's shared Lambda concurrency and starves ${victims.length > 0 ? victims.join(', ') : 'the other functions'}`,
    confidence: Math.min(
      0.97,
      0.55 + 0.25 * fullFraction + (logThrottles > 0 ? 0.15 : 0) + (topShare >= 0.5 ? 0.05 : 0),
    ),
    impact: Math.max(logThrottles, metricThrottles),
    culprit: culprit.name,
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

function scalingRule(e: Evidence, findings: Finding[]): void {
  const metrics = e.metrics;
  if (!metrics) return;
  const limit = metrics.account.limit;
  for (const f of metrics.functions) {
    let throttlesWithRoom = 0;
    let at: number | undefined;
    f.series.throttles.timestampsMs.forEach((t, i) => {
      const th = f.series.throttles.values[i] ?? 0;
      if (th === 0) return;
      const account = valueAt(metrics.accountSeries.concurrentExecutions, t);
      const own = valueAt(f.series.concurrentExecutions, t);
      const capped = f.reserved != null && own >= 0.9 * f.reserved;
      if (account < 0.7 * limit && !capped) {
        throttlesWithRoom += th;
        at ??= t;
      }
    });
    if (throttlesWithRoom === 0) continue;
    findings.push({
      code: 'scaling-rate-limit',
      title: `${f.name} was throttled while the account pool had room: it scaled faster than Lambda's scaling rate`,
      confidence: 0.6,
      impact: throttlesWithRoom,
      culprit: f.name,
      victims: [f.name],
      evidence: [
        {
          text: `${f.name}: ${fmt(throttlesWithRoom)} Throttles in periods where account concurrency stayed under 70% of ${fmt(limit)}`,
          timeMs: at,
        },
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
  }
  const origins: Record<string, number> = {};
  for (const f of probe.failures) if (f.origin) origins[f.origin] = (origins[f.origin] ?? 0) + 1;
  if ((origins.alb ?? 0) > 0)
    lines.push({
      text: `${fmt(origins.alb ?? 0)} failures carried Server: awselb/2.0: the load balancer itself answered`,
    });
  return lines;
}

/** Runs every rule and picks the root cause: the most confident finding with the largest impact. */
export function diagnose(e: Evidence): Diagnosis {
  const findings: Finding[] = [];
  accountConcurrencyRule(e, findings);
  reservedTooLowRule(e, findings);
  scalingRule(e, findings);
  errorRules(e, findings);
  findings.sort((a, b) => b.confidence * b.impact - a.confidence * a.impact);
  const gaps = [...e.gaps, ...(e.metrics?.warnings ?? [])];
  const probeLines = probeEvidence(e);
  const top = findings[0];
  const chain: { step: string; detail: string }[] = [];
  for (const l of probeLines) chain.push({ step: 'symptom', detail: l.text });
  if (!top) {
    const failed = e.probe?.failed ?? 0;
    const fiveXx = Object.entries(e.logs?.summary.byElbStatus ?? {})
      .filter(([s]) => s.startsWith('5'))
      .reduce((n, [, v]) => n + v, 0);
    const headline =
      failed + fiveXx === 0
        ? 'healthy: no failures in the evidence'
        : `no known cause matched ${fmt(failed)} probe failures and ${fmt(fiveXx)} logged 5xx`;
    return {
      rootCause: 'healthy',
      headline,
      culprit: null,
      victims: [],
      confidence: failed + fiveXx === 0 ? 0.8 : 0.3,
      findings: [],
      evidenceChain: chain,
      gaps,
    };
  }
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
