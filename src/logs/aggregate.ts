import { minuteStart } from '../common/time.js';
import { addCounts, mergeBuckets } from './counts.js';
import type { AlbLineFields } from './scan-line.js';

/** Which entries to count: all given criteria must match. */
export interface LogFilter {
  /** Exact codes (502) and classes (5 for 5xx). */
  statuses?: { codes: Set<number>; classes: Set<number> } | undefined;
  reasons?: Set<string> | undefined;
  /** `targetgroup/name/id`, a bare name, or a full ARN. */
  targetGroups?: string[] | undefined;
}

/** Parses `--status 502,5xx` into codes and classes; undefined for anything else. */
export function parseStatusFilter(text: string): { codes: Set<number>; classes: Set<number> } | undefined {
  const codes = new Set<number>();
  const classes = new Set<number>();
  for (const part of text.split(',')) {
    const p = part.trim().toLowerCase();
    if (/^[1-5]xx$/.test(p)) classes.add(Number(p[0]));
    else if (/^[1-9]\d\d$/.test(p)) codes.add(Number(p));
    else return undefined;
  }
  return { codes, classes };
}

/** `arn:...:targetgroup/name/id` → `targetgroup/name/id` (the CloudWatch dimension form). */
export function targetGroupDimension(arn: string | null): string {
  if (arn === null) return '-';
  const i = arn.indexOf('targetgroup/');
  return i >= 0 ? arn.slice(i) : arn;
}

export function matchesFilter(r: AlbLineFields, f: LogFilter): boolean {
  if (f.statuses) {
    const s = r.elbStatusCode;
    if (s === null || !(f.statuses.codes.has(s) || f.statuses.classes.has(Math.floor(s / 100)))) return false;
  }
  if (f.reasons && (r.errorReason === null || !f.reasons.has(r.errorReason))) return false;
  if (f.targetGroups && f.targetGroups.length > 0) {
    const tg = targetGroupDimension(r.targetGroupArn);
    const name = tg.split('/')[1];
    if (!f.targetGroups.some((want) => want === tg || want === r.targetGroupArn || want === name))
      return false;
  }
  return true;
}

export interface MinuteBucket {
  /** ISO-8601 UTC start of the minute. */
  minute: string;
  requests: number;
  byElbStatus: Record<string, number>;
  byErrorReason: Record<string, number>;
  /** 5xx answers by error_reason, or by `elb <status>` when the line carries no reason. */
  fiveXx: Record<string, number>;
}

export interface PathCount {
  path: string;
  failures: number;
  byErrorReason: Record<string, number>;
}

/** The public `logs --json` document (docs/logs.md): keys are a stable interface. */
export interface LogSummary {
  lines: number;
  malformed: number;
  files: number;
  firstTime: string | null;
  lastTime: string | null;
  /** Entries that passed the filters (lines counts every parsed line). */
  requests: number;
  byElbStatus: Record<string, number>;
  byErrorReason: Record<string, number>;
  byTargetGroup: Record<string, { requests: number; byErrorReason: Record<string, number> }>;
  topFailingPaths: PathCount[];
  series: MinuteBucket[];
}

export interface AggregatorState {
  requests: number;
  firstMs: number;
  lastMs: number;
  firstText: string | null;
  lastText: string | null;
  byElbStatus: Record<string, number>;
  byErrorReason: Record<string, number>;
  byTargetGroup: [string, { requests: number; byErrorReason: Record<string, number> }][];
  minutes: [number, Omit<MinuteBucket, 'minute'>][];
  failingPaths: PathCount[];
}

const inc = (m: Record<string, number>, k: string, by = 1) => {
  m[k] = (m[k] ?? 0) + by;
};
/** Same as inc; a number key is the same property as its decimal text, without building it. */
const incCode = (m: Record<number, number>, k: number, by = 1) => {
  m[k] = (m[k] ?? 0) + by;
};

// Keys built from a status code, built once per code rather than once per line.
const ELB_KEYS: string[] = [];
const CODE_KEYS: string[] = [];
const elbKey = (code: number) => (ELB_KEYS[code] ??= `elb ${code}`);
const codeKey = (code: number) => (CODE_KEYS[code] ??= `${code}`);

/**
 * A copy of `s` that does not keep alive the larger text it may be a slice of (the scanner's
 * strings are slices of 64 KiB blocks): for keys kept for the whole scan.
 */
const detach = (s: string): string => ` ${s}`.slice(1);

/** `requestLineParts(request).path`, without building the other parts. */
export function requestPath(request: string | null): string | null {
  if (request === null) return null;
  const first = request.indexOf(' ');
  const last = request.lastIndexOf(' ');
  if (first < 0 || last <= first) return null;
  const scheme = request.indexOf('://', first + 1);
  if (scheme > first + 1 && scheme + 3 <= last) {
    const slash = request.indexOf('/', scheme + 3);
    if (slash < 0 || slash >= last) return '/';
    const q = request.indexOf('?', slash);
    return request.slice(slash, q < 0 || q >= last ? last : q);
  }
  if (request.charCodeAt(first + 1) === 47 /* / */ && first + 1 < last) {
    const q = request.indexOf('?', first + 1);
    return request.slice(first + 1, q < 0 || q >= last ? last : q);
  }
  return null;
}

type TargetGroupCounts = { requests: number; byErrorReason: Record<string, number> };
type Bucket = Omit<MinuteBucket, 'minute'>;

/**
 * Counts entries as they stream by, in memory proportional to distinct minutes, paths and
 * reasons, not to lines. Entries arrive in any order (AWS does not order them).
 */
export class LogAggregator {
  private requests = 0;
  private firstMs = Number.POSITIVE_INFINITY;
  private lastMs = Number.NEGATIVE_INFINITY;
  private firstText: string | null = null;
  private lastText: string | null = null;
  private readonly byElbStatus: Record<string, number> = {};
  private readonly byErrorReason: Record<string, number> = {};
  private readonly byTargetGroup = new Map<string, TargetGroupCounts>();
  private readonly minutes = new Map<number, Bucket>();
  private readonly failingPaths = new Map<string, PathCount>();
  // Paths are attacker-chosen; a cap keeps a scan of millions of distinct URLs in bounded memory.
  private static readonly MAX_PATHS = 50_000;
  private readonly filtered: boolean;
  // Hot-path caches (a file's lines are mostly in time order and share a few target groups):
  // status counts by code until state()/summary(), target groups by raw ARN, the current minute.
  private readonly statusCounts = new Float64Array(1000);
  private readonly byArn = new Map<string | null, TargetGroupCounts>();
  private bucketStart = Number.NaN;
  private bucket: Bucket | undefined;

  constructor(private readonly filter: LogFilter = {}) {
    this.filtered =
      filter.statuses !== undefined ||
      filter.reasons !== undefined ||
      (filter.targetGroups !== undefined && filter.targetGroups.length > 0);
  }

  /** Counts one entry (a parsed record or a scanner projection); false when the filter drops it. */
  add(r: AlbLineFields): boolean {
    if (this.filtered && !matchesFilter(r, this.filter)) return false;
    this.requests++;
    const t = r.timeMs;
    if (t < this.firstMs) {
      this.firstMs = t;
      this.firstText = r.time;
    }
    if (t > this.lastMs) {
      this.lastMs = t;
      this.lastText = r.time;
    }
    const code = r.elbStatusCode;
    // Counted by code until state()/summary(): integer keys are enumerated in ascending order
    // whatever the insertion order, so only those may wait; anything else is counted at once.
    if (code !== null && code >= 0 && code < 1000 && Number.isInteger(code))
      this.statusCounts[code] = (this.statusCounts[code] as number) + 1;
    else inc(this.byElbStatus, code === null ? '-' : String(code));
    const reason = r.errorReason;
    if (reason !== null) inc(this.byErrorReason, reason);
    const arn = r.targetGroupArn;
    let tg = this.byArn.get(arn);
    if (tg === undefined) {
      const tgKey = targetGroupDimension(arn);
      tg = this.byTargetGroup.get(tgKey);
      if (!tg) {
        tg = { requests: 0, byErrorReason: {} };
        this.byTargetGroup.set(detach(tgKey), tg);
      }
      this.byArn.set(arn === null ? null : detach(arn), tg);
    }
    tg.requests++;
    if (reason !== null) inc(tg.byErrorReason, reason);
    let bucket = this.bucket;
    if (bucket === undefined || !(t >= this.bucketStart && t < this.bucketStart + 60_000)) {
      const m = minuteStart(t);
      bucket = this.minutes.get(m);
      if (!bucket) {
        bucket = { requests: 0, byElbStatus: {}, byErrorReason: {}, fiveXx: {} };
        this.minutes.set(m, bucket);
      }
      // NaN times (never from the parser) must not be cached as a range.
      if (!Number.isNaN(m)) {
        this.bucketStart = m;
        this.bucket = bucket;
      }
    }
    bucket.requests++;
    if (code === null) inc(bucket.byElbStatus, '-');
    else incCode(bucket.byElbStatus, code);
    if (reason !== null) inc(bucket.byErrorReason, reason);
    if (code !== null && code >= 500) {
      inc(bucket.fiveXx, reason ?? elbKey(code));
      const path = requestPath(r.request) ?? '-';
      let p = this.failingPaths.get(path);
      if (!p && this.failingPaths.size < LogAggregator.MAX_PATHS) {
        const kept = detach(path);
        p = { path: kept, failures: 0, byErrorReason: {} };
        this.failingPaths.set(kept, p);
      }
      if (p) {
        p.failures++;
        inc(p.byErrorReason, reason ?? codeKey(code));
      }
    }
    return true;
  }

  /** Moves the status counts kept by code into `byElbStatus`. */
  private flushStatus(): void {
    const counts = this.statusCounts;
    for (let code = 0; code < counts.length; code++) {
      const c = counts[code] as number;
      if (c > 0) {
        incCode(this.byElbStatus, code, c);
        counts[code] = 0;
      }
    }
  }

  /** Plain, structured-clone-able state, for aggregating in worker threads and merging. */
  state(): AggregatorState {
    this.flushStatus();
    return {
      requests: this.requests,
      firstMs: this.firstMs,
      lastMs: this.lastMs,
      firstText: this.firstText,
      lastText: this.lastText,
      byElbStatus: this.byElbStatus,
      byErrorReason: this.byErrorReason,
      byTargetGroup: [...this.byTargetGroup.entries()],
      minutes: [...this.minutes.entries()],
      failingPaths: [...this.failingPaths.values()],
    };
  }

  /** Adds another aggregator's counts (same filter) to this one. */
  merge(o: AggregatorState): void {
    this.requests += o.requests;
    if (o.firstMs < this.firstMs) {
      this.firstMs = o.firstMs;
      this.firstText = o.firstText;
    }
    if (o.lastMs > this.lastMs) {
      this.lastMs = o.lastMs;
      this.lastText = o.lastText;
    }
    addCounts(this.byElbStatus, o.byElbStatus);
    addCounts(this.byErrorReason, o.byErrorReason);
    mergeBuckets(this.byTargetGroup, o.byTargetGroup, ['byErrorReason']);
    mergeBuckets(this.minutes, o.minutes, ['byElbStatus', 'byErrorReason', 'fiveXx']);
    for (const p of o.failingPaths) {
      const q = this.failingPaths.get(p.path);
      if (q) {
        q.failures += p.failures;
        addCounts(q.byErrorReason, p.byErrorReason);
      } else if (this.failingPaths.size < LogAggregator.MAX_PATHS) {
        this.failingPaths.set(p.path, {
          path: p.path,
          failures: p.failures,
          byErrorReason: { ...p.byErrorReason },
        });
      }
    }
  }

  summary(read: { lines: number; malformed: number; files: number }, topPaths = 10): LogSummary {
    this.flushStatus();
    const series = [...this.minutes.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([ms, b]) => ({ minute: new Date(ms).toISOString(), ...b }));
    const topFailingPaths = [...this.failingPaths.values()]
      .sort((a, b) => b.failures - a.failures || (a.path < b.path ? -1 : 1))
      .slice(0, topPaths);
    return {
      lines: read.lines,
      malformed: read.malformed,
      files: read.files,
      firstTime: this.firstText,
      lastTime: this.lastText,
      requests: this.requests,
      byElbStatus: this.byElbStatus,
      byErrorReason: this.byErrorReason,
      byTargetGroup: Object.fromEntries(
        [...this.byTargetGroup.entries()].sort((a, b) => b[1].requests - a[1].requests),
      ),
      topFailingPaths,
      series,
    };
  }
}
