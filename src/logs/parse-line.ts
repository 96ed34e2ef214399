import { ExitCode, ThrottlescopeError } from '../common/errors.js';
import { ALB_FIELDS, type AlbField, MIN_FIELD_COUNT } from './fields.js';
import type { AlbLogRecord } from './record.js';

/** A line that is not an ALB access-log entry: names the field, what was expected and what was found. */
export class AlbParseError extends ThrottlescopeError {
  readonly field: string;
  readonly column: number;
  constructor(field: string, column: number, message: string) {
    super('TS_LOG_MALFORMED', `field ${field} (column ${column + 1}): ${message}`, {
      exitCode: ExitCode.input,
    });
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

/** Reads one token starting at `start`; returns the index after it (at a space or the end). */
function scanToken(line: string, start: number, column: number, fieldName: string): number {
  const n = line.length;
  if (line.charCodeAt(start) !== QUOTE) {
    let i = start;
    while (i < n && line.charCodeAt(i) !== SPACE) i++;
    if (i === start)
      throw new AlbParseError(fieldName, column, 'expected a value, found an empty field (two spaces)');
    tokenText = line.slice(start, i);
    tokenQuoted = false;
    tokenCanonical = true;
    return i;
  }
  let i = start + 1;
  let plainFrom = i;
  let text = '';
  let canonical = true;
  let escaped = false;
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
      escaped = true;
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
          if (
            !(code < 0x20 || code === 0x7f) ||
            line.slice(i + 2, i + 4) !== line.slice(i + 2, i + 4).toLowerCase()
          ) {
            canonical = false;
          }
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
  tokenText = escaped ? text + line.slice(plainFrom, i) : line.slice(plainFrom, i);
  tokenQuoted = true;
  tokenCanonical = canonical;
  i++;
  if (i < n && line.charCodeAt(i) !== SPACE) {
    throw new AlbParseError(fieldName, column, 'expected a space after the closing double quote');
  }
  return i;
}

const DIGITS = /^\d+$/;
const SECONDS = /^\d+(\.\d+)?$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

function fail(field: AlbField, column: number, expected: string, got: string): never {
  const shown = got.length > 60 ? `${got.slice(0, 57)}...` : got;
  throw new AlbParseError(field.name, column, `expected ${expected}, got "${shown}"`);
}

/**
 * Parses one ALB access-log line. Throws `AlbParseError` naming the first field that does not
 * fit. Lines from older layouts (fewer trailing fields) parse with the missing fields absent;
 * unknown trailing fields are kept in `extra`.
 */
export function parseAlbLine(line: string): AlbLogRecord {
  // A CRLF file leaves \r on each line; it is not part of the entry.
  const end = line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length;
  if (end !== line.length) line = line.slice(0, end);
  const rec = {} as Record<string, unknown>;
  let verbatim: Record<string, string> | undefined;
  let pos = 0;
  let column = 0;
  const fields: readonly AlbField[] = ALB_FIELDS;
  for (; column < fields.length && pos < line.length; column++) {
    const field = fields[column] as AlbField;
    const tokenStart = pos;
    pos = scanToken(line, pos, column, field.name);
    const raw = tokenText;
    let canonical = tokenCanonical && tokenQuoted === field.quoted;
    switch (field.kind) {
      case 'text':
        rec[field.key] = raw === '-' ? null : raw;
        break;
      case 'integer':
        if (raw === '-') rec[field.key] = null;
        else {
          if (!DIGITS.test(raw)) fail(field, column, 'an integer or -', raw);
          const v = Number(raw);
          rec[field.key] = v;
          if (String(v) !== raw) canonical = false;
        }
        break;
      case 'seconds':
        if (raw === '-1') rec[field.key] = null;
        else if (raw === '-') {
          rec[field.key] = null;
          canonical = false;
        } else {
          if (!SECONDS.test(raw)) fail(field, column, 'seconds such as 0.001, or -1', raw);
          const v = Number(raw);
          rec[field.key] = v;
          if (v.toFixed(3) !== raw) canonical = false;
        }
        break;
      case 'timestamp':
        if (raw === '-') rec[field.key] = null;
        else {
          if (!TIMESTAMP.test(raw))
            fail(field, column, 'an ISO-8601 UTC time such as 2024-05-01T12:00:00.123456Z', raw);
          rec[field.key] = raw;
        }
        break;
      case 'address':
        if (raw === '-') {
          rec[field.key] = null;
          rec[`${field.key}Port`] = null;
        } else {
          const colon = raw.lastIndexOf(':');
          const portText = raw.slice(colon + 1);
          if (colon <= 0 || !DIGITS.test(portText)) fail(field, column, 'ip:port or -', raw);
          rec[field.key] = raw.slice(0, colon);
          const port = Number(portText);
          rec[`${field.key}Port`] = port;
          if (String(port) !== portText) canonical = false;
        }
        break;
    }
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
  const type = rec.type as string | null;
  if (type === null) fail(fields[0] as AlbField, 0, 'a request type (http, https, h2, grpcs, ws, wss)', '-');
  if (rec.time === null) fail(fields[1] as AlbField, 1, 'the response time', '-');
  if (rec.elb === null) fail(fields[2] as AlbField, 2, 'the load balancer id', '-');
  const status = rec.elbStatusCode as number | null;
  if (status !== null && (status < 100 || status > 999))
    fail(fields[8] as AlbField, 8, 'a 3-digit status code or -', String(status));
  for (let i = column; i < fields.length; i++) {
    const field = fields[i] as AlbField;
    rec[field.key] = null;
    if (field.kind === 'address') rec[`${field.key}Port`] = null;
  }
  rec.fieldCount = column;
  rec.timeMs = Date.parse(rec.time as string);
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
  if (verbatim) rec.verbatim = verbatim;
  return rec as unknown as AlbLogRecord;
}
