/**
 * One probed request as recorded: a line of requests.jsonl, the input of the summary, and what
 * `probe report` reads back. Times are epoch milliseconds rounded to the microsecond, so the live
 * summary and the one rebuilt from disk see exactly the same numbers.
 */
import { putUint } from '../common/bytes.js';
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

/** Below 2^42 ms (the year 2109) doubles are closer than 0.001 apart: see `RecordBytesEncoder.ms`. */
const EXACT_MS_BELOW = 2 ** 42;

/** The fixed parts of a line, as bytes (all ASCII). */
// Buffers like the one written to, so that the copying code sees one array type (stays fast).
const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');
const K_SEQ = ascii('{"seq":');
const K_URL_INDEX = ascii(',"urlIndex":');
const K_URL_SEQ = ascii(',"urlSeq":');
const K_SENT = ascii(',"sent":');
const K_SERVICE = ascii(',"serviceMs":');
const K_STATUS = ascii(',"status":');
const K_BYTES = ascii(',"bytes":');
const K_TRACE = ascii(',"traceId":');
const K_OK_TRUE = ascii(',"ok":true,"error":');
const K_OK_FALSE = ascii(',"ok":false,"error":');
const K_ORIGIN = ascii(',"origin":');
const K_ERROR_CODE = ascii(',"errorCode":');
const K_CLOUDFRONT = ascii(',"cloudfront":');
const K_CACHED_TRUE = ascii(',"cached":true');
const K_CACHED_FALSE = ascii(',"cached":false');
/** The usual end of a line: a success, nothing optional. */
const OK_END = ascii(',"ok":true,"error":null,"origin":null}\n');
const NULL = ascii('null');
const END = ascii('}\n');
/** Room a line needs besides its strings: keys, numbers (at most 25 bytes each), literals. */
const FIXED_ROOM = 512;

function put(buf: Buffer, pos: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buf[pos + i] = bytes[i]!;
  return pos + bytes.length;
}

/**
 * A requests.jsonl line: `JSON.stringify(record)` and a newline, byte for byte (same keys, same
 * order, same number and string forms), written straight into a buffer without building a string
 * per record (see docs/performance.md for what it saves). Numbers are printed from integers and
 * ASCII strings copied as they are; anything else (a string to escape, a number that is not a
 * whole count or microsecond time) goes through JSON.stringify. The optional fields come last, in
 * the order the runner sets them. A field added to ProbeRecord must be added here:
 * test/probe/record.test.ts encodes a record with every field (typed Required<ProbeRecord>, so it
 * does not compile without the new one) and compares it with JSON.stringify.
 */
export class RecordBytesEncoder {
  /** The most bytes `r`'s line can take. */
  static maxBytes(r: ProbeRecord): number {
    // A string takes at most 6 bytes per UTF-16 unit once escaped, 3 once in UTF-8 (escapes are
    // ASCII): 6 is a bound for both.
    let room = FIXED_ROOM + 6 * (r.url.length + r.at.length + r.traceId.length);
    if (r.error !== null) room += 6 * r.error.length;
    if (r.origin !== null) room += 6 * r.origin.length;
    if (r.errorCode !== undefined) room += 6 * r.errorCode.length + 16;
    if (r.cloudfront !== undefined) room += 6 * r.cloudfront.length + 16;
    return room;
  }

  // Text that repeats from one line to the next, kept as bytes with the keys around it: the URL
  // (the same for a URL's whole run) and the millisecond's ISO time (the same for the lines of
  // that millisecond).
  private url: string | undefined;
  private urlPart = Buffer.alloc(0);
  private at: string | undefined;
  private atPart = Buffer.alloc(0);
  /** The whole milliseconds last printed for a time, and their digits. */
  private whole = -1;
  private wholeDigits = Buffer.alloc(16);
  private wholeLength = 0;

  /**
   * Writes `r`'s line and a newline into `buf` at `pos`; returns where it ends, or -1 (nothing
   * written) when the line might not fit in the room left.
   */
  encodeInto(r: ProbeRecord, buf: Buffer, pos: number): number {
    if (buf.length - pos < RecordBytesEncoder.maxBytes(r)) return -1;
    let p = put(buf, pos, K_SEQ);
    p = this.count(buf, p, r.seq);
    p = put(buf, p, K_URL_INDEX);
    p = this.count(buf, p, r.urlIndex);
    p = put(buf, p, K_URL_SEQ);
    p = this.count(buf, p, r.urlSeq);
    if (r.url !== this.url) {
      this.url = r.url;
      this.urlPart = Buffer.from(`,"url":${JSON.stringify(r.url)},"intended":`);
    }
    p = put(buf, p, this.urlPart);
    const intendedFrom = p;
    p = this.ms(buf, p, r.intended);
    const intendedTo = p;
    p = put(buf, p, K_SENT);
    // In the closed loop a request is sent when intended: the same bytes again.
    if (r.sent === r.intended) for (let i = intendedFrom; i < intendedTo; i++) buf[p++] = buf[i]!;
    else p = this.ms(buf, p, r.sent);
    if (r.at !== this.at) {
      this.at = r.at;
      this.atPart = Buffer.from(`,"at":${JSON.stringify(r.at)},"latencyMs":`);
    }
    p = put(buf, p, this.atPart);
    p = this.ms(buf, p, r.latencyMs);
    p = put(buf, p, K_SERVICE);
    p = this.ms(buf, p, r.serviceMs);
    p = put(buf, p, K_STATUS);
    p = r.status === null ? put(buf, p, NULL) : this.count(buf, p, r.status);
    p = put(buf, p, K_BYTES);
    p = this.count(buf, p, r.bytes);
    p = put(buf, p, K_TRACE);
    p = putJsonString(buf, p, r.traceId);
    if (
      r.ok &&
      r.error === null &&
      r.origin === null &&
      r.errorCode === undefined &&
      r.cloudfront === undefined &&
      r.cached === undefined
    )
      return put(buf, p, OK_END);
    p = put(buf, p, r.ok ? K_OK_TRUE : K_OK_FALSE);
    p = r.error === null ? put(buf, p, NULL) : putJsonString(buf, p, r.error);
    p = put(buf, p, K_ORIGIN);
    p = r.origin === null ? put(buf, p, NULL) : putJsonString(buf, p, r.origin);
    if (r.errorCode !== undefined) p = putJsonString(buf, put(buf, p, K_ERROR_CODE), r.errorCode);
    if (r.cloudfront !== undefined) p = putJsonString(buf, put(buf, p, K_CLOUDFRONT), r.cloudfront);
    if (r.cached !== undefined) p = put(buf, p, r.cached ? K_CACHED_TRUE : K_CACHED_FALSE);
    return put(buf, p, END);
  }

  /** A count (seq, status, bytes): an integer printed digit by digit, else as JSON prints it. */
  private count(buf: Buffer, p: number, n: number): number {
    if (Number.isSafeInteger(n) && n >= 0) return putUint(buf, p, n);
    return p + buf.write(jsonNumber(n), p, 'latin1');
  }

  /**
   * A time in ms as JSON writes it, fast for the values `roundMs` makes (whole microseconds):
   * printed from integers, much cheaper than the general double-to-text conversion. For
   * 0 <= ms < 2^42 that is exactly k/1000 as a double, the decimal k/1000 with at most 3 decimals
   * is the shortest text that reads back as the same double (any other such decimal is >= 0.001
   * away, more than the spacing of doubles there), which is what JSON (Number#toString) prints.
   * Anything else goes the general way.
   */
  private ms(buf: Buffer, p: number, ms: number): number {
    if (!(ms >= 0 && ms < EXACT_MS_BELOW)) return p + buf.write(jsonNumber(ms), p, 'latin1');
    const k = Math.round(ms * 1000);
    if (k / 1000 !== ms) return p + buf.write(jsonNumber(ms), p, 'latin1');
    const whole = Math.floor(k / 1000);
    let f = k - whole * 1000;
    let q: number;
    if (whole < 1_000_000) q = putUint(buf, p, whole);
    else {
      // An epoch time: the same whole milliseconds as the line before, mostly.
      if (whole !== this.whole) {
        this.whole = whole;
        this.wholeLength = putUint(this.wholeDigits, 0, whole);
      }
      q = p;
      for (let i = 0; i < this.wholeLength; i++) buf[q++] = this.wholeDigits[i]!;
    }
    if (f === 0) return q;
    buf[q++] = 46; // '.'
    buf[q++] = 48 + Math.floor(f / 100);
    f %= 100;
    if (f === 0) return q;
    buf[q++] = 48 + Math.floor(f / 10);
    f %= 10;
    if (f === 0) return q;
    buf[q++] = 48 + f;
    return q;
  }
}

/**
 * A JSON string: copied byte by byte when it is printable ASCII without quote or backslash (URLs,
 * times, trace ids), else JSON.stringify's escaping in UTF-8.
 */
function putJsonString(buf: Buffer, pos: number, s: string): number {
  buf[pos] = 34;
  let p = pos + 1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 34 || c === 92) return pos + buf.write(JSON.stringify(s), pos, 'utf8');
    buf[p++] = c;
  }
  buf[p] = 34;
  return p + 1;
}
