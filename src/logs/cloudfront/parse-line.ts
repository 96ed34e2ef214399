import { ThrottlescopeError } from '../../common/errors.js';
import {
  CLOUDFRONT_FIELDS,
  type CloudFrontLayout,
  MIN_FIELD_COUNT,
  STANDARD_FIELD_COUNT,
  standardLayout,
} from './fields.js';
import { type CloudFrontLogRecord, cloudFrontTimeMs } from './record.js';
import { decodeCloudFrontValue, lastDecodeWasCanonical } from './url-encoding.js';

/** A line that is not a CloudFront standard-log entry: names the field, what was expected and what was found. */
export class CloudFrontParseError extends ThrottlescopeError {
  readonly field: string;
  readonly column: number;
  constructor(field: string, column: number, message: string) {
    super('TS_LOG_MALFORMED', `field ${field} (column ${column + 1}): ${message}`);
    this.name = 'CloudFrontParseError';
    this.field = field;
    this.column = column;
  }
}

function fail(field: string, column: number, expected: string, got: string): never {
  const shown = got.length > 60 ? `${got.slice(0, 57)}...` : got;
  throw new CloudFrontParseError(field, column, `expected ${expected}, got "${shown}"`);
}

const DEFAULT_LAYOUT = standardLayout(STANDARD_FIELD_COUNT);
const INDEX_BY_NAME = new Map(CLOUDFRONT_FIELDS.map((x, i) => [x.name, i]));
const columnIndexes = new WeakMap<CloudFrontLayout, Int8Array>();

/** For each column of a layout, the index of its documented field (-1: unknown name). */
function indexesOf(layout: CloudFrontLayout): Int8Array {
  let idx = columnIndexes.get(layout);
  if (!idx) {
    idx = Int8Array.from(layout.names, (n) => INDEX_BY_NAME.get(n) ?? -1);
    columnIndexes.set(layout, idx);
  }
  return idx;
}

/** Value of an all-digit string, or -1. */
function digits(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const SECONDS = /^\d{1,9}(\.\d{1,9})?$/;
const FIELD_TOTAL = CLOUDFRONT_FIELDS.length;
const values: unknown[] = new Array(FIELD_TOTAL).fill(null);

/**
 * Parses one data line of a CloudFront standard log, its columns named by `layout` (the file's
 * `#Fields:` header; the 33 documented fields by default). Splits on TAB only: values never
 * contain a raw tab, but real files do carry raw spaces. Text is URL-decoded once. Throws
 * `CloudFrontParseError` naming the first field that does not fit.
 */
export function parseCloudFrontLine(
  line: string,
  layout: CloudFrontLayout = DEFAULT_LAYOUT,
): CloudFrontLogRecord {
  if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
  if (line.charCodeAt(0) === 35 /* # */)
    throw new CloudFrontParseError('line', 0, 'expected an entry, got a header line starting with #');
  const cells = line.split('\t');
  const columns = layout.names.length;
  const minimum = Math.min(MIN_FIELD_COUNT, columns);
  if (cells.length < minimum) {
    const missing = layout.names[cells.length] ?? '?';
    throw new CloudFrontParseError(
      missing,
      cells.length,
      `line ends after ${cells.length} tab-separated fields; an entry has at least ${minimum} (date ... ${layout.names[minimum - 1]})`,
    );
  }
  const indexes = indexesOf(layout);
  values.fill(null);
  let verbatim: Record<string, string> | undefined;
  const count = Math.min(cells.length, columns);
  for (let column = 0; column < count; column++) {
    const raw = cells[column] as string;
    const name = layout.names[column] as string;
    const index = indexes[column] as number;
    if (raw.length === 0) fail(name, column, 'a value or -', '');
    if (index < 0) {
      verbatim ??= {};
      verbatim[name] = raw;
      continue;
    }
    const field = CLOUDFRONT_FIELDS[index];
    const absent = raw === '-';
    let canonical = true;
    let value: unknown = null;
    switch (field?.kind) {
      case 'date':
      case 'time':
        value = raw;
        break;
      case 'status':
        if (!absent) {
          const v = digits(raw);
          if (v < 0 || raw.length !== 3)
            fail(name, column, 'a 3-digit status code (000 when the viewer left)', raw);
          value = v;
        }
        break;
      case 'integer':
        if (!absent) {
          const v = digits(raw);
          if (v < 0) fail(name, column, 'an integer or -', raw);
          canonical = String(v) === raw;
          value = v;
        }
        break;
      case 'seconds':
        if (!absent) {
          if (!SECONDS.test(raw)) fail(name, column, 'seconds such as 0.001, or -', raw);
          const v = Number(raw);
          canonical = v.toFixed(3) === raw;
          value = v;
        }
        break;
      default:
        if (!absent) {
          value = decodeCloudFrontValue(raw);
          canonical = lastDecodeWasCanonical();
        }
    }
    values[index] = value;
    if (!canonical) {
      verbatim ??= {};
      verbatim[name] = raw;
    }
  }
  const date = values[0] as string | null;
  const time = values[1] as string | null;
  if (date === null || time === null)
    throw new CloudFrontParseError(date === null ? 'date' : 'time', 0, 'the file names no date/time column');
  const timeMs = cloudFrontTimeMs(date, time);
  if (Number.isNaN(timeMs)) {
    const dateOk = !Number.isNaN(cloudFrontTimeMs(date, '00:00:00'));
    const name = dateOk ? 'time' : 'date';
    fail(
      name,
      layout.names.indexOf(name),
      dateOk ? 'a UTC time HH:MM:SS' : 'a UTC date YYYY-MM-DD',
      dateOk ? time : date,
    );
  }
  const v = values;
  const rec: CloudFrontLogRecord = {
    date,
    time,
    timeMs,
    edgeLocation: v[2] as string | null,
    scBytes: v[3] as number | null,
    clientIp: v[4] as string | null,
    method: v[5] as string | null,
    host: v[6] as string | null,
    uriStem: v[7] as string | null,
    status: v[8] as number | null,
    referer: v[9] as string | null,
    userAgent: v[10] as string | null,
    uriQuery: v[11] as string | null,
    cookie: v[12] as string | null,
    resultType: v[13] as string | null,
    requestId: v[14] as string | null,
    hostHeader: v[15] as string | null,
    protocol: v[16] as string | null,
    csBytes: v[17] as number | null,
    timeTaken: v[18] as number | null,
    forwardedFor: v[19] as string | null,
    sslProtocol: v[20] as string | null,
    sslCipher: v[21] as string | null,
    responseResultType: v[22] as string | null,
    protocolVersion: v[23] as string | null,
    fleStatus: v[24] as string | null,
    fleEncryptedFields: v[25] as number | null,
    clientPort: v[26] as number | null,
    timeToFirstByte: v[27] as number | null,
    detailedResultType: v[28] as string | null,
    contentType: v[29] as string | null,
    contentLength: v[30] as number | null,
    rangeStart: v[31] as number | null,
    rangeEnd: v[32] as number | null,
    distributionTenantId: v[33] as string | null,
    connectionId: v[34] as string | null,
    fieldCount: count,
    extra: cells.length > columns ? cells.slice(columns) : undefined,
    verbatim,
  };
  return rec;
}
