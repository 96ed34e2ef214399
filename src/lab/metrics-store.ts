import type { LabMetricsStore, MetricDimension, MetricId, MetricStat } from './backend.js';

/**
 * CloudWatch-style metric storage for the lab. Datapoints are kept at 1-second resolution (the
 * finest CloudWatch offers, "high-resolution" metrics): per metric and per second, the exact sum,
 * count, minimum and maximum, and the multiset of values to 4 significant digits, so that every
 * statistic at every period that is a whole number of seconds is exact (percentiles to 0.1 %).
 * Timestamps are epoch milliseconds on the lab's clock.
 */

interface SecondBucket {
  /** Start of the second, epoch ms. */
  t: number;
  sum: number;
  count: number;
  min: number;
  max: number;
  /** value -> how many datapoints had it. Counters (value 1) keep one entry. */
  values: Map<number, number>;
}

interface Series {
  id: MetricId;
  /** Ordered by t, oldest first (the lab only appends at "now"; out-of-order points are inserted). */
  buckets: SecondBucket[];
}

/** Opaque reference to one metric's stored series. */
export type SeriesHandle = { readonly __series: unique symbol };

/** Stable key for a metric: namespace, name and dimensions sorted by name (order does not matter to CloudWatch). */
export function metricKey(id: MetricId): string {
  const dims = [...id.dimensions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `${id.namespace}\u0000${id.metricName}\u0000${dims.map((d) => `${d.name}=${d.value}`).join('\u0001')}`;
}

export function dims(record: Record<string, string>): MetricDimension[] {
  return Object.entries(record).map(([name, value]) => ({ name, value }));
}

export class MemoryMetricsStore implements LabMetricsStore {
  private readonly series = new Map<string, Series>();
  private readonly byRef = new WeakMap<MetricId, Series>();

  /** Records one datapoint. `timestampMs` is on the lab clock. */
  put(id: MetricId, value: number, timestampMs: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(timestampMs)) return;
    // Callers on the hot path reuse MetricId objects: look those up by identity.
    let s = this.byRef.get(id);
    if (!s) {
      s = this.seriesFor(id);
      this.byRef.set(id, s);
    }
    this.add(s, value, timestampMs);
  }

  /** A handle to one metric's series, for callers that put many datapoints to it. */
  seriesOf(id: MetricId): SeriesHandle {
    return this.seriesFor(id);
  }

  /** Records one datapoint to a series handle from `seriesOf`. */
  putTo(handle: SeriesHandle, value: number, timestampMs: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(timestampMs)) return;
    this.add(handle as unknown as Series, value, timestampMs);
  }

  /** Records `count` datapoints of one value at once: the same as `count` calls of `putTo`. */
  putManyTo(handle: SeriesHandle, value: number, count: number, timestampMs: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(timestampMs) || !(count > 0)) return;
    const s = handle as unknown as Series;
    // A sum of integers is exact however it is grouped; of fractions, only added one by one.
    if (Number.isInteger(value)) this.add(s, value, timestampMs, count);
    else for (let i = 0; i < count; i++) this.add(s, value, timestampMs);
  }

  /**
   * A writer that holds datapoints back (to put them in bulk) registers how to put them: every
   * read (list, query, total) puts them first, so readers see every datapoint put so far.
   */
  holdsBack(flush: () => void): void {
    this.heldBack.push(flush);
  }
  private readonly heldBack: (() => void)[] = [];
  private putHeldBack(): void {
    for (const flush of this.heldBack) flush();
  }

  private seriesFor(id: MetricId): Series & SeriesHandle {
    const key = metricKey(id);
    let s = this.series.get(key);
    if (!s) {
      s = {
        id: { namespace: id.namespace, metricName: id.metricName, dimensions: [...id.dimensions] },
        buckets: [],
      };
      this.series.set(key, s);
    }
    return s as Series & SeriesHandle;
  }

  private add(s: Series, value: number, timestampMs: number, n = 1): void {
    const t = Math.floor(timestampMs / 1000) * 1000;
    const buckets = s.buckets;
    let b = buckets[buckets.length - 1];
    if (!b || b.t !== t) {
      if (!b || b.t < t) {
        b = newBucket(t);
        buckets.push(b);
      } else {
        // Out of order (rare): find or insert the bucket.
        let lo = 0;
        let hi = buckets.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (buckets[mid]!.t < t) lo = mid + 1;
          else hi = mid;
        }
        b = buckets[lo];
        if (!b || b.t !== t) {
          b = newBucket(t);
          buckets.splice(lo, 0, b);
        }
      }
    }
    b.sum += n === 1 ? value : value * n;
    b.count += n;
    if (value < b.min) b.min = value;
    if (value > b.max) b.max = value;
    // Percentiles come from the multiset of values kept to 4 significant digits (0.1 %), so that
    // latencies, all distinct, do not cost an entry each.
    let key = value;
    if (!Number.isInteger(value)) {
      // The same value often goes to two series in a row (per load balancer and per target group).
      if (value !== lastRounded) {
        lastRounded = value;
        lastRoundedKey = round4(value);
      }
      key = lastRoundedKey;
    }
    const values = b.values;
    values.set(key, (values.get(key) ?? 0) + n);
  }

  list(filter?: {
    namespace?: string;
    metricName?: string;
    dimensions?: { name: string; value?: string }[];
  }): MetricId[] {
    this.putHeldBack();
    const out: MetricId[] = [];
    for (const s of this.series.values()) {
      if (s.buckets.length === 0) continue;
      if (filter?.namespace !== undefined && s.id.namespace !== filter.namespace) continue;
      if (filter?.metricName !== undefined && s.id.metricName !== filter.metricName) continue;
      if (filter?.dimensions) {
        const ok = filter.dimensions.every((want) =>
          s.id.dimensions.some(
            (d) => d.name === want.name && (want.value === undefined || d.value === want.value),
          ),
        );
        if (!ok) continue;
      }
      out.push({
        namespace: s.id.namespace,
        metricName: s.id.metricName,
        dimensions: s.id.dimensions.map((d) => ({ ...d })),
      });
    }
    return out;
  }

  query(
    metric: MetricId,
    stat: MetricStat,
    periodSec: number,
    startMs: number,
    endMs: number,
  ): { timestampsMs: number[]; values: number[] } {
    this.putHeldBack();
    const s = this.series.get(metricKey(metric));
    const timestampsMs: number[] = [];
    const values: number[] = [];
    if (!s) return { timestampsMs, values };
    const periodMs = Math.max(1, Math.round(periodSec)) * 1000;
    let current: SecondBucket[] = [];
    let currentStart = Number.NaN;
    const emit = () => {
      if (current.length === 0) return;
      timestampsMs.push(currentStart);
      values.push(aggregate(current, stat));
      current = [];
    };
    for (const b of s.buckets) {
      if (b.t < startMs || b.t >= endMs) continue;
      const p = Math.floor(b.t / periodMs) * periodMs;
      if (p !== currentStart) {
        emit();
        currentStart = p;
      }
      current.push(b);
    }
    emit();
    return { timestampsMs, values };
  }

  /** Sum of all datapoints of a metric (tests and status lines). */
  total(metric: MetricId): number {
    this.putHeldBack();
    const s = this.series.get(metricKey(metric));
    if (!s) return 0;
    let sum = 0;
    for (const b of s.buckets) sum += b.sum;
    return sum;
  }
}

let lastRounded = Number.NaN;
let lastRoundedKey = Number.NaN;

/** 10^0 .. 10^22, each exact in a double. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * `Number(v.toPrecision(4))` without the string round trip, for finite v. Four significant
 * digits n (1000..9999) times a power of ten; scaling by an exact power of ten and rounding gives
 * toPrecision's n unless the scaled value is within a hair of a tie (or the decade guess is off),
 * and those cases take the string route. n / 10^k and n * 10^k are correctly rounded, as is the
 * string's parse, so the results are the same double.
 */
export function round4(v: number): number {
  const a = Math.abs(v);
  if (a >= 1e-15 && a < 1e18) {
    const p = 3 - Math.floor(Math.log10(a));
    if (p >= -15 && p <= 18) {
      const m = p >= 0 ? a * POW10[p]! : a / POW10[-p]!;
      const whole = Math.floor(m);
      const frac = m - whole;
      if (Math.abs(frac - 0.5) > 1e-6) {
        const n = frac > 0.5 ? whole + 1 : whole;
        if (n >= 1000 && n <= 9999) {
          const r = p >= 0 ? n / POW10[p]! : n * POW10[-p]!;
          return v < 0 ? -r : r;
        }
      }
    }
  }
  return Number(v.toPrecision(4));
}

function newBucket(t: number): SecondBucket {
  return {
    t,
    sum: 0,
    count: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    values: new Map(),
  };
}

function aggregate(buckets: SecondBucket[], stat: MetricStat): number {
  let sum = 0;
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    sum += b.sum;
    count += b.count;
    if (b.min < min) min = b.min;
    if (b.max > max) max = b.max;
  }
  switch (stat) {
    case 'Sum':
      return sum;
    case 'Average':
      return sum / count;
    case 'Maximum':
      return max;
    case 'Minimum':
      return min;
    case 'SampleCount':
      return count;
    default: {
      const p = Number(stat.slice(1));
      if (!(p >= 0 && p <= 100)) return Number.NaN;
      return percentile(buckets, count, p);
    }
  }
}

/** Nearest-rank percentile over the exact multiset of values. */
function percentile(buckets: SecondBucket[], count: number, p: number): number {
  const merged = new Map<number, number>();
  for (const b of buckets) for (const [v, n] of b.values) merged.set(v, (merged.get(v) ?? 0) + n);
  const sorted = [...merged.entries()].sort((a, b) => a[0] - b[0]);
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  let seen = 0;
  for (const [v, n] of sorted) {
    seen += n;
    if (seen >= rank) return v;
  }
  return sorted[sorted.length - 1]?.[0] ?? Number.NaN;
}
