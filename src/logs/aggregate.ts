import { minuteStart } from '../common/time.js';
import { type AlbLogRecord, requestLineParts } from './record.js';

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

export function matchesFilter(r: AlbLogRecord, f: LogFilter): boolean {
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
  private readonly byTargetGroup = new Map<
    string,
    { requests: number; byErrorReason: Record<string, number> }
  >();
  private readonly minutes = new Map<number, Omit<MinuteBucket, 'minute'>>();
  private readonly failingPaths = new Map<string, PathCount>();
  // Paths are attacker-chosen; a cap keeps a scan of millions of distinct URLs in bounded memory.
  private static readonly MAX_PATHS = 50_000;

  constructor(private readonly filter: LogFilter = {}) {}

  add(r: AlbLogRecord): boolean {
    if (!matchesFilter(r, this.filter)) return false;
    this.requests++;
    if (r.timeMs < this.firstMs) {
      this.firstMs = r.timeMs;
      this.firstText = r.time;
    }
    if (r.timeMs > this.lastMs) {
      this.lastMs = r.timeMs;
      this.lastText = r.time;
    }
    const status = r.elbStatusCode === null ? '-' : String(r.elbStatusCode);
    inc(this.byElbStatus, status);
    if (r.errorReason !== null) inc(this.byErrorReason, r.errorReason);
    const tgKey = targetGroupDimension(r.targetGroupArn);
    let tg = this.byTargetGroup.get(tgKey);
    if (!tg) {
      tg = { requests: 0, byErrorReason: {} };
      this.byTargetGroup.set(tgKey, tg);
    }
    tg.requests++;
    if (r.errorReason !== null) inc(tg.byErrorReason, r.errorReason);
    const m = minuteStart(r.timeMs);
    let bucket = this.minutes.get(m);
    if (!bucket) {
      bucket = { requests: 0, byElbStatus: {}, byErrorReason: {}, fiveXx: {} };
      this.minutes.set(m, bucket);
    }
    bucket.requests++;
    inc(bucket.byElbStatus, status);
    if (r.errorReason !== null) inc(bucket.byErrorReason, r.errorReason);
    if (r.elbStatusCode !== null && r.elbStatusCode >= 500) {
      inc(bucket.fiveXx, r.errorReason ?? `elb ${r.elbStatusCode}`);
      const path = requestLineParts(r.request).path ?? '-';
      let p = this.failingPaths.get(path);
      if (!p && this.failingPaths.size < LogAggregator.MAX_PATHS) {
        p = { path, failures: 0, byErrorReason: {} };
        this.failingPaths.set(path, p);
      }
      if (p) {
        p.failures++;
        inc(p.byErrorReason, r.errorReason ?? `${r.elbStatusCode}`);
      }
    }
    return true;
  }

  /** Plain, structured-clone-able state, for aggregating in worker threads and merging. */
  state(): AggregatorState {
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
    const add = (into: Record<string, number>, from: Record<string, number>) => {
      for (const [k, v] of Object.entries(from)) inc(into, k, v);
    };
    add(this.byElbStatus, o.byElbStatus);
    add(this.byErrorReason, o.byErrorReason);
    for (const [k, v] of o.byTargetGroup) {
      const tg = this.byTargetGroup.get(k);
      if (!tg) this.byTargetGroup.set(k, { requests: v.requests, byErrorReason: { ...v.byErrorReason } });
      else {
        tg.requests += v.requests;
        add(tg.byErrorReason, v.byErrorReason);
      }
    }
    for (const [k, v] of o.minutes) {
      const m = this.minutes.get(k);
      if (!m)
        this.minutes.set(k, {
          requests: v.requests,
          byElbStatus: { ...v.byElbStatus },
          byErrorReason: { ...v.byErrorReason },
          fiveXx: { ...v.fiveXx },
        });
      else {
        m.requests += v.requests;
        add(m.byElbStatus, v.byElbStatus);
        add(m.byErrorReason, v.byErrorReason);
        add(m.fiveXx, v.fiveXx);
      }
    }
    for (const p of o.failingPaths) {
      const q = this.failingPaths.get(p.path);
      if (q) {
        q.failures += p.failures;
        add(q.byErrorReason, p.byErrorReason);
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
