import type { TimeSeries } from '../diagnose/evidence.js';

export interface RankedFunction {
  name: string;
  /** Mean share of account ConcurrentExecutions over the throttled periods, 0..1. */
  share: number;
  peakConcurrency: number;
  reserved: number | null;
  /** No reserved concurrency: it draws from (and can drain) the shared pool. */
  unreserved: boolean;
  throttles: number;
}

export interface NoisyNeighbourRanking {
  /** Starts of the periods in which anything was throttled (or the ALB answered 502). */
  throttledPeriodsMs: number[];
  /** Periods among those where the shared pool was at least 90% used. */
  poolFullPeriods: number;
  functions: RankedFunction[];
  /** The unreserved function holding most of the pool while others were throttled, if any. */
  culprit: string | null;
  victims: string[];
  /** One sentence for people. */
  sentence: string;
}

interface RankInput {
  account: { limit: number };
  functions: {
    name: string;
    reserved: number | null;
    series: { concurrentExecutions: TimeSeries; throttles: TimeSeries };
  }[];
  accountSeries: { concurrentExecutions: TimeSeries; throttles?: TimeSeries | undefined };
  alb?: { series: { elb502: TimeSeries; lambdaUserError: TimeSeries } }[] | undefined;
}

const at = (s: TimeSeries, t: number) => {
  const i = s.timestampsMs.indexOf(t);
  return i < 0 ? 0 : (s.values[i] ?? 0);
};
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Ranks functions by their share of account concurrency at the periods when throttling
 * happened, and names the noisy neighbour: an unreserved function holding the largest share
 * (at least 40%) while the shared pool was full in most of those periods.
 */
export function rankNoisyNeighbours(input: RankInput): NoisyNeighbourRanking {
  const periods = new Set<number>();
  const mark = (s: TimeSeries | undefined) =>
    s?.timestampsMs.forEach((t, i) => {
      if ((s.values[i] ?? 0) > 0) periods.add(t);
    });
  for (const f of input.functions) mark(f.series.throttles);
  mark(input.accountSeries.throttles);
  for (const a of input.alb ?? []) {
    mark(a.series.elb502);
    mark(a.series.lambdaUserError);
  }
  const times = [...periods].sort((a, b) => a - b);
  const reservedTotal = sum(input.functions.map((f) => f.reserved ?? 0));
  const poolSize = input.account.limit - reservedTotal;
  let poolFull = 0;
  const shareSums = new Map<string, number>();
  for (const t of times) {
    const account = at(input.accountSeries.concurrentExecutions, t);
    const unreservedUse = sum(
      input.functions.filter((f) => f.reserved === null).map((f) => at(f.series.concurrentExecutions, t)),
    );
    if (unreservedUse >= 0.9 * poolSize || account >= 0.9 * input.account.limit) poolFull++;
    for (const f of input.functions) {
      const c = at(f.series.concurrentExecutions, t);
      shareSums.set(f.name, (shareSums.get(f.name) ?? 0) + (account > 0 ? Math.min(1, c / account) : 0));
    }
  }
  const functions: RankedFunction[] = input.functions
    .map((f) => ({
      name: f.name,
      share: times.length === 0 ? 0 : (shareSums.get(f.name) ?? 0) / times.length,
      peakConcurrency: f.series.concurrentExecutions.values.reduce((a, b) => Math.max(a, b), 0),
      reserved: f.reserved,
      unreserved: f.reserved === null,
      throttles: sum(f.series.throttles.values),
    }))
    .sort(
      (a, b) => b.share - a.share || b.peakConcurrency - a.peakConcurrency || a.name.localeCompare(b.name),
    );
  const top = functions[0];
  const culprit =
    top?.unreserved && top.share >= 0.4 && times.length > 0 && poolFull / times.length >= 0.5
      ? top.name
      : null;
  const victims = functions.filter((f) => f.throttles > 0 && f.name !== culprit).map((f) => f.name);
  let sentence: string;
  if (times.length === 0) sentence = 'no throttling in the window';
  else if (culprit && top) {
    sentence = `${culprit} held ${(top.share * 100).toFixed(0)}% of account concurrency in the ${times.length} throttled period(s), with no reserved concurrency: it is the noisy neighbour${
      victims.length > 0 ? ` starving ${victims.join(', ')}` : ''
    }`;
  } else {
    sentence = `throttling in ${times.length} period(s), but no single unreserved function held the pool (full in ${poolFull} of them)`;
  }
  return { throttledPeriodsMs: times, poolFullPeriods: poolFull, functions, culprit, victims, sentence };
}
