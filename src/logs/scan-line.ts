import { ALB_FIELDS, type AlbField, type FieldKind, MIN_FIELD_COUNT } from './fields.js';
import {
  AlbParseError,
  digitsValue,
  escapedText,
  fieldError,
  integerExpected,
  scanEscaped,
  timestampMs,
} from './parse-line.js';

/**
 * The fields of an entry that aggregation reads. `AlbLogRecord` has them all, so the aggregator
 * takes either a full record or a scanner projection.
 */
export interface AlbLineFields {
  timeMs: number;
  /** `time` as written. */
  time: string;
  elbStatusCode: number | null;
  errorReason: string | null;
  targetGroupArn: string | null;
  /**
   * The request line. The projection fills it only for 5xx answers (the only ones whose path is
   * counted) and leaves it null otherwise.
   */
  request: string | null;
}

const SPACE = 32;
const QUOTE = 34;
const DASH = 45;
const DOT = 46;
const COLON = ':';

const K_TEXT = 0;
const K_ADDRESS = 1;
const K_SECONDS = 2;
const K_INTEGER = 3;
const K_TIMESTAMP = 4;
/** An integer whose documented values include -1 (matched_rule_priority). */
const K_INTEGER_OR_MINUS_ONE = 5;
const KIND_CODE: Record<FieldKind, number> = {
  text: K_TEXT,
  address: K_ADDRESS,
  seconds: K_SECONDS,
  integer: K_INTEGER,
  timestamp: K_TIMESTAMP,
};
const FIELD_COUNT = ALB_FIELDS.length;
export const KINDS = Int8Array.from(ALB_FIELDS, (f: AlbField) =>
  f.kind === 'integer' && f.minusOne !== undefined ? K_INTEGER_OR_MINUS_ONE : KIND_CODE[f.kind],
);
const NAMES: readonly string[] = ALB_FIELDS.map((f) => f.name);
const INTEGER_EXPECTED: readonly string[] = ALB_FIELDS.map((f: AlbField) => integerExpected(f));

export const COL_TIME = 1;
export const COL_ELB_STATUS = 8;
export const COL_REQUEST = 12;
export const COL_TARGET_GROUP = 16;
export const COL_ERROR_REASON = 24;
/** The first field after those aggregation reads. */
const TAIL_COLUMN = COL_ERROR_REASON + 1;

// Token state, module-level so that the hot loop allocates nothing: the token's text is
// `tokStr` from `tokFrom` to `tokTo` (the scanned text itself, or the decoded text of an escaped token).
let tokStr = '';
let tokFrom = 0;
let tokTo = 0;

/**
 * Reads the token at `start` of the line `text[..n)` as parseAlbLine's scanToken does (same
 * errors); returns the index after it. `scanner.nextBackslash` is the next backslash in `text` at
 * or after the last quoted token (text.length when none): lines rarely have one, so one search per
 * text replaces one per quoted token.
 */
function token(
  scanner: AlbLineScanner,
  text: string,
  n: number,
  start: number,
  column: number,
  name: string,
): number {
  if (text.charCodeAt(start) !== QUOTE) {
    // The search may run into the next line of the text: anything past the line end is its end.
    let i = text.indexOf(' ', start);
    if (i < 0 || i > n) i = n;
    if (i === start)
      throw new AlbParseError(name, column, 'expected a value, found an empty field (two spaces)');
    tokStr = text;
    tokFrom = start;
    tokTo = i;
    return i;
  }
  const from = start + 1;
  let close = text.indexOf('"', from);
  if (close < 0 || close >= n)
    throw new AlbParseError(name, column, 'expected a closing double quote before the end of the line');
  let backslash = scanner.nextBackslash;
  if (backslash < from) {
    backslash = text.indexOf('\\', from);
    if (backslash < 0) backslash = text.length;
    scanner.nextBackslash = backslash;
  }
  if (backslash > close) {
    tokStr = text;
    tokFrom = from;
    tokTo = close;
  } else {
    close = scanEscaped(text, from, column, name, n);
    tokStr = escapedText();
    tokFrom = 0;
    tokTo = tokStr.length;
  }
  const after = close + 1;
  if (after < n && text.charCodeAt(after) !== SPACE) {
    throw new AlbParseError(name, column, 'expected a space after the closing double quote');
  }
  return after;
}

/** Whether `s[from, to)` is seconds parseAlbLine accepts: digits, or digits.digits. */
function secondsValid(s: string, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    i++;
  }
  if (i === from) return false;
  if (i === to) return true;
  if (s.charCodeAt(i) !== DOT || i + 1 === to) return false;
  for (i++; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return false;
  }
  return true;
}

const USUAL_TIME =
  /\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)\.\d{6}Z/y;
let usualDay = -1;
let usualDayMs = 0;
const digit = (s: string, i: number) => s.charCodeAt(i) - 48;
const two = (s: string, i: number) => digit(s, i) * 10 + digit(s, i + 1);
/** Epoch ms of a timestamp USUAL_TIME matched at `b` (the same value as timestampMs). */
function usualTimeMs(s: string, b: number): number {
  const day = two(s, b) * 1_000_000 + two(s, b + 2) * 10_000 + two(s, b + 5) * 100 + two(s, b + 8);
  if (day !== usualDay) {
    usualDay = day;
    usualDayMs = Date.UTC(Math.floor(day / 10_000), (Math.floor(day / 100) % 100) - 1, day % 100);
  }
  return (
    usualDayMs +
    ((two(s, b + 11) * 60 + two(s, b + 14)) * 60 + two(s, b + 17)) * 1000 +
    two(s, b + 20) * 10 +
    digit(s, b + 22)
  );
}

// Recent distinct target groups and error reasons: a file has a handful of each, so most lines
// reuse a string. Then no string is kept per line, and the aggregator's map and object lookups find
// the string already hashed and internalized (a fresh string is hashed and looked up in V8's
// string table on every keyed access). Comparing whole strings is a native compare.
const recentArns: string[] = [];
const recentReasons: string[] = [];
function recent(cache: string[], s: string, from: number, to: number): string {
  const len = to - from;
  // Candidates are told apart by length and last character (names and ids end differently)
  // before one native comparison confirms.
  const last = s.charCodeAt(to - 1);
  let a: string | undefined;
  for (let i = 0; i < cache.length; i++) {
    const r = cache[i] as string;
    if (r.length === len && r.charCodeAt(len - 1) === last) {
      a ??= s.slice(from, to);
      if (r === a) return r;
    }
  }
  a ??= s.slice(from, to);
  if (cache.length >= 8) cache.pop();
  cache.unshift(a);
  return a;
}

/**
 * Validates ALB lines exactly as `parseAlbLine` does (it accepts the same lines and throws the
 * same `AlbParseError` for the same first bad field) but keeps only the fields aggregation reads,
 * in its own properties, allocating no record. It reads lines in place inside a larger text (a
 * decoded block of a file), so that no line is copied out. Property tests hold it to parseAlbLine.
 */
export class AlbLineScanner implements AlbLineFields {
  timeMs = Number.NaN;
  time = '';
  elbStatusCode: number | null = null;
  errorReason: string | null = null;
  targetGroupArn: string | null = null;
  request: string | null = null;
  private text = '';
  /**
   * The fields after error_reason of the last line accepted with them, as written. Consecutive
   * lines mostly share them ("-" fields, the connection id); an equal tail is accepted unread.
   */
  private tail = '';
  /** @internal the next backslash of `text` at or after the last quoted token read. */
  nextBackslash = -1;

  /** Sets the text whose lines `scan` reads. */
  setText(text: string): this {
    this.text = text;
    this.nextBackslash = -1;
    return this;
  }

  /** Scans `line` on its own (see `scan`). */
  scanLine(line: string): this {
    return this.setText(line).scan(0, line.length);
  }

  /**
   * Scans the line `text[from, to)` (without its newline; a trailing `\r` is dropped as the parser
   * does) and fills the fields; throws `AlbParseError` as `parseAlbLine(text.slice(from, to))` would.
   */
  scan(from: number, to: number): this {
    const text = this.text;
    let n = to;
    if (n > from && text.charCodeAt(n - 1) === 13) n--;
    let pos = from;
    let column = 0;
    let timeMs = Number.NaN;
    let time = '';
    let status: number | null = null;
    let reason: string | null = null;
    let arn: string | null = null;
    let request: string | null = null;
    // Columns 0..2 must not be absent; bit i set when column i was `-`.
    let absentHead = 0;
    // Where the tail (the fields after error_reason) starts; -1 when read already (see `tail`).
    let tailAt = -1;
    for (; column < FIELD_COUNT && pos < n; column++) {
      if (column === TAIL_COLUMN) {
        // The same bytes as the tail of the last line accepted: the same decisions, nothing to keep.
        const tail = this.tail;
        if (n - pos === tail.length && text.slice(pos, n) === tail) break;
        tailAt = pos;
      }
      const kind = KINDS[column] as number;
      // Fast paths for the common shapes, read without a search; each ends its token exactly
      // where the general path would and accepts only what it accepts. Anything else (and
      // every error) goes the general way below.
      const c0 = text.charCodeAt(pos);
      if (c0 === QUOTE || c0 === DASH) {
        // `"-"` and `-`: absent, whatever the kind.
        const len = c0 === QUOTE ? 3 : 1;
        if (
          (c0 === DASH || (text.charCodeAt(pos + 1) === DASH && text.charCodeAt(pos + 2) === QUOTE)) &&
          (pos + len === n || (pos + len < n && text.charCodeAt(pos + len) === SPACE))
        ) {
          if (column < 3) absentHead |= 1 << column;
          pos += len;
          if (pos < n) pos++;
          continue;
        }
      }
      if (kind === K_TEXT) {
        // Quoted without escapes, or unquoted (`-` was handled above).
        let a = pos;
        let b: number;
        let end: number;
        if (c0 === QUOTE) {
          a = pos + 1;
          b = text.indexOf('"', a);
          let backslash = this.nextBackslash;
          if (backslash < a) {
            backslash = text.indexOf('\\', a);
            if (backslash < 0) backslash = text.length;
            this.nextBackslash = backslash;
          }
          end = b + 1;
          if (b < 0 || b >= n || backslash < b || (end < n && text.charCodeAt(end) !== SPACE)) end = -1;
        } else {
          b = text.indexOf(' ', pos);
          if (b < 0 || b > n) b = n;
          end = b === pos ? -1 : b;
        }
        if (end >= 0) {
          if (column === COL_TARGET_GROUP) arn = recent(recentArns, text, a, b);
          else if (column === COL_ERROR_REASON) reason = recent(recentReasons, text, a, b);
          else if (column === COL_REQUEST && status !== null && status >= 500) request = text.slice(a, b);
          pos = end;
          if (pos < n) pos++;
          continue;
        }
      } else if (kind === K_ADDRESS) {
        if (c0 !== QUOTE && c0 !== SPACE) {
          let e = text.indexOf(' ', pos);
          if (e < 0 || e > n) e = n;
          const colon = text.lastIndexOf(COLON, e - 1);
          if (colon > pos && digitsValue(text, colon + 1, e) >= 0) {
            pos = e;
            if (pos < n) pos++;
            continue;
          }
        }
      } else if (c0 === QUOTE || c0 === DASH) {
        // `-1` seconds (not dispatched, no answer) and rule priority (rules evaluation failed);
        // other quoted or dashed values go the general way.
        if (
          (kind === K_SECONDS || kind === K_INTEGER_OR_MINUS_ONE) &&
          c0 === DASH &&
          text.charCodeAt(pos + 1) === 49 &&
          pos + 1 < n &&
          (pos + 2 === n || text.charCodeAt(pos + 2) === SPACE)
        ) {
          pos += 2;
          if (pos < n) pos++;
          continue;
        }
      } else if (kind === K_INTEGER || kind === K_SECONDS || kind === K_INTEGER_OR_MINUS_ONE) {
        let i = pos;
        let v = 0;
        for (; i < n; i++) {
          const c = text.charCodeAt(i) - 48;
          if (c < 0 || c > 9) break;
          v = v * 10 + c;
        }
        if (kind === K_SECONDS && i > pos && i + 1 < n && text.charCodeAt(i) === DOT) {
          const whole = i;
          for (i++; i < n; i++) {
            const c = text.charCodeAt(i) - 48;
            if (c < 0 || c > 9) break;
          }
          if (i === whole + 1) i = pos; // no digit after the dot
        }
        if (i > pos && (i === n || text.charCodeAt(i) === SPACE)) {
          if (column === COL_ELB_STATUS) status = v;
          pos = i;
          if (pos < n) pos++;
          continue;
        }
      } else if (kind === K_TIMESTAMP) {
        // The usual microsecond form: 2024-05-01T12:00:00.123456Z
        const end = pos + 27;
        if (end <= n && (end === n || text.charCodeAt(end) === SPACE)) {
          // A native regular-expression match checks the shape several times faster than
          // charCodeAt; it accepts a subset of what timestampMs accepts.
          USUAL_TIME.lastIndex = pos;
          if (USUAL_TIME.test(text)) {
            if (column === COL_TIME) {
              timeMs = usualTimeMs(text, pos);
              time = text.slice(pos, end);
            }
            pos = end;
            if (pos < n) pos++;
            continue;
          }
        }
      }
      pos = token(this, text, n, pos, column, NAMES[column] as string);
      const s = tokStr;
      const a = tokFrom;
      const b = tokTo;
      const absent = b - a === 1 && s.charCodeAt(a) === DASH;
      if (kind === K_TEXT) {
        if (absent) {
          if (column < 3) absentHead |= 1 << column;
        } else if (column === COL_TARGET_GROUP) arn = recent(recentArns, s, a, b);
        else if (column === COL_ERROR_REASON) reason = recent(recentReasons, s, a, b);
        else if (column === COL_REQUEST && status !== null && status >= 500) request = s.slice(a, b);
      } else if (kind === K_INTEGER || kind === K_INTEGER_OR_MINUS_ONE) {
        const minusOne =
          kind === K_INTEGER_OR_MINUS_ONE &&
          b - a === 2 &&
          s.charCodeAt(a) === DASH &&
          s.charCodeAt(a + 1) === 49;
        if (!absent && !minusOne) {
          const v = digitsValue(s, a, b);
          if (v < 0)
            throw fieldError(
              NAMES[column] as string,
              column,
              INTEGER_EXPECTED[column] as string,
              s.slice(a, b),
            );
          if (column === COL_ELB_STATUS) status = v;
        }
      } else if (kind === K_SECONDS) {
        if (
          !absent &&
          !(b - a === 2 && s.charCodeAt(a) === DASH && s.charCodeAt(a + 1) === 49) &&
          !secondsValid(s, a, b)
        ) {
          throw fieldError(NAMES[column] as string, column, 'seconds such as 0.001, or -1', s.slice(a, b));
        }
      } else if (kind === K_TIMESTAMP) {
        if (absent) {
          if (column < 3) absentHead |= 1 << column;
        } else {
          const ms = timestampMs(s, a, b);
          if (Number.isNaN(ms))
            throw fieldError(
              NAMES[column] as string,
              column,
              'an ISO-8601 UTC time such as 2024-05-01T12:00:00.123456Z',
              s.slice(a, b),
            );
          if (column === COL_TIME) {
            timeMs = ms;
            time = s.slice(a, b);
          }
        }
      } else if (!absent) {
        // K_ADDRESS: ip:port, the port after the last colon.
        const colon = s.lastIndexOf(COLON, b - 1);
        if (colon <= a || digitsValue(s, colon + 1, b) < 0)
          throw fieldError(NAMES[column] as string, column, 'ip:port or -', s.slice(a, b));
      }
      if (pos < n) pos++; // the separating space
    }
    if (column < MIN_FIELD_COUNT) {
      throw new AlbParseError(
        NAMES[column] as string,
        column,
        `line ends after ${column} fields; an ALB entry has at least ${MIN_FIELD_COUNT} (type ... trace_id)`,
      );
    }
    if (absentHead !== 0) {
      if (absentHead & 1)
        throw fieldError(NAMES[0] as string, 0, 'a request type (http, https, h2, grpcs, ws, wss)', '-');
      if (absentHead & 2) throw fieldError(NAMES[1] as string, 1, 'the response time', '-');
      throw fieldError(NAMES[2] as string, 2, 'the load balancer id', '-');
    }
    if (status !== null && (status < 100 || status > 999))
      throw fieldError(
        NAMES[COL_ELB_STATUS] as string,
        COL_ELB_STATUS,
        'a 3-digit status code or -',
        String(status),
      );
    if (column === TAIL_COLUMN && pos < n && tailAt < 0) {
      // The tail matched: accepted as before (its extra fields and end of line included).
    } else if (pos < n) {
      while (pos < n) {
        pos = token(this, text, n, pos, column, `extra field ${column + 1}`);
        column++;
        if (pos < n) pos++;
      }
    } else if (n > from && text.charCodeAt(n - 1) === SPACE) {
      throw new AlbParseError('end of line', column, 'unexpected trailing space');
    }
    if (tailAt >= 0) this.tail = text.slice(tailAt, n);
    this.timeMs = timeMs;
    this.time = time;
    this.elbStatusCode = status;
    this.errorReason = reason;
    this.targetGroupArn = arn;
    this.request = request;
    return this;
  }
}

/** Scans one line (see `AlbLineScanner`); reuse `into` across lines to allocate nothing. */
export function scanAlbLine(line: string, into: AlbLineScanner = new AlbLineScanner()): AlbLineFields {
  return into.scanLine(line);
}
