/**
 * One probed request as recorded: a line of requests.jsonl, the input of the summary, and what
 * `probe report` reads back. Times are epoch milliseconds rounded to the microsecond, so the live
 * summary and the one rebuilt from disk see exactly the same numbers.
 */
import type { CloudFrontHop, ErrorClass, Origin } from './classify.js';

export interface ProbeRecord {
  /** 1-based, unique in the run, in intended-send order: the key to find a request again. */
  seq: number;
  /** Index of the URL in the run's URL list. */
  urlIndex: number;
  /** 1-based sequence number within this URL. */
  urlSeq: number;
  /** The URL as requested (signature-like query values redacted unless --no-redact). */
  url: string;
  /** When the request should have been sent (open model: the schedule; closed loop: = sent). */
  intended: number;
  /** When it was handed to the HTTP client. */
  sent: number;
  /** `sent` as ISO-8601 UTC, for humans and for matching ALB log times. */
  at: string;
  /** From intended send time to the end of the response (or the error): the user's wait. */
  latencyMs: number;
  /** From actual send to the end of the response (or the error): the server's (and socket's) time. */
  serviceMs: number;
  /** HTTP status, or null for a transport error. */
  status: number | null;
  /** Response body bytes received. */
  bytes: number;
  /** The full X-Amzn-Trace-Id value sent ("Root=1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx"). */
  traceId: string;
  /** True when the status is within --expect and no transport error happened. */
  ok: boolean;
  /** Transport error class, or null. */
  error: ErrorClass | null;
  /** Low-level error code (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, ...), when there was one. */
  errorCode?: string;
  /** Which hop produced the failure (failures only), else null. */
  origin: Origin | null;
  /** Failures through CloudFront only: how CloudFront handled the error. */
  cloudfront?: CloudFrontHop;
  /** Failures only: true when CloudFront replayed a cached error (the response had `Age`). */
  cached?: boolean;
}

/** Milliseconds rounded to 3 decimals (microseconds). */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Epoch milliseconds from the monotonic clock (performance.now), at microsecond resolution. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A number as JSON writes it (JSON has no NaN or Infinity: those become null, as JSON.stringify does). */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** Below 2^42 ms (the year 2109) doubles are closer than 0.001 apart: see `msJson`. */
const EXACT_MS_BELOW = 2 ** 42;

/**
 * A time in ms as JSON writes it, fast for the values `roundMs` makes (whole microseconds):
 * printed from integers, about 3x cheaper than the general double-to-text conversion. For
 * 0 <= ms < 2^42 that is exactly k/1000 as a double, the decimal k/1000 with at most 3 decimals
 * is the shortest text that reads back as the same double (any other such decimal is >= 0.001
 * away, more than the spacing of doubles there), which is what JSON (Number#toString) prints.
 * Anything else goes the general way.
 */
function msJson(ms: number): string {
  if (!(ms >= 0 && ms < EXACT_MS_BELOW)) return jsonNumber(ms);
  const k = Math.round(ms * 1000);
  if (k / 1000 !== ms) return jsonNumber(ms);
  const whole = Math.floor(k / 1000);
  const f = k - whole * 1000;
  if (f === 0) return String(whole);
  if (f % 100 === 0) return `${whole}.${f / 100}`;
  if (f % 10 === 0) return `${whole}.${f < 100 ? '0' : ''}${f / 10}`;
  return `${whole}.${f < 10 ? '00' : f < 100 ? '0' : ''}${f}`;
}

/**
 * `JSON.stringify(record)` for a requests.jsonl line, byte for byte (same keys, same order, same
 * number and string forms), at a fraction of the cost: the keys are fixed text and the strings
 * that repeat from one record to the next (the URL, the millisecond's ISO time) are escaped once
 * (see docs/performance.md for what it saves). The optional fields come last, in the order the
 * runner sets them. A field added to ProbeRecord must be added here: test/probe/record.test.ts
 * encodes a record with every field (typed Required<ProbeRecord>, so it does not compile without
 * the new one) and compares it with JSON.stringify.
 */
export class RecordEncoder {
  private url = '';
  private urlJson = '""';
  private at = '';
  private atJson = '""';

  /** `end`: appended (a newline), saving a concatenation per line. */
  line(r: ProbeRecord, end = ''): string {
    if (r.url !== this.url) {
      this.url = r.url;
      this.urlJson = JSON.stringify(r.url);
    }
    if (r.at !== this.at) {
      this.at = r.at;
      this.atJson = JSON.stringify(r.at);
    }
    const status = r.status === null ? 'null' : jsonNumber(r.status);
    const error = r.error === null ? 'null' : JSON.stringify(r.error);
    const origin = r.origin === null ? 'null' : JSON.stringify(r.origin);
    let optional = r.errorCode === undefined ? '' : `,"errorCode":${JSON.stringify(r.errorCode)}`;
    if (r.cloudfront !== undefined) optional += `,"cloudfront":${JSON.stringify(r.cloudfront)}`;
    if (r.cached !== undefined) optional += `,"cached":${r.cached}`;
    // In the closed loop a request is sent when intended, so these pairs are equal: printed once.
    const sent = msJson(r.sent);
    const intended = r.intended === r.sent ? sent : msJson(r.intended);
    const service = msJson(r.serviceMs);
    const latency = r.latencyMs === r.serviceMs ? service : msJson(r.latencyMs);
    return `{"seq":${jsonNumber(r.seq)},"urlIndex":${jsonNumber(r.urlIndex)},"urlSeq":${jsonNumber(r.urlSeq)},"url":${this.urlJson},"intended":${intended},"sent":${sent},"at":${this.atJson},"latencyMs":${latency},"serviceMs":${service},"status":${status},"bytes":${jsonNumber(r.bytes)},"traceId":${JSON.stringify(r.traceId)},"ok":${r.ok},"error":${error},"origin":${origin}${optional}}${end}`;
  }
}
