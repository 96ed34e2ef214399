import { ThrottlescopeError } from '../common/errors.js';
import type { MetricsEvidence } from '../diagnose/evidence.js';
import type { Diagnosis } from '../diagnose/rules.js';
import { seriesMax, seriesSum } from '../metrics/series.js';
import { plannedFromMetrics, unreservedMinimumFor } from '../plan/from-metrics.js';
import { type Recommendation, recommendReserved } from '../plan/recommend.js';

export { unreservedMinimumFor };

export interface ConcurrencyChange {
  function: string;
  /** Reserved concurrency now; null = none (shared pool). */
  before: number | null;
  after: number | null;
}

export interface FixPlan {
  /** The function the fix is about (the culprit), and the value it gets. */
  function: string;
  reservedConcurrency: number;
  changes: ConcurrencyChange[];
  reasoning: string[];
  /** Equivalent commands and infrastructure-as-code snippets, per tool. */
  snippets: { awsCli: string; terraform: string; sam: string; cdk: string };
  plan?: Recommendation | undefined;
}

export interface FixOptions {
  /** Acceptable throttle probability for the functions behind the ALB (default 0.001). */
  targetBlocking?: number | undefined;
  /** Override the unreserved minimum (AWS: 100; a lab scenario may scale it). */
  unreservedMinimum?: number | undefined;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function snippets(changes: ConcurrencyChange[]): FixPlan['snippets'] {
  const set = changes.filter((c) => c.after !== null);
  const awsCli = changes
    .map((c) =>
      c.after === null
        ? `aws lambda delete-function-concurrency --function-name ${c.function}`
        : `aws lambda put-function-concurrency --function-name ${c.function} --reserved-concurrent-executions ${c.after}`,
    )
    .join('\n');
  const terraform = set
    .map(
      (c) =>
        `resource "aws_lambda_function" "${c.function.replace(/[^A-Za-z0-9_]/g, '_')}" {\n  # ...\n  reserved_concurrent_executions = ${c.after}\n}`,
    )
    .join('\n\n');
  const sam = set
    .map(
      (c) =>
        `  ${c.function.replace(/[^A-Za-z0-9]/g, '')}:\n    Type: AWS::Serverless::Function\n    Properties:\n      ReservedConcurrentExecutions: ${c.after}`,
    )
    .join('\n');
  const cdk = set
    .map(
      (c) =>
        `new lambda.Function(this, '${c.function}', {\n  // ...\n  reservedConcurrentExecutions: ${c.after},\n});`,
    )
    .join('\n\n');
  return { awsCli, terraform, sam: `Resources:\n${sam}`, cdk };
}

/** The first line of every plan's reasoning: what AWS lets the account reserve. */
const reservableReason = (limit: number, unreservedMinimum: number) =>
  `account limit ${limit}, AWS keeps ${unreservedMinimum} unreserved, so at most ${limit - unreservedMinimum} can be reserved in all`;

/**
 * Several functions together exhaust the shared pool and none dominates it: capping one would leave
 * the others to fill it. What protects the starved functions is a guarantee of their own, sized by
 * the planner (Erlang B) from their observed load; the busy functions keep sharing what is left.
 */
function guaranteeVictims(diagnosis: Diagnosis, metrics: MetricsEvidence, options: FixOptions): FixPlan {
  const limit = metrics.account.limit;
  const unreservedMinimum = options.unreservedMinimum ?? unreservedMinimumFor(limit);
  const victims = new Set(diagnosis.victims);
  const noFix = (why: string) =>
    new ThrottlescopeError(
      'TS_FIX_NO_CULPRIT',
      `no single function to cap: ${diagnosis.headline}. ${why}; reserve concurrency for the functions that must not be throttled (${diagnosis.victims.join(', ') || 'the victims'}), cap the busy ones together, or raise the account limit`,
    );
  const functions = metrics.functions
    .filter((f) => victims.has(f.name) || f.reserved != null || seriesSum(f.series.invocations) > 0)
    .map((f) => plannedFromMetrics(f, metrics.window, victims.has(f.name)));
  if (!functions.some((f) => f.albFacing)) throw noFix('no throttled function to protect');
  let plan: Recommendation;
  try {
    plan = recommendReserved(
      { accountLimit: limit, unreservedMinimum, functions },
      { targetBlocking: options.targetBlocking },
    );
  } catch (error) {
    if ((error as { code?: string }).code !== 'TS_PLAN_INFEASIBLE') throw error;
    throw noFix(`their guarantees do not fit in what the account may reserve (${(error as Error).message})`);
  }
  const changes = plan.functions
    .filter((r) => (r.recommended ?? null) !== (r.current ?? null))
    .map((r) => ({ function: r.name, before: r.current ?? null, after: r.recommended ?? null }));
  const main = [...changes].sort((a, b) => (b.after ?? 0) - (a.after ?? 0))[0];
  if (!main) throw noFix('the planner finds that their load needs no guarantee');
  const reasoning = [
    reservableReason(limit, unreservedMinimum),
    `no single function holds the exhausted shared pool (${diagnosis.headline}): capping one would leave the others to fill it, so the throttled functions get guarantees instead`,
    ...plan.functions.filter((r) => r.reason && victims.has(r.name)).map((r) => `${r.name}: ${r.reason}`),
    ...plan.warnings,
  ];
  return {
    function: main.function,
    reservedConcurrency: main.after ?? 0,
    changes,
    reasoning,
    snippets: snippets(changes),
    plan,
  };
}

/**
 * Turns a diagnosis into reserved-concurrency changes, with the planner's queueing model sizing
 * the numbers from observed load: the culprit is capped no lower than its own needs, the victims
 * behind the ALB get a guarantee when they need one, and the AWS unreserved minimum is respected.
 */
export function recommendFix(
  diagnosis: Diagnosis,
  metrics: MetricsEvidence | undefined,
  options: FixOptions = {},
): FixPlan {
  if (diagnosis.rootCause === 'endpoint-unreachable') {
    throw new ThrottlescopeError(
      'TS_FIX_NO_CULPRIT',
      `no concurrency change recommended: ${diagnosis.headline}. The failing requests got no HTTP answer, so no Lambda function was invoked or throttled for them and reserved concurrency cannot help; fix reachability first (the diagnosis lists what each kind of failure means and what to check), then probe again`,
    );
  }
  if (diagnosis.rootCause === 'unexplained') {
    const missing = diagnosis.gaps.length > 0 ? ` (missing: ${diagnosis.gaps.join('; ')})` : '';
    throw new ThrottlescopeError(
      'TS_FIX_NO_CULPRIT',
      `no concurrency change recommended: ${diagnosis.headline}. Nothing in the evidence shows throttling, and reserving concurrency without it could take capacity from other functions; give the missing evidence and diagnose again${missing}`,
    );
  }
  const culpritName = diagnosis.culprit;
  const sharedExhaustion = !culpritName && diagnosis.rootCause === 'account-concurrency-exhausted';
  if (!culpritName && !sharedExhaustion) {
    throw new ThrottlescopeError(
      'TS_FIX_NO_CULPRIT',
      `nothing to fix: the diagnosis (${diagnosis.rootCause}) names no function`,
    );
  }
  if (!metrics) {
    throw new ThrottlescopeError(
      'TS_FIX_NO_METRICS',
      'cannot size reserved concurrency without CloudWatch metrics (ConcurrentExecutions, Invocations, Duration): give AWS credentials or an endpoint such as the lab',
    );
  }
  if (!culpritName) return guaranteeVictims(diagnosis, metrics, options);
  const limit = metrics.account.limit;
  const unreservedMinimum = options.unreservedMinimum ?? unreservedMinimumFor(limit);
  const culprit = metrics.functions.find((f) => f.name === culpritName);
  if (!culprit) {
    throw new ThrottlescopeError(
      'TS_FIX_NO_CULPRIT',
      `the culprit ${culpritName} has no metrics in the window`,
    );
  }
  const victims = new Set(diagnosis.victims);
  const reasoning: string[] = [];
  let plan: Recommendation | undefined;
  let changes: ConcurrencyChange[];
  if (diagnosis.rootCause === 'function-reserved-concurrency-too-low') {
    // The function throttles itself: raise its cap to what its load needs, within what is reservable.
    const f = plannedFromMetrics(culprit, metrics.window, true);
    plan = recommendReserved(
      { accountLimit: limit, unreservedMinimum, functions: [{ ...f, reserved: undefined }] },
      { targetBlocking: options.targetBlocking },
    );
    const rec = plan.functions[0];
    const after = rec?.recommended ?? Math.max(1, (culprit.reserved ?? 0) * 2);
    changes = [{ function: culprit.name, before: culprit.reserved ?? null, after }];
    reasoning.push(
      `${culprit.name} is throttled at its own reserved concurrency ${culprit.reserved}; its load needs ${after}`,
    );
  } else {
    const functions = metrics.functions
      .filter(
        (f) =>
          f.name === culpritName ||
          victims.has(f.name) ||
          f.reserved != null ||
          seriesSum(f.series.invocations) > 0,
      )
      .map((f) => plannedFromMetrics(f, metrics.window, f.name !== culpritName && victims.has(f.name)));
    // The culprit's observed peak is the runaway itself, not a need: it is sized from its load.
    try {
      plan = recommendReserved(
        { accountLimit: limit, unreservedMinimum, functions },
        { culprit: culpritName, targetBlocking: options.targetBlocking },
      );
      changes = plan.functions
        .filter((r) => (r.recommended ?? null) !== (r.current ?? null))
        .map((r) => ({ function: r.name, before: r.current ?? null, after: r.recommended ?? null }));
      for (const r of plan.functions) if (r.reason) reasoning.push(`${r.name}: ${r.reason}`);
      reasoning.push(...plan.warnings);
    } catch (error) {
      if ((error as { code?: string }).code !== 'TS_PLAN_INFEASIBLE') throw error;
      // Its demand exceeds what can be reserved at all: cap it at what leaves the others their share.
      const othersPeak = sum(
        metrics.functions
          .filter((f) => f.name !== culpritName && f.reserved == null)
          .map((f) => seriesMax(f.series.concurrentExecutions)),
      );
      const reservedElsewhere = sum(
        metrics.functions.filter((f) => f.name !== culpritName).map((f) => f.reserved ?? 0),
      );
      const room = limit - unreservedMinimum - reservedElsewhere;
      const cap = Math.max(
        1,
        Math.min(room, limit - reservedElsewhere - Math.max(unreservedMinimum, 2 * othersPeak)),
      );
      changes = [{ function: culpritName, before: culprit.reserved ?? null, after: cap }];
      reasoning.push(
        `${culpritName}'s demand is more than the account can reserve (${(error as Error).message}); capped at ${cap}, leaving ${limit - reservedElsewhere - cap} for the functions that share the pool (their peak: ${othersPeak})`,
      );
    }
  }
  const culpritChange = changes.find((c) => c.function === culpritName);
  const value = culpritChange?.after ?? culprit.reserved ?? 0;
  const peak = seriesMax(culprit.series.concurrentExecutions);
  reasoning.unshift(
    reservableReason(limit, unreservedMinimum),
    `${culpritName} peaked at ${peak} concurrent executions with ${culprit.reserved == null ? 'no reserved concurrency' : `reserved ${culprit.reserved}`}`,
  );
  return {
    function: culpritName,
    reservedConcurrency: value,
    changes,
    reasoning,
    snippets: snippets(changes),
    plan,
  };
}
