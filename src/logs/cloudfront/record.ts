import { digitsValue } from '../parse-line.js';
import { STANDARD_FIELD_COUNT } from './fields.js';

/**
 * One CloudFront standard-log entry, typed. Text is URL-decoded once; absent values (`-`) are
 * `null`. `status` 0 is the documented `000` (viewer gone before the response began).
 */
export interface CloudFrontLogRecord {
  /** `YYYY-MM-DD` and `HH:MM:SS` as written (UTC); `timeMs` is the same instant in epoch ms. */
  date: string;
  time: string;
  timeMs: number;
  edgeLocation: string | null;
  scBytes: number | null;
  clientIp: string | null;
  method: string | null;
  host: string | null;
  uriStem: string | null;
  status: number | null;
  referer: string | null;
  userAgent: string | null;
  uriQuery: string | null;
  cookie: string | null;
  resultType: string | null;
  requestId: string | null;
  hostHeader: string | null;
  protocol: string | null;
  csBytes: number | null;
  timeTaken: number | null;
  forwardedFor: string | null;
  sslProtocol: string | null;
  sslCipher: string | null;
  responseResultType: string | null;
  protocolVersion: string | null;
  fleStatus: string | null;
  fleEncryptedFields: number | null;
  clientPort: number | null;
  timeToFirstByte: number | null;
  detailedResultType: string | null;
  contentType: string | null;
  contentLength: number | null;
  rangeStart: number | null;
  rangeEnd: number | null;
  distributionTenantId: string | null;
  connectionId: string | null;
  /** How many of the file's columns the line carried (older layouts and short lines stop earlier). */
  fieldCount: number;
  /** Cells after the file's last column, verbatim (AWS appends fields; the example has a trailing tab). */
  extra?: string[] | undefined;
  /**
   * Column text that the canonical writer would not reproduce (lower-case hex, a raw space,
   * `\x20`, unknown columns), by header name, so that format(parse(line)) == line.
   */
  verbatim?: Record<string, string> | undefined;
}

export type CloudFrontLogRecordInit = Partial<CloudFrontLogRecord> &
  Pick<CloudFrontLogRecord, 'date' | 'time'>;

/** Epoch ms of `YYYY-MM-DD` + `HH:MM:SS`, or NaN when either is not that shape. */
export function cloudFrontTimeMs(date: string, time: string): number {
  if (date.length !== 10 || time.length !== 8) return Number.NaN;
  if (date[4] !== '-' || date[7] !== '-' || time[2] !== ':' || time[5] !== ':') return Number.NaN;
  const y = digitsValue(date, 0, 4);
  const mo = digitsValue(date, 5, 7);
  const d = digitsValue(date, 8, 10);
  const h = digitsValue(time, 0, 2);
  const mi = digitsValue(time, 3, 5);
  const s = digitsValue(time, 6, 8);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31) return Number.NaN;
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) return Number.NaN;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2024-02-31 over into March: a day that does not exist is not a date.
  if (new Date(ms).getUTCDate() !== d && s !== 60) return Number.NaN;
  return ms;
}

/** `YYYY-MM-DD` and `HH:MM:SS` (UTC) of an instant, to the second. */
export function cloudFrontDateTime(ms: number): { readonly date: string; readonly time: string } {
  const second = Math.floor(ms / 1000);
  // Writers ask for one second after another: format each second once.
  if (second !== lastSecond) {
    const iso = new Date(second * 1000).toISOString();
    lastSecond = second;
    lastDateTime = { date: iso.slice(0, 10), time: iso.slice(11, 19) };
  }
  return lastDateTime;
}
let lastSecond = Number.NaN;
let lastDateTime = { date: '', time: '' };

/** A record with every optional field absent, for writers (the lab, tests) to fill in. */
export function cloudFrontRecord(init: CloudFrontLogRecordInit): CloudFrontLogRecord {
  return {
    timeMs: init.timeMs ?? cloudFrontTimeMs(init.date, init.time),
    edgeLocation: null,
    scBytes: null,
    clientIp: null,
    method: null,
    host: null,
    uriStem: null,
    status: null,
    referer: null,
    userAgent: null,
    uriQuery: null,
    cookie: null,
    resultType: null,
    requestId: null,
    hostHeader: null,
    protocol: null,
    csBytes: null,
    timeTaken: null,
    forwardedFor: null,
    sslProtocol: null,
    sslCipher: null,
    responseResultType: null,
    protocolVersion: null,
    fleStatus: null,
    fleEncryptedFields: null,
    clientPort: null,
    timeToFirstByte: null,
    detailedResultType: null,
    contentType: null,
    contentLength: null,
    rangeStart: null,
    rangeEnd: null,
    distributionTenantId: null,
    connectionId: null,
    fieldCount: STANDARD_FIELD_COUNT,
    ...init,
  };
}
