/**
 * The probe summary, built incrementally from records: counts by status, error class and origin,
 * latency histograms (successes and failures kept apart), failure episodes (maximal runs of
 * consecutive failures in sequence order), a runs test for clustering, and, across URLs, whether
 * failure episodes overlap in time. Pure: the live run and `probe report` feed the same records and
 * get the same summary. Memory stays flat: histograms are HDR, the ordered part holds only records
 * that arrived ahead of an earlier one still in flight, and episodes are capped.
 */
import * as hdr from 'hdr-histogram-js';
import { twoSidedP, wilsonInterval } from '../common/stats.js';
import { isoUtc } from '../common/time.js';
import {
  CLOUDFRONT_HOPS,
  type CloudFrontHop,
  ERROR_CLASSES,
  type ErrorClass,
  ORIGINS,
  type Origin,
  originAdvice,
} from './classify.js';
import type { ProbeRecord } from './record.js';

/** Episodes kept per stream; beyond this they are counted in `episodesOmitted`. */
export const MAX_EPISODES = 10_000;

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface EpisodeJson {
  firstSeq: number;
  lastSeq: number;
  /** Send time of the first failure (ISO-8601 UTC). */
  start: string;
  /** End of the last failure (ISO-8601 UTC). */
  end: string;
  failures: number;
}

export interface RunsTestJson {
  z: number;
  p: number;
  /** True when failures cluster in streaks beyond chance (z < 0, p < 0.05). */
  clustered: boolean;
  runs: number;
  expectedRuns: number;
}

export interface StreamSummaryJson {
  total: number;
  succeeded: number;
  failed: number;
  /** succeeded / total (0..1); null when nothing completed. */
  successRate: number | null;
  /** 95% Wilson interval of the success rate. */
  successRateCI: { low: number; high: number } | null;
  byStatus: Record<string, number>;
  byError: Record<ErrorClass, number>;
  byOrigin: Record<Origin, number>;
  /** Failures that went through CloudFront, by how CloudFront handled them (every key listed). */
  byCloudFront: Record<CloudFrontHop, number>;
  /** Failures that were CloudFront replaying a cached error (`Age`): the origin was not asked. */
  cachedErrors: number;
  /** Latency from intended send time, successes only. */
  latencyMs: Percentiles;
  /** Latency from intended send time, failures only. */
  failureLatencyMs: Percentiles;
  /** Service time (from actual send), successes only. */
  serviceMs: Percentiles;
  episodes: EpisodeJson[];
  episodesOmitted: number;
  longestStreak: number;
  /** Failures at the end of the sequence so far (0 when the last request succeeded). */
  currentStreak: number;
  runsTest: RunsTestJson;
  firstSentAt: string | null;
  lastEndAt: string | null;
}

export interface UrlSummaryJson extends StreamSummaryJson {
  url: string;
}

export interface OverlapJson {
  a: string;
  b: string;
  episodesA: number;
  episodesB: number;
  /** Episodes of A that overlap at least one episode of B in time (and vice versa). */
  overlappingA: number;
  overlappingB: number;
  /** Time both were inside a failure episode. */
  overlapMs: number;
  /**
   * Overlap relative to what independent failures would give over the common span
   * (1 = chance, > 1 = they fail together); null when either never failed.
   */
  lift: number | null;
}

export interface ProbeSummary extends StreamSummaryJson {
  urls: UrlSummaryJson[];
  overlaps: OverlapJson[];
  /** Plain-language conclusions: streaks, which hop failed and what to do next, overlaps. */
  findings: string[];
}

interface Episode {
  firstSeq: number;
  lastSeq: number;
  start: number;
  end: number;
  failures: number;
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Record ms as integer microseconds (HDR needs integers; keeps sub-ms precision). */
function recordMs(h: hdr.Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

function percentiles(h: hdr.Histogram): Percentiles {
  if (h.totalCount === 0) return { p50: null, p90: null, p99: null, max: null };
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
  };
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  return out;
}

/** Runs test from counts, as common/stats runsTest computes it from the whole sequence. */
export function runsTestFromCounts(n: number, failures: number, runs: number): RunsTestJson {
  const n1 = failures;
  const n2 = n - n1;
  if (n1 === 0 || n2 === 0) return { z: 0, p: 1, clustered: false, runs, expectedRuns: runs };
  const expected = (2 * n1 * n2) / n + 1;
  const variance = (2 * n1 * n2 * (2 * n1 * n2 - n)) / (n * n * (n - 1));
  if (variance <= 0) return { z: 0, p: 1, clustered: false, runs, expectedRuns: expected };
  const z = (runs - expected) / Math.sqrt(variance);
  const p = twoSidedP(z);
  return { z, p, clustered: z < 0 && p < 0.05, runs, expectedRuns: expected };
}

/** Counters for one stream of records (the whole run, or one URL). */
export class StreamStats {
  total = 0;
  succeeded = 0;
  failed = 0;
  readonly byStatus = new Map<number, number>();
  readonly byError = zeroCounts(ERROR_CLASSES);
  readonly byOrigin = zeroCounts(ORIGINS);
  readonly byCloudFront = zeroCounts(CLOUDFRONT_HOPS);
  cachedErrors = 0;
  /** Failure statuses per origin, to give advice on the dominant one. */
  readonly statusByOrigin = new Map<Origin, Map<number, number>>();
  readonly okLatency = newHistogram();
  readonly failLatency = newHistogram();
  private readonly okServiceOwn = newHistogram();
  /**
   * True while every success had service time = latency (the closed loop sends when intended):
   * one histogram then holds both, a histogram write per request saved.
   */
  private serviceIsLatency = true;

  /** Service times of the successes. */
  get okService(): hdr.Histogram {
    return this.serviceIsLatency ? this.okLatency : this.okServiceOwn;
  }

  /**
   * @param ownHistograms false for the whole-run stream: its latencies are the sum of the URLs'
   *   histograms, merged when the summary is built (one histogram write per request, not two).
   */
  constructor(private readonly ownHistograms = true) {}
  firstSent = Number.POSITIVE_INFINITY;
  lastEnd = Number.NEGATIVE_INFINITY;
  // Ordered part (fed in sequence order).
  ordered = 0;
  orderedFailures = 0;
  runs = 0;
  private previous: boolean | undefined;
  readonly episodes: Episode[] = [];
  episodesOmitted = 0;
  episodeCount = 0;
  longestStreak = 0;
  current: Episode | undefined;

  /** Order-free counters: fed as records complete. */
  count(r: ProbeRecord): void {
    this.total++;
    if (r.ok) {
      this.succeeded++;
      if (this.ownHistograms) {
        if (this.serviceIsLatency && r.serviceMs !== r.latencyMs) {
          // From here on the two differ: the service times so far are the latencies so far.
          this.serviceIsLatency = false;
          this.okServiceOwn.add(this.okLatency);
        }
        recordMs(this.okLatency, r.latencyMs);
        if (!this.serviceIsLatency) recordMs(this.okServiceOwn, r.serviceMs);
      }
    } else {
      this.failed++;
      if (this.ownHistograms) recordMs(this.failLatency, r.latencyMs);
      if (r.cloudfront) this.byCloudFront[r.cloudfront]++;
      if (r.cached) this.cachedErrors++;
      if (r.origin) {
        this.byOrigin[r.origin]++;
        if (r.status !== null) {
          let m = this.statusByOrigin.get(r.origin);
          if (!m) {
            m = new Map();
            this.statusByOrigin.set(r.origin, m);
          }
          m.set(r.status, (m.get(r.status) ?? 0) + 1);
        }
      }
    }
    if (r.status !== null) this.byStatus.set(r.status, (this.byStatus.get(r.status) ?? 0) + 1);
    if (r.error) this.byError[r.error]++;
    if (r.sent < this.firstSent) this.firstSent = r.sent;
    const end = r.sent + r.serviceMs;
    if (end > this.lastEnd) this.lastEnd = end;
  }

  /** Sequence-order part: episodes, streaks, runs. */
  sequence(r: ProbeRecord): void {
    const failed = !r.ok;
    this.ordered++;
    if (this.previous === undefined || failed !== this.previous) this.runs++;
    this.previous = failed;
    const end = r.sent + r.serviceMs;
    if (failed) {
      this.orderedFailures++;
      if (this.current) {
        this.current.lastSeq = r.seq;
        this.current.failures++;
        if (end > this.current.end) this.current.end = end;
      } else {
        this.current = { firstSeq: r.seq, lastSeq: r.seq, start: r.sent, end, failures: 1 };
        this.episodeCount++;
        if (this.episodes.length < MAX_EPISODES) this.episodes.push(this.current);
        else this.episodesOmitted++;
      }
      if (this.current.failures > this.longestStreak) this.longestStreak = this.current.failures;
    } else {
      this.current = undefined;
    }
  }

  /** The live view's numbers without building the whole JSON. */
  quick(): { p50: number | null; p99: number | null } {
    const p = percentiles(this.okLatency);
    return { p50: p.p50, p99: p.p99 };
  }

  /** `parts`: the streams whose histograms make up this one's (see the constructor). */
  toJson(parts: readonly StreamStats[] = []): StreamSummaryJson {
    const merge = (pick: (s: StreamStats) => hdr.Histogram): Percentiles => {
      if (this.ownHistograms) return percentiles(pick(this));
      const h = newHistogram();
      for (const p of parts) h.add(pick(p));
      return percentiles(h);
    };
    const byStatus: Record<string, number> = {};
    for (const [s, n] of [...this.byStatus].sort((a, b) => a[0] - b[0])) byStatus[String(s)] = n;
    return {
      total: this.total,
      succeeded: this.succeeded,
      failed: this.failed,
      successRate: this.total === 0 ? null : this.succeeded / this.total,
      successRateCI: this.total === 0 ? null : wilsonInterval(this.succeeded, this.total),
      byStatus,
      byError: { ...this.byError },
      byOrigin: { ...this.byOrigin },
      byCloudFront: { ...this.byCloudFront },
      cachedErrors: this.cachedErrors,
      latencyMs: merge((x) => x.okLatency),
      failureLatencyMs: merge((x) => x.failLatency),
      serviceMs: merge((x) => x.okService),
      episodes: this.episodes.map((e) => ({
        firstSeq: e.firstSeq,
        lastSeq: e.lastSeq,
        start: isoUtc(e.start),
        end: isoUtc(e.end),
        failures: e.failures,
      })),
      episodesOmitted: this.episodesOmitted,
      longestStreak: this.longestStreak,
      currentStreak: this.current?.failures ?? 0,
      runsTest: runsTestFromCounts(this.ordered, this.orderedFailures, this.runs),
      firstSentAt: Number.isFinite(this.firstSent) ? isoUtc(this.firstSent) : null,
      lastEndAt: Number.isFinite(this.lastEnd) ? isoUtc(this.lastEnd) : null,
    };
  }

  /** Episode intervals (kept ones), for the overlap analysis. */
  intervals(): readonly Episode[] {
    return this.episodes;
  }
}

/**
 * Builds the summary from records arriving in any order (completion order). Counts are updated at
 * once; the sequence-order part waits until every earlier sequence number has arrived or been
 * skipped (a request stopped by Ctrl-C is never recorded: `skip(seq)`).
 */
export class SummaryBuilder {
  readonly overall: StreamStats;
  readonly perUrl: StreamStats[];
  /**
   * One URL: the run's stream is that URL's (the same records in the same order), so it is one
   * StreamStats counted once per record, not two.
   */
  private readonly single: boolean;
  /**
   * Records that arrived ahead of an earlier one still in flight, at seq % length (null: skipped).
   * A ring, not a map: with C requests in flight a record is at most about C ahead.
   */
  private ahead: (ProbeRecord | null | undefined)[] = new Array(64);
  private aheadCount = 0;
  /** Highest sequence number waiting in `ahead`. */
  private aheadMax = 0;
  private next = 1;

  constructor(readonly urls: readonly string[]) {
    this.perUrl = urls.map(() => new StreamStats());
    this.single = this.perUrl.length === 1;
    this.overall = this.single ? this.perUrl[0]! : new StreamStats(false);
  }

  add(record: ProbeRecord): void {
    this.overall.count(record);
    if (!this.single) this.perUrl[record.urlIndex]?.count(record);
    if (record.seq === this.next) {
      this.feed(record);
      this.next++;
      if (this.aheadCount > 0) this.drain();
    } else if (record.seq > this.next) {
      this.hold(record.seq, record);
    }
  }

  /** This sequence number will never be recorded (stopped in flight). */
  skip(seq: number): void {
    if (seq === this.next) {
      this.next++;
      if (this.aheadCount > 0) this.drain();
    } else if (seq > this.next) {
      this.hold(seq, null);
    }
  }

  /** Feeds whatever is still waiting, in sequence order, treating missing numbers as skipped. */
  finish(): void {
    for (let seq = this.next; this.aheadCount > 0 && seq <= this.aheadMax; seq++) {
      const i = seq % this.ahead.length;
      const r = this.ahead[i];
      if (r === undefined) continue;
      this.ahead[i] = undefined;
      this.aheadCount--;
      if (r) this.feed(r);
      this.next = seq + 1;
    }
  }

  /** Records waiting for an earlier one (in flight). */
  get waiting(): number {
    return this.aheadCount;
  }

  private hold(seq: number, r: ProbeRecord | null): void {
    if (seq - this.next >= this.ahead.length) this.grow(seq - this.next + 1);
    const i = seq % this.ahead.length;
    if (this.ahead[i] === undefined) this.aheadCount++;
    this.ahead[i] = r;
    if (seq > this.aheadMax) this.aheadMax = seq;
  }

  /** A ring long enough for `span` numbers from `next` on, entries moved to their new places. */
  private grow(span: number): void {
    let size = this.ahead.length * 2;
    while (size < span) size *= 2;
    const ring: (ProbeRecord | null | undefined)[] = new Array(size);
    for (let seq = this.next; seq <= this.aheadMax; seq++) {
      const r = this.ahead[seq % this.ahead.length];
      if (r !== undefined) ring[seq % size] = r;
    }
    this.ahead = ring;
  }

  private drain(): void {
    while (this.aheadCount > 0) {
      const i = this.next % this.ahead.length;
      const r = this.ahead[i];
      if (r === undefined) return;
      this.ahead[i] = undefined;
      this.aheadCount--;
      if (r) this.feed(r);
      this.next++;
    }
  }

  private feed(r: ProbeRecord): void {
    this.overall.sequence(r);
    if (!this.single) this.perUrl[r.urlIndex]?.sequence(r);
  }

  /** The summary as of now (call finish() first for the final one). */
  summary(): ProbeSummary {
    const urls = this.perUrl.map((s, i) => ({ url: this.urls[i] ?? '', ...s.toJson() }));
    const overlaps: OverlapJson[] = [];
    for (let i = 0; i < this.perUrl.length; i++) {
      for (let j = i + 1; j < this.perUrl.length; j++) {
        overlaps.push(overlapOf(this.urls[i] ?? '', this.perUrl[i]!, this.urls[j] ?? '', this.perUrl[j]!));
      }
    }
    const base = this.overall.toJson(this.perUrl);
    const summary: ProbeSummary = { ...base, urls, overlaps, findings: [] };
    summary.findings = findingsOf(summary, this.overall, this.perUrl);
    return summary;
  }
}

/** Builds the summary of a complete list of records (any order). */
export function summarize(urls: readonly string[], records: Iterable<ProbeRecord>): ProbeSummary {
  const b = new SummaryBuilder(urls);
  for (const r of records) b.add(r);
  b.finish();
  return b.summary();
}

interface Interval {
  start: number;
  end: number;
}

/** Total length of the intersection of two sorted, non-overlapping interval lists. */
export function intersectionMs(a: readonly Interval[], b: readonly Interval[]): number {
  let i = 0;
  let j = 0;
  let total = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const lo = Math.max(x.start, y.start);
    const hi = Math.min(x.end, y.end);
    if (hi > lo) total += hi - lo;
    if (x.end < y.end) i++;
    else j++;
  }
  return total;
}

/** Sorts by start and merges overlapping intervals (episodes of concurrent requests may overlap). */
function merged(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((p, q) => p.start - q.start);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end) last.end = Math.max(last.end, iv.end);
    else out.push({ start: iv.start, end: iv.end });
  }
  return out;
}

function countOverlapping(a: readonly Interval[], b: readonly Interval[]): number {
  const mb = merged(b);
  let n = 0;
  for (const x of a) {
    // Binary search would do; lists are capped, a linear scan over merged B is fine.
    if (mb.some((y) => Math.min(x.end, y.end) >= Math.max(x.start, y.start))) n++;
  }
  return n;
}

function overlapOf(urlA: string, a: StreamStats, urlB: string, b: StreamStats): OverlapJson {
  const ea = a.intervals();
  const eb = b.intervals();
  const ma = merged(ea);
  const mb = merged(eb);
  const overlapMs = intersectionMs(ma, mb);
  const span =
    Math.min(a.lastEnd, b.lastEnd) - Math.max(a.firstSent, b.firstSent) > 0
      ? Math.max(a.lastEnd, b.lastEnd) - Math.min(a.firstSent, b.firstSent)
      : 0;
  const timeA = ma.reduce((s, x) => s + (x.end - x.start), 0);
  const timeB = mb.reduce((s, x) => s + (x.end - x.start), 0);
  const expected = span > 0 ? (timeA * timeB) / span : 0;
  return {
    a: urlA,
    b: urlB,
    episodesA: a.episodeCount,
    episodesB: b.episodeCount,
    overlappingA: countOverlapping(ea, eb),
    overlappingB: countOverlapping(eb, ea),
    overlapMs: Math.round(overlapMs * 1000) / 1000,
    lift: expected > 0 ? Math.round((overlapMs / expected) * 1000) / 1000 : null,
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x >= 0.9995 || x === 0 ? 0 : 2)}%`;
}

function fmtP(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
}

/** What CloudFront did to the failures that went through it. */
function cloudFrontFindings(s: ProbeSummary): string[] {
  const out: string[] = [];
  const cf = s.byCloudFront;
  if (cf['passed-through'] > 0) {
    out.push(
      `${cf['passed-through']} failure(s) were the origin's own error passed through CloudFront (the origin's Server header with X-Cache: Error from cloudfront): the hop named above failed, seen via CloudFront`,
    );
  }
  if (cf['custom-error-page'] > 0) {
    out.push(
      `${cf['custom-error-page']} failure(s) were CloudFront's custom error page: CloudFront hides the origin's answer behind the distribution's page, so who failed cannot be told from outside; probe the origin (the ALB) directly to see its raw response (e.g. 502 with Server: awselb/2.0)`,
    );
  }
  if (s.cachedErrors > 0) {
    const perUrl = s.urls
      .filter((u) => u.cachedErrors > 0)
      .map((u) => `${u.url} ${u.cachedErrors}`)
      .join(', ');
    out.push(
      `${s.cachedErrors} of ${s.failed} failure(s) were replays of a cached error (Age header${s.urls.length > 1 ? `; ${perUrl}` : ''}): CloudFront's error caching (10 s by default) repeats one origin error to every viewer of the URL, so streaks through CloudFront outlast the origin's; the origin was not asked for these`,
    );
  }
  return out;
}

function findingsOf(s: ProbeSummary, overall: StreamStats, perUrl: readonly StreamStats[]): string[] {
  const out: string[] = [];
  if (s.total === 0) {
    out.push('no request completed');
    return out;
  }
  if (s.failed === 0) {
    out.push(`all ${s.total} requests succeeded`);
  } else {
    const ci = s.successRateCI!;
    out.push(
      `${s.failed} of ${s.total} requests failed: success rate ${pct(s.successRate ?? 0)} (95% CI ${pct(ci.low)}–${pct(ci.high)})`,
    );
    const rt = s.runsTest;
    if (rt.clustered) {
      out.push(
        `failures come in streaks, not at random: ${overall.episodeCount} episode(s), longest ${s.longestStreak} in a row; runs test z = ${rt.z.toFixed(2)}, ${fmtP(rt.p)} (${rt.runs} runs where random failures would give about ${rt.expectedRuns.toFixed(1)})`,
      );
    } else if (rt.z > 0 && rt.p < 0.05) {
      out.push(
        `failures alternate with successes more than chance would (runs test z = ${rt.z.toFixed(2)}, ${fmtP(rt.p)}): a periodic or per-connection pattern`,
      );
    } else if (s.failed > 1 && s.succeeded > 0) {
      out.push(
        `failures look random in sequence (runs test z = ${rt.z.toFixed(2)}, ${fmtP(rt.p)}); longest streak ${s.longestStreak}`,
      );
    }
    for (const origin of ORIGINS) {
      const n = s.byOrigin[origin];
      if (n === 0) continue;
      const statuses = overall.statusByOrigin.get(origin);
      let top: number | undefined;
      let topN = 0;
      for (const [st, c] of statuses ?? []) {
        if (c > topN) {
          top = st;
          topN = c;
        }
      }
      const what =
        origin === 'network'
          ? Object.entries(s.byError)
              .filter(([, c]) => c > 0)
              .map(([k, c]) => `${c} ${k}`)
              .join(', ')
          : [...(statuses ?? [])].map(([st, c]) => `${c}× ${st}`).join(', ');
      out.push(`${n} failure(s) from ${origin} (${what}): ${originAdvice(origin, top)}`);
    }
    out.push(...cloudFrontFindings(s));
  }
  const failingUrls = perUrl.filter((u) => u.failed > 0).length;
  for (const o of s.overlaps) {
    if (o.episodesA === 0 || o.episodesB === 0) continue;
    if (o.overlappingA > 0 || o.overlappingB > 0) {
      out.push(
        `${o.a} and ${o.b} fail at the same moments: ${o.overlappingA} of ${o.episodesA} and ${o.overlappingB} of ${o.episodesB} episodes overlap${o.lift !== null ? ` (${o.lift.toFixed(1)}× the overlap chance would give)` : ''}: look for a shared cause such as the account's Lambda concurrency pool`,
      );
    } else {
      out.push(`${o.a} and ${o.b} both fail, but never at the same time`);
    }
  }
  if (perUrl.length > 1 && failingUrls === 1) {
    const i = perUrl.findIndex((u) => u.failed > 0);
    out.push(`only ${s.urls[i]?.url ?? 'one URL'} failed; the others stayed healthy over the same period`);
  }
  return out;
}
