import { ThrottlescopeError } from '../common/errors.js';
import { ALB_FIELDS, type AlbField, MIN_FIELD_COUNT } from './fields.js';
import type { AlbLogRecord } from './record.js';

/** A line that is not an ALB access-log entry: names the field, what was expected and what was found. */
export class AlbParseError extends ThrottlescopeError {
  readonly field: string;
  readonly column: number;
  constructor(field: string, column: number, message: string) {
    super('TS_LOG_MALFORMED', `field ${field} (column ${column + 1}): ${message}`);
    this.name = 'AlbParseError';
    this.field = field;
    this.column = column;
  }
}

const SPACE = 32;
const QUOTE = 34;
const BACKSLASH = 92;

/** Escapes a value the way the writer quotes it: `\` and `"` backslashed, control characters as \xHH. */
export function escapeQuoted(value: string): string {
  let needs = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH || c < 0x20 || c === 0x7f) {
      needs = true;
      break;
    }
  }
  if (!needs) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === QUOTE) out += '\\"';
    else if (c === BACKSLASH) out += '\\\\';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += value[i];
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

// Scanner state, module-level so the hot loop allocates only the strings it returns.
let tokenText = '';
let tokenQuoted = false;
let tokenCanonical = true;

const RAW_CONTROL = /[\u0000-\u001f\u007f]/;
let lineHasControl = false;

/** Reads one token starting at `start`; returns the index after it (at a space or the end). */
function scanToken(line: string, start: number, column: number, fieldName: string): number {
  const n = line.length;
  if (line.charCodeAt(start) !== QUOTE) {
    // indexOf is a native (vectorised) search: far faster than a charCodeAt loop here.
    let i = line.indexOf(' ', start);
    if (i < 0) i = n;
    if (i === start)
      throw new AlbParseError(fieldName, column, 'expected a value, found an empty field (two spaces)');
    tokenText = line.slice(start, i);
    tokenQuoted = false;
    tokenCanonical = true;
    return i;
  }
  const from = start + 1;
  let close = line.indexOf('"', from);
  if (close < 0)
    throw new AlbParseError(fieldName, column, 'expected a closing double quote before the end of the line');
  const backslash = line.indexOf('\\', from);
  if (backslash < 0 || backslash > close) {
    tokenText = line.slice(from, close);
    // Raw control characters are rare; the whole line was checked once (lineHasControl).
    tokenCanonical = !lineHasControl || !RAW_CONTROL.test(tokenText);
  } else {
    close = scanEscaped(line, from, column, fieldName);
  }
  tokenQuoted = true;
  const after = close + 1;
  if (after < n && line.charCodeAt(after) !== SPACE) {
    throw new AlbParseError(fieldName, column, 'expected a space after the closing double quote');
  }
  return after;
}

/** The decoded text of the last quoted token `scanEscaped` read (for the projection scanner). */
export const escapedText = (): string => tokenText;

/**
 * The slow path for quoted text with backslash escapes; returns the index of the closing quote.
 * The line ends at `n` (the projection scanner reads lines inside a larger text).
 */
export function scanEscaped(
  line: string,
  from: number,
  column: number,
  fieldName: string,
  n = line.length,
): number {
  let i = from;
  let plainFrom = i;
  let text = '';
  let canonical = true;
  for (;;) {
    if (i >= n)
      throw new AlbParseError(
        fieldName,
        column,
        'expected a closing double quote before the end of the line',
      );
    const c = line.charCodeAt(i);
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      text += line.slice(plainFrom, i);
      const next = line.charCodeAt(i + 1);
      if (next === QUOTE || next === BACKSLASH) {
        text += line[i + 1];
        i += 2;
      } else if (next === 120 /* x */) {
        const h = hexValue(line.charCodeAt(i + 2));
        const l = hexValue(line.charCodeAt(i + 3));
        if (h < 0 || l < 0) {
          text += '\\';
          canonical = false;
          i += 1;
        } else {
          const code = h * 16 + l;
          text += String.fromCharCode(code);
          // The writer only uses \xHH for control characters, in lower case.
          const hex = line.slice(i + 2, i + 4);
          if (!(code < 0x20 || code === 0x7f) || hex !== hex.toLowerCase()) canonical = false;
          i += 4;
        }
      } else {
        // An escape the writer never produces: keep the backslash as text, and the field verbatim.
        text += '\\';
        canonical = false;
        i += 1;
      }
      plainFrom = i;
      continue;
    }
    if (c < 0x20 || c === 0x7f) canonical = false;
    i++;
  }
  tokenText = text + line.slice(plainFrom, i);
  tokenCanonical = canonical;
  return i;
}

// Hand-rolled checks: the parser runs once per line over millions of lines, and regular
// expressions plus Number()/toFixed round trips dominated its profile.

/** Value of an all-digit string, or -1 when it is empty or has another character. */
export function digitsValue(s: string, from = 0, to = s.length): number {
  if (to <= from) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Leading zeros ("007") parse but would not be written back the same way. */
export const hasLeadingZero = (s: string, from: number, to: number) =>
  to - from > 1 && s.charCodeAt(from) === 48;

let secondsCanonical = true;
/** `0.123` style seconds; NaN when malformed. Sets `secondsCanonical`. */
function secondsValue(s: string): number {
  const dot = s.indexOf('.');
  if (dot < 0) {
    const v = digitsValue(s);
    secondsCanonical = false;
    return v < 0 ? Number.NaN : v;
  }
  const whole = digitsValue(s, 0, dot);
  const frac = digitsValue(s, dot + 1);
  if (whole < 0 || frac < 0) return Number.NaN;
  const decimals = s.length - dot - 1;
  if (decimals === 3 && !hasLeadingZero(s, 0, dot)) {
    secondsCanonical = true;
    // One correctly rounded division gives the same double as Number(s).
    return (whole * 1000 + frac) / 1000;
  }
  secondsCanonical = false;
  return Number(s);
}

const at = (s: string, i: number) => s.charCodeAt(i);
// Entries of a file share their date: Date.UTC runs once per day seen, not once per line.
let cachedDay = -1;
let cachedDayMs = 0;
/**
 * Epoch ms of `2024-05-01T12:00:00[.ffffff]Z` written in `s` from `from` to `to`, or NaN when
 * it is not that shape.
 */
export function timestampMs(s: string, from = 0, to = s.length): number {
  const n = to - from;
  const b = from;
  if (
    n < 20 ||
    at(s, b + 4) !== 45 ||
    at(s, b + 7) !== 45 ||
    at(s, b + 10) !== 84 ||
    at(s, b + 13) !== 58 ||
    at(s, b + 16) !== 58 ||
    at(s, to - 1) !== 90
  ) {
    return Number.NaN;
  }
  const h = digitsValue(s, b + 11, b + 13);
  const mi = digitsValue(s, b + 14, b + 16);
  const sec = digitsValue(s, b + 17, b + 19);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return Number.NaN;
  const y = digitsValue(s, b, b + 4);
  const mo = digitsValue(s, b + 5, b + 7);
  const d = digitsValue(s, b + 8, b + 10);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31) return Number.NaN;
  const day = (y * 100 + mo) * 100 + d;
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayMs = Date.UTC(y, mo - 1, d);
  }
  let ms = 0;
  if (n > 20) {
    if (at(s, b + 19) !== 46 || n > 30) return Number.NaN;
    const digits = n - 21;
    if (digits < 1 || digitsValue(s, b + 20, to - 1) < 0) return Number.NaN;
    ms = digits >= 3 ? digitsValue(s, b + 20, b + 23) : digitsValue(s, b + 20, to - 1) * 10 ** (3 - digits);
  } else if (n !== 20) return Number.NaN;
  return cachedDayMs + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
}

/** The error for a field whose text does not fit (`got` shortened past 60 characters). */
export function fieldError(name: string, column: number, expected: string, got: string): AlbParseError {
  const shown = got.length > 60 ? `${got.slice(0, 57)}...` : got;
  return new AlbParseError(name, column, `expected ${expected}, got "${shown}"`);
}

/** What an integer field accepts, for its error message. */
export const integerExpected = (field: AlbField): string =>
  field.minusOne === undefined ? 'an integer or -' : 'an integer, -1 or -';

function fail(field: AlbField, column: number, expected: string, got: string): never {
  throw fieldError(field.name, column, expected, got);
}

const FIELD_COUNT = ALB_FIELDS.length;
// Per-line scratch, reused: converted values by column, and address ports.
const values: unknown[] = new Array(FIELD_COUNT).fill(null);
const clientTarget: (number | null)[] = [null, null];

/**
 * Parses one ALB access-log line. Throws `AlbParseError` naming the first field that does not
 * fit. Lines from older layouts (fewer trailing fields) parse with the missing fields absent;
 * unknown trailing fields are kept in `extra`.
 */
export function parseAlbLine(line: string): AlbLogRecord {
  // A CRLF file leaves \r on each line; it is not part of the entry.
  if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
  lineHasControl = RAW_CONTROL.test(line);
  let verbatim: Record<string, string> | undefined;
  let pos = 0;
  let column = 0;
  let timeMs = Number.NaN;
  const fields: readonly AlbField[] = ALB_FIELDS;
  for (; column < FIELD_COUNT && pos < line.length; column++) {
    const field = fields[column] as AlbField;
    const tokenStart = pos;
    pos = scanToken(line, pos, column, field.name);
    const raw = tokenText;
    let canonical = tokenCanonical && tokenQuoted === field.quoted;
    let value: unknown = null;
    const absent = raw.length === 1 && raw.charCodeAt(0) === 45; // "-"
    switch (field.kind) {
      case 'text':
        if (!absent) value = raw;
        break;
      case 'integer':
        if (!absent) {
          if (field.minusOne !== undefined && raw.length === 2 && raw === '-1') {
            value = -1;
            break;
          }
          const v = digitsValue(raw);
          if (v < 0) fail(field, column, integerExpected(field), raw);
          if (hasLeadingZero(raw, 0, raw.length)) canonical = false;
          value = v;
        }
        break;
      case 'seconds':
        if (absent) canonical = false;
        else if (!(raw.length === 2 && raw === '-1')) {
          const v = secondsValue(raw);
          if (Number.isNaN(v)) fail(field, column, 'seconds such as 0.001, or -1', raw);
          if (!secondsCanonical) canonical = false;
          value = v;
        }
        break;
      case 'timestamp':
        if (!absent) {
          const ms = timestampMs(raw);
          if (Number.isNaN(ms))
            fail(field, column, 'an ISO-8601 UTC time such as 2024-05-01T12:00:00.123456Z', raw);
          if (column === 1) timeMs = ms;
          value = raw;
        }
        break;
      case 'address': {
        let port: number | null = null;
        if (!absent) {
          const colon = raw.lastIndexOf(':');
          port = colon > 0 ? digitsValue(raw, colon + 1) : -1;
          if (port < 0) fail(field, column, 'ip:port or -', raw);
          if (hasLeadingZero(raw, colon + 1, raw.length)) canonical = false;
          value = raw.slice(0, colon);
        }
        clientTarget[column === 3 ? 0 : 1] = port;
        break;
      }
    }
    values[column] = value;
    if (!canonical) {
      verbatim ??= {};
      verbatim[field.name] = line.slice(tokenStart, pos);
    }
    if (pos < line.length) pos++; // the separating space
  }
  if (column < MIN_FIELD_COUNT) {
    const missing = fields[column] as AlbField;
    throw new AlbParseError(
      missing.name,
      column,
      `line ends after ${column} fields; an ALB entry has at least ${MIN_FIELD_COUNT} (type ... trace_id)`,
    );
  }
  if (values[0] === null)
    fail(fields[0] as AlbField, 0, 'a request type (http, https, h2, grpcs, ws, wss)', '-');
  if (values[1] === null) fail(fields[1] as AlbField, 1, 'the response time', '-');
  if (values[2] === null) fail(fields[2] as AlbField, 2, 'the load balancer id', '-');
  const status = values[8] as number | null;
  if (status !== null && (status < 100 || status > 999))
    fail(fields[8] as AlbField, 8, 'a 3-digit status code or -', String(status));
  for (let i = column; i < FIELD_COUNT; i++) values[i] = null;
  if (column <= 3) clientTarget[0] = null;
  if (column <= 4) clientTarget[1] = null;
  const v = values;
  // One literal in a fixed shape keeps every record on the same hidden class.
  const rec: AlbLogRecord = {
    type: v[0] as string,
    time: v[1] as string,
    timeMs,
    elb: v[2] as string,
    client: v[3] as string | null,
    clientPort: clientTarget[0] as number | null,
    target: v[4] as string | null,
    targetPort: clientTarget[1] as number | null,
    requestProcessingTime: v[5] as number | null,
    targetProcessingTime: v[6] as number | null,
    responseProcessingTime: v[7] as number | null,
    elbStatusCode: status,
    targetStatusCode: v[9] as number | null,
    receivedBytes: v[10] as number | null,
    sentBytes: v[11] as number | null,
    request: v[12] as string | null,
    userAgent: v[13] as string | null,
    sslCipher: v[14] as string | null,
    sslProtocol: v[15] as string | null,
    targetGroupArn: v[16] as string | null,
    traceId: v[17] as string | null,
    domainName: v[18] as string | null,
    chosenCertArn: v[19] as string | null,
    matchedRulePriority: v[20] as number | null,
    requestCreationTime: v[21] as string | null,
    actionsExecuted: v[22] as string | null,
    redirectUrl: v[23] as string | null,
    errorReason: v[24] as string | null,
    targetPortList: v[25] as string | null,
    targetStatusCodeList: v[26] as string | null,
    classification: v[27] as string | null,
    classificationReason: v[28] as string | null,
    connTraceId: v[29] as string | null,
    transformedHost: v[30] as string | null,
    transformedUri: v[31] as string | null,
    requestTransformStatus: v[32] as string | null,
    fieldCount: column,
    extra: undefined,
    verbatim,
  };
  if (pos < line.length) {
    const extra: string[] = [];
    while (pos < line.length) {
      const start = pos;
      pos = scanToken(line, pos, column, `extra field ${column + 1}`);
      extra.push(line.slice(start, pos));
      column++;
      if (pos < line.length) pos++;
    }
    rec.extra = extra;
  } else if (line.length > 0 && line.charCodeAt(line.length - 1) === SPACE) {
    throw new AlbParseError('end of line', column, 'unexpected trailing space');
  }
  return rec;
}
