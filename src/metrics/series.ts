/** A CloudWatch series: ascending bucket starts (epoch ms) and one value per bucket. */
export interface TimeSeries {
  /** Ascending bucket starts, epoch ms, aligned to the period; buckets without data are absent. */
  timestampsMs: number[];
  values: number[];
}

export const emptySeries = (): TimeSeries => ({ timestampsMs: [], values: [] });

/** Bucket start → value, for lookups by time. */
export function seriesMap(s: TimeSeries | undefined): Map<number, number> {
  const m = new Map<number, number>();
  if (!s) return m;
  for (let i = 0; i < s.timestampsMs.length; i++) m.set(s.timestampsMs[i] as number, s.values[i] ?? 0);
  return m;
}

export function seriesSum(s: TimeSeries | undefined): number {
  let total = 0;
  for (const v of s?.values ?? []) total += v;
  return total;
}

export function seriesMax(s: TimeSeries | undefined): number {
  let max = 0;
  for (const v of s?.values ?? []) if (v > max) max = v;
  return max;
}

/** Start of the period containing `ms` (periods aligned to the epoch, as CloudWatch aligns them). */
export function alignDown(ms: number, periodSec: number): number {
  const p = periodSec * 1000;
  return Math.floor(ms / p) * p;
}

export function alignUp(ms: number, periodSec: number): number {
  const p = periodSec * 1000;
  return Math.ceil(ms / p) * p;
}
