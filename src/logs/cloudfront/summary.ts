import { isoUtc, minuteStart } from '../../common/time.js';
import { addCounts, mergeBuckets } from '../counts.js';

/** The fields the summary counts, read from one entry (a reused object, valid during the call). */
export interface CloudFrontLineFields {
  timeMs: number;
  /** sc-status; 0 is the documented `000`; null for `-`. */
  status: number | null;
  edgeLocation: string | null;
  resultType: string | null;
  detailedResultType: string | null;
}

export interface CloudFrontFilter {
  /** Exact codes (502) and classes (5 for 5xx) of sc-status. */
  statuses?: { codes: Set<number>; classes: Set<number> } | undefined;
}

export interface CloudFrontMinute {
  /** ISO-8601 UTC start of the minute. */
  minute: string;
  requests: number;
  byStatus: Record<string, number>;
  byResultType: Record<string, number>;
  /** Viewer 5xx by x-edge-detailed-result-type (`Error` for an origin's error passed on or replayed from cache). */
  fiveXx: Record<string, number>;
}

/** The `cloudfront` key of `logs --json` (docs/logs.md): keys are a stable interface. */
export interface CloudFrontSummary {
  lines: number;
  malformed: number;
  files: number;
  firstTime: string | null;
  lastTime: string | null;
  /** Entries inside the window that passed --status (lines counts every parsed line). */
  requests: number;
  byStatus: Record<string, number>;
  byResultType: Record<string, number>;
  byDetailedResultType: Record<string, number>;
  byEdgeLocation: Record<string, number>;
  series: CloudFrontMinute[];
}

type Bucket = Omit<CloudFrontMinute, 'minute'>;

export interface CloudFrontAggregatorState {
  requests: number;
  firstMs: number;
  lastMs: number;
  byStatus: Record<string, number>;
  byResultType: Record<string, number>;
  byDetailedResultType: Record<string, number>;
  byEdgeLocation: Record<string, number>;
  minutes: [number, Bucket][];
}

const inc = (m: Record<string, number>, k: string, by = 1) => {
  m[k] = (m[k] ?? 0) + by;
};
const STATUS_KEYS = Array.from({ length: 1000 }, (_, code) => String(code).padStart(3, '0'));
/** Status as logged: three digits (`000` when the viewer left first). */
const statusKey = (code: number | null) => (code === null ? '-' : (STATUS_KEYS[code] as string));
/** A copy that does not keep the 64 KiB block it was sliced from alive. */
const detach = (s: string): string => ` ${s}`.slice(1);

/**
 * Counts CloudFront entries as they stream by, in memory proportional to distinct minutes,
 * statuses, result types and edge locations, not to lines. Entries arrive in any order.
 */
export class CloudFrontAggregator {
  private requests = 0;
  private firstMs = Number.POSITIVE_INFINITY;
  private lastMs = Number.NEGATIVE_INFINITY;
  private readonly byStatus: Record<string, number> = {};
  private readonly byResultType: Record<string, number> = {};
  private readonly byDetailedResultType: Record<string, number> = {};
  private readonly byEdgeLocation: Record<string, number> = {};
  private readonly minutes = new Map<number, Bucket>();
  private bucketStart = Number.NaN;
  private bucket: Bucket | undefined;

  constructor(private readonly filter: CloudFrontFilter = {}) {}

  /** Counts one entry; false when the filter drops it. */
  add(f: CloudFrontLineFields): boolean {
    const code = f.status;
    const statuses = this.filter.statuses;
    if (
      statuses !== undefined &&
      (code === null || !(statuses.codes.has(code) || statuses.classes.has(Math.floor(code / 100))))
    )
      return false;
    this.requests++;
    const t = f.timeMs;
    if (t < this.firstMs) this.firstMs = t;
    if (t > this.lastMs) this.lastMs = t;
    const status = statusKey(code);
    inc(this.byStatus, status);
    const result = f.resultType ?? '-';
    const detail = f.detailedResultType ?? result;
    countKey(this.byResultType, result);
    countKey(this.byDetailedResultType, detail);
    countKey(this.byEdgeLocation, f.edgeLocation ?? '-');
    let bucket = this.bucket;
    if (bucket === undefined || !(t >= this.bucketStart && t < this.bucketStart + 60_000)) {
      const m = minuteStart(t);
      bucket = this.minutes.get(m);
      if (!bucket) {
        bucket = { requests: 0, byStatus: {}, byResultType: {}, fiveXx: {} };
        this.minutes.set(m, bucket);
      }
      this.bucketStart = m;
      this.bucket = bucket;
    }
    bucket.requests++;
    inc(bucket.byStatus, status);
    countKey(bucket.byResultType, result);
    if (code !== null && code >= 500 && code < 600) countKey(bucket.fiveXx, detail);
    return true;
  }

  /** Plain, structured-clone-able state, for counting in worker threads and merging. */
  state(): CloudFrontAggregatorState {
    return {
      requests: this.requests,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      byStatus: this.byStatus,
      byResultType: this.byResultType,
      byDetailedResultType: this.byDetailedResultType,
      byEdgeLocation: this.byEdgeLocation,
      minutes: [...this.minutes.entries()],
    };
  }

  /** Adds another aggregator's counts (same filter). */
  merge(o: CloudFrontAggregatorState): void {
    this.requests += o.requests;
    this.firstMs = Math.min(this.firstMs, o.firstMs);
    this.lastMs = Math.max(this.lastMs, o.lastMs);
    addCounts(this.byStatus, o.byStatus);
    addCounts(this.byResultType, o.byResultType);
    addCounts(this.byDetailedResultType, o.byDetailedResultType);
    addCounts(this.byEdgeLocation, o.byEdgeLocation);
    mergeBuckets(this.minutes, o.minutes, ['byStatus', 'byResultType', 'fiveXx']);
    this.bucket = undefined;
  }

  summary(read: { lines: number; malformed: number; files: number }): CloudFrontSummary {
    const sorted = (m: Record<string, number>) =>
      Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
    const series = [...this.minutes.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([ms, b]) => ({ minute: isoUtc(ms), ...b }));
    const any = this.requests > 0;
    return {
      lines: read.lines,
      malformed: read.malformed,
      files: read.files,
      firstTime: any ? isoUtc(this.firstMs) : null,
      lastTime: any ? isoUtc(this.lastMs) : null,
      requests: this.requests,
      byStatus: sorted(this.byStatus),
      byResultType: sorted(this.byResultType),
      byDetailedResultType: sorted(this.byDetailedResultType),
      byEdgeLocation: sorted(this.byEdgeLocation),
      series,
    };
  }
}

/** Counts a key that may be a slice of a large block: detached the first time it is seen. */
function countKey(m: Record<string, number>, k: string): void {
  const v = m[k];
  if (v === undefined) m[detach(k)] = 1;
  else m[k] = v + 1;
}
