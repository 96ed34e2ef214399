/**
 * The noisy-neighbour ranking: pure, a function of the collected series only (docs/metrics.md).
 *
 * 1. Throttled periods: any function's or the account's `Throttles` > 0, any ALB series'
 *    `HTTPCode_ELB_502_Count` / `LambdaUserError` > 0, or any `loggedThrottles` > 0 (throttles the
 *    caller saw outside CloudWatch, such as diagnose's ALB access-log `LambdaThrottling`).
 * 2. In each, a function's share of the account = its `ConcurrentExecutions` Maximum / the account's
 *    (clamped to [0, 1]); `share` is the mean over the throttled periods.
 * 3. The shared (unreserved) pool = account limit − all reservations. A throttled period is
 *    "pool full" when the unreserved use (`UnreservedConcurrentExecutions`, else the sum over
 *    unreserved functions) is at least 90% of it.
 * 4. Culprit: the unreserved function with the largest mean share of the unreserved use in the
 *    pool-full periods, if that share is a majority (≥ 50% and ≥ 1.25× the runner-up) or a clear
 *    plurality (≥ 25% and ≥ 1.5× the runner-up), the pool-full periods carry the incident (at
 *    least half of the throttled periods, or at least half of the throttles), and someone was
 *    starved in them (not only reserved functions, which are throttled at their own caps).
 *    Reserved functions are never culprits: they cannot drain the shared pool.
 * 5. Victims: every other function throttled in the window, most throttles first.
 */
import { seriesMap, seriesMax, seriesSum, type TimeSeries } from './series.js';

export interface RankedFunction {
  name: string;
  /** Mean share of account ConcurrentExecutions over the throttled periods, 0..1. */
  share: number;
  /** Mean share of the shared pool's use over the pool-full throttled periods, 0..1; null when reserved. */
  poolShare: number | null;
  /** Highest ConcurrentExecutions Maximum in the window. */
  peakConcurrency: number;
  /** Highest ConcurrentExecutions Maximum in a throttled period. */
  peakWhileThrottled: number;
  /** Reserved concurrency; null = none. */
  reserved: number | null;
  /** No reserved concurrency: it draws from (and can drain) the shared pool. */
  unreserved: boolean;
  /** Sum of its Throttles in the window (all of them fall in throttled periods). */
  throttles: number;
  /** Periods in which it was throttled. */
  throttledPeriods: number;
}

export interface NoisyNeighbourRanking {
  /** Starts of the periods in which anything was throttled (or the ALB answered 502). */
  throttledPeriodsMs: number[];
  /** Those of them in which the shared pool was at least 90% used. */
  poolFullPeriodsMs: number[];
  /** `poolFullPeriodsMs.length`. */
  poolFullPeriods: number;
  /** Account limit minus every function's reserved concurrency. */
  sharedPoolSize: number;
  /** Sorted by share, largest first. */
  functions: RankedFunction[];
  /**
   * The shared pool was full in the periods that carry the incident and an unreserved function
   * was starved in them: the account's concurrency is exhausted, whether or not one function
   * can be named for it (`culprit`).
   */
  poolExhausted: boolean;
  /** The unreserved function holding most of the shared pool while others were throttled, if any. */
  culprit: string | null;
  /** The culprit's mean share of account concurrency in the throttled periods. */
  culpritShare: number | null;
  /** Functions throttled in the window, other than the culprit; most throttles first. */
  victims: string[];
  /** One sentence for people. */
  sentence: string;
}

/** What the ranking reads: a MetricsReport without its ranking satisfies it. */
export interface RankInput {
  account: { limit: number };
  functions: {
    name: string;
    reserved?: number | null | undefined;
    series: { concurrentExecutions: TimeSeries; throttles: TimeSeries };
  }[];
  accountSeries: {
    concurrentExecutions: TimeSeries;
    unreservedConcurrentExecutions?: TimeSeries | undefined;
    throttles?: TimeSeries | undefined;
  };
  alb?: { series: { elb502: TimeSeries; lambdaUserError: TimeSeries } }[] | undefined;
  /**
   * Throttled invocations seen outside CloudWatch, at period starts aligned to the series' periods
   * (diagnose: the ALB access logs' 502 `LambdaThrottling`, which CloudWatch has no series for).
   * Each throttled invocation is also one of the Lambda `Throttles`, so a period's count is compared
   * with theirs, not added to it.
   */
  loggedThrottles?: TimeSeries | undefined;
}

export const POOL_FULL_FRACTION = 0.9;
const MAJORITY = 0.5;
const MAJORITY_MARGIN = 1.25;
const PLURALITY_MIN = 0.25;
const PLURALITY_MARGIN = 1.5;

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const pct = (x: number) => `${Math.round(x * 100)}%`;

/** The account limit minus every function's reserved concurrency: what unreserved functions share. */
export function sharedPoolSizeOf(input: Pick<RankInput, 'account' | 'functions'>): number {
  const reserved = input.functions.reduce((n, f) => n + (typeof f.reserved === 'number' ? f.reserved : 0), 0);
  return Math.max(0, input.account.limit - reserved);
}

/**
 * The shared pool's use by period start: `UnreservedConcurrentExecutions`, else (where that series
 * has no value) the sum of the unreserved functions' `ConcurrentExecutions`.
 */
export function sharedPoolUseOf(
  input: Pick<RankInput, 'accountSeries' | 'functions'>,
): (periodStartMs: number) => number {
  const unreservedConc = seriesMap(input.accountSeries.unreservedConcurrentExecutions);
  const unreserved = input.functions
    .filter((f) => typeof f.reserved !== 'number')
    .map((f) => seriesMap(f.series.concurrentExecutions));
  return (t) => unreservedConc.get(t) ?? unreserved.reduce((n, m) => n + (m.get(t) ?? 0), 0);
}

export function rankNoisyNeighbours(input: RankInput): NoisyNeighbourRanking {
  const periods = new Set<number>();
  const mark = (s: TimeSeries | undefined) => {
    if (!s) return;
    for (let i = 0; i < s.timestampsMs.length; i++) {
      if ((s.values[i] ?? 0) > 0) periods.add(s.timestampsMs[i] as number);
    }
  };
  for (const f of input.functions) mark(f.series.throttles);
  mark(input.accountSeries.throttles);
  for (const a of input.alb ?? []) {
    mark(a.series.elb502);
    mark(a.series.lambdaUserError);
  }
  mark(input.loggedThrottles);
  const times = [...periods].sort((a, b) => a - b);

  const fns = input.functions.map((f) => ({
    name: f.name,
    reserved: typeof f.reserved === 'number' ? f.reserved : null,
    conc: seriesMap(f.series.concurrentExecutions),
    thr: seriesMap(f.series.throttles),
    series: f.series,
  }));
  const accountConc = seriesMap(input.accountSeries.concurrentExecutions);
  const sharedPoolUse = sharedPoolUseOf(input);
  const accountThr = seriesMap(input.accountSeries.throttles);
  const loggedThr = seriesMap(input.loggedThrottles);
  const albFailures = (input.alb ?? []).flatMap((a) => [
    seriesMap(a.series.elb502),
    seriesMap(a.series.lambdaUserError),
  ]);
  const sharedPoolSize = sharedPoolSizeOf(input);

  const shareSum = new Map<string, number>();
  const poolShareSum = new Map<string, number>();
  const peakThrottled = new Map<string, number>();
  const throttledIn = new Map<string, number>();
  const poolFull: number[] = [];
  let throttlesAll = 0;
  let throttlesInPoolFull = 0;
  let starvedInPoolFull = false;
  for (const t of times) {
    const sumAll = fns.reduce((n, f) => n + (f.conc.get(t) ?? 0), 0);
    const account = accountConc.get(t) ?? sumAll;
    const unreservedUse = sharedPoolUse(t);
    const full = sharedPoolSize > 0 && unreservedUse >= POOL_FULL_FRACTION * sharedPoolSize;
    const throttlesNow = Math.max(
      fns.reduce((n, f) => n + (f.thr.get(t) ?? 0), 0),
      accountThr.get(t) ?? 0,
      loggedThr.get(t) ?? 0,
    );
    throttlesAll += throttlesNow;
    if (full) {
      poolFull.push(t);
      throttlesInPoolFull += throttlesNow;
      // A reserved function is throttled at its own cap, never by a full shared pool: someone was
      // starved only if an unreserved function was throttled, or the sources that do not name the
      // function (account, logs, ALB) saw more than the reserved functions' own Throttles.
      let reservedThrottles = 0;
      let unreservedThrottles = 0;
      for (const f of fns) {
        if (f.reserved === null) unreservedThrottles += f.thr.get(t) ?? 0;
        else reservedThrottles += f.thr.get(t) ?? 0;
      }
      const unnamed = Math.max(
        accountThr.get(t) ?? 0,
        loggedThr.get(t) ?? 0,
        ...albFailures.map((m) => m.get(t) ?? 0),
      );
      if (unreservedThrottles > 0 || unnamed > reservedThrottles) starvedInPoolFull = true;
    }
    for (const f of fns) {
      const c = f.conc.get(t) ?? 0;
      shareSum.set(f.name, (shareSum.get(f.name) ?? 0) + (account > 0 ? clamp01(c / account) : 0));
      peakThrottled.set(f.name, Math.max(peakThrottled.get(f.name) ?? 0, c));
      if ((f.thr.get(t) ?? 0) > 0) throttledIn.set(f.name, (throttledIn.get(f.name) ?? 0) + 1);
      if (full && f.reserved === null) {
        poolShareSum.set(
          f.name,
          (poolShareSum.get(f.name) ?? 0) + (unreservedUse > 0 ? clamp01(c / unreservedUse) : 0),
        );
      }
    }
  }

  const functions: RankedFunction[] = fns
    .map((f) => ({
      name: f.name,
      share: times.length === 0 ? 0 : clamp01((shareSum.get(f.name) ?? 0) / times.length),
      poolShare:
        f.reserved !== null
          ? null
          : poolFull.length === 0
            ? 0
            : clamp01((poolShareSum.get(f.name) ?? 0) / poolFull.length),
      peakConcurrency: seriesMax(f.series.concurrentExecutions),
      peakWhileThrottled: peakThrottled.get(f.name) ?? 0,
      reserved: f.reserved,
      unreserved: f.reserved === null,
      throttles: seriesSum(f.series.throttles),
      throttledPeriods: throttledIn.get(f.name) ?? 0,
    }))
    .sort(
      (a, b) =>
        b.share - a.share ||
        b.peakConcurrency - a.peakConcurrency ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );

  const incidentInPoolFull =
    poolFull.length > 0 &&
    (poolFull.length >= times.length / 2 || (throttlesAll > 0 && throttlesInPoolFull >= throttlesAll / 2));
  const candidates = functions
    .filter((f) => f.unreserved)
    .sort(
      (a, b) =>
        (b.poolShare ?? 0) - (a.poolShare ?? 0) ||
        b.share - a.share ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  const top = candidates[0];
  const runnerUp = candidates[1]?.poolShare ?? 0;
  const topShare = top?.poolShare ?? 0;
  // Per-function Maximums peak at different seconds, so shares can overlap: a majority still
  // needs a margin over the runner-up to name one function.
  const dominant =
    topShare > 0 &&
    ((topShare >= MAJORITY && topShare >= MAJORITY_MARGIN * runnerUp) ||
      (topShare >= PLURALITY_MIN && topShare >= PLURALITY_MARGIN * runnerUp));
  const culprit = top && incidentInPoolFull && starvedInPoolFull && dominant ? top : undefined;
  const victims = functions
    .filter((f) => f.throttles > 0 && f.name !== culprit?.name)
    .sort((a, b) => b.throttles - a.throttles || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => f.name);

  let sentence: string;
  if (times.length === 0) {
    sentence = 'no throttling in the window';
  } else if (culprit) {
    const starving = victims.length > 0 ? `, throttling ${listNames(victims)}` : '';
    sentence =
      `${culprit.name} is the noisy neighbour: with no reserved concurrency it held ${pct(culprit.poolShare ?? 0)} of the shared pool ` +
      `(${pct(culprit.share)} of account concurrency, peak ${culprit.peakWhileThrottled}) while the pool was full in ` +
      `${poolFull.length} of ${times.length} throttled period(s)${starving}`;
  } else if (poolFull.length === 0) {
    sentence = `throttling in ${times.length} period(s) while the shared pool (${sharedPoolSize}) had room: not a noisy neighbour (a reserved cap or the scaling rate?)`;
  } else if (!starvedInPoolFull) {
    sentence = `throttling in ${times.length} period(s), the shared pool full in ${poolFull.length}, but only functions with reserved concurrency were throttled then, at their own caps: not a noisy neighbour`;
  } else if (incidentInPoolFull) {
    const holders = candidates
      .filter((f) => (f.poolShare ?? 0) > 0)
      .slice(0, 3)
      .map((f) => `${f.name} ${pct(f.poolShare ?? 0)}`);
    sentence =
      `the shared pool was full in ${poolFull.length} of ${times.length} throttled period(s), held by several functions together ` +
      `(${holders.join(', ')} of it): no single noisy neighbour${victims.length > 0 ? `; throttled: ${listNames(victims)}` : ''}`;
  } else {
    sentence = `throttling in ${times.length} period(s), the shared pool full in only ${poolFull.length} of them, and no single unreserved function held most of it`;
  }
  return {
    throttledPeriodsMs: times,
    poolFullPeriodsMs: poolFull,
    poolFullPeriods: poolFull.length,
    sharedPoolSize,
    functions,
    poolExhausted: incidentInPoolFull && starvedInPoolFull,
    culprit: culprit?.name ?? null,
    culpritShare: culprit ? culprit.share : null,
    victims,
    sentence,
  };
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
