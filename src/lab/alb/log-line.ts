import { putAscii, putDigits, putInteger, putUint, putUtf8, RepeatedColumn } from '../../common/bytes.js';
import { ALB_FIELDS } from '../../logs/fields.js';
import { formatAlbLine } from '../../logs/format-line.js';
import { escapeQuoted } from '../../logs/parse-line.js';
import type { AlbLogRecord } from '../../logs/record.js';
import type { LineBatch } from '../access-log.js';

/**
 * The access-log line of one lab ALB request. The lab's lines differ only in these fields (no
 * target ip, no TLS, a `forward` action, no classification or transforms), so the line is written
 * by one template instead of the generic field-by-field writer: this runs once per request.
 * `formatLabLine(x) === formatAlbLine(labRecord(x))` (tested); if the shared field table ever
 * changes layout, the generic writer is used.
 */
export interface LabLogLine {
  /** ISO-8601 with microseconds; `timeMs` the same instant. */
  time: string;
  timeMs: number;
  elb: string;
  client: string;
  clientPort: number;
  /** Seconds, or null when not dispatched. */
  requestProcessingTime: number | null;
  targetProcessingTime: number | null;
  responseProcessingTime: number | null;
  elbStatusCode: number;
  targetStatusCode: number | null;
  receivedBytes: number;
  sentBytes: number;
  request: string;
  userAgent: string | null;
  targetGroupArn: string;
  traceId: string;
  matchedRulePriority: number;
  requestCreationTime: string;
  errorReason: string | null;
  connTraceId: string | null;
}

/**
 * What the lab's ALB knows of a request when it logs it: the line's fields before they are text
 * (times as lab ms, the request line in parts). `labLogLine` makes the fields of the line;
 * `putLabEntry` writes the same line's bytes without making them.
 */
export interface LabLogEntry extends Omit<LabLogLine, 'time' | 'request' | 'requestCreationTime'> {
  /** The request's method, Host (as logged: no port), listener port, path and query, HTTP version. */
  method: string;
  host: string;
  port: number;
  url: string;
  httpVersion: string;
  /** When the request arrived (lab ms). */
  creationMs: number;
}

/** ISO-8601 UTC with microseconds, as the access log writes times. */
export function isoMicros(ms: number): string {
  const second = secondOf(ms);
  return `${isoSecondPrefix(second)}${String(microsOf(ms, second)).padStart(6, '0')}Z`;
}
const secondOf = (ms: number): number => {
  const whole = Math.floor(ms);
  return whole - (((whole % 1000) + 1000) % 1000);
};
const microsOf = (ms: number, second: number): number => Math.min(999_999, Math.floor((ms - second) * 1000));
/** `YYYY-MM-DDTHH:MM:SS.` of a whole second (ms), kept for the last second asked. */
function isoSecondPrefix(second: number): string {
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second).toISOString().slice(0, 20);
  }
  return cachedPrefix;
}
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** isoMicros(ms) put at `at`; returns where it ends. */
function putIsoMicros(buf: Buffer, at: number, ms: number): number {
  const second = secondOf(ms);
  const start = at;
  at = putAscii(buf, at, isoSecondPrefix(second));
  const micros = microsOf(ms, second);
  if (!(micros >= 0)) return putAscii(buf, start, isoMicros(ms));
  at = putDigits(buf, at, micros, 6);
  buf[at] = 0x5a; // Z
  return at + 1;
}

/** The request line as the log quotes it. */
const labRequestLine = (e: LabLogEntry): string =>
  `${e.method} http://${e.host}:${e.port}${e.url} HTTP/${e.httpVersion}`;

/** The fields of the line of `e`. */
export function labLogLine(e: LabLogEntry): LabLogLine {
  const { method: _m, host: _h, port: _p, url: _u, httpVersion: _v, creationMs, ...same } = e;
  return {
    ...same,
    time: isoMicros(e.timeMs),
    request: labRequestLine(e),
    requestCreationTime: isoMicros(creationMs),
  };
}

/** The full record of a lab line, as the generic writer and the parser know it. */
export function labRecord(l: LabLogLine): AlbLogRecord {
  return {
    type: 'http',
    time: l.time,
    timeMs: l.timeMs,
    elb: l.elb,
    client: l.client,
    clientPort: l.clientPort,
    target: null,
    targetPort: null,
    requestProcessingTime: l.requestProcessingTime,
    targetProcessingTime: l.targetProcessingTime,
    responseProcessingTime: l.responseProcessingTime,
    elbStatusCode: l.elbStatusCode,
    targetStatusCode: l.targetStatusCode,
    receivedBytes: l.receivedBytes,
    sentBytes: l.sentBytes,
    request: l.request,
    userAgent: l.userAgent,
    sslCipher: null,
    sslProtocol: null,
    targetGroupArn: l.targetGroupArn,
    traceId: l.traceId,
    domainName: null,
    chosenCertArn: null,
    matchedRulePriority: l.matchedRulePriority,
    requestCreationTime: l.requestCreationTime,
    actionsExecuted: 'forward',
    redirectUrl: null,
    errorReason: l.errorReason,
    targetPortList: null,
    targetStatusCodeList: null,
    classification: null,
    classificationReason: null,
    connTraceId: l.connTraceId,
    transformedHost: null,
    transformedUri: null,
    requestTransformStatus: null,
    fieldCount: ALB_FIELDS.length,
  };
}

/** The field table the template below was written for: key, kind, quoted. */
const LAYOUT =
  'type text false,time timestamp false,elb text false,client address false,target address false,' +
  'requestProcessingTime seconds false,targetProcessingTime seconds false,responseProcessingTime seconds false,' +
  'elbStatusCode integer false,targetStatusCode integer false,receivedBytes integer false,sentBytes integer false,' +
  'request text true,userAgent text true,sslCipher text false,sslProtocol text false,targetGroupArn text false,' +
  'traceId text true,domainName text true,chosenCertArn text true,matchedRulePriority integer false,' +
  'requestCreationTime timestamp false,actionsExecuted text true,redirectUrl text true,errorReason text true,' +
  'targetPortList text true,targetStatusCodeList text true,classification text true,classificationReason text true,' +
  'connTraceId text false,transformedHost text true,transformedUri text true,requestTransformStatus text true';

/** Whether the template matches the shared field table (else the generic writer is used). */
export const LAB_LINE_TEMPLATE_CURRENT =
  ALB_FIELDS.map((f) => `${f.key} ${f.kind} ${f.quoted}`).join(',') === LAYOUT;

/** "000" .. "999" */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * `s` in whole milliseconds as `s.toFixed(3)` rounds it, or -1 where that needs toFixed itself:
 * rounding `s * 1000` to an integer gives the same digits unless the exact value is within a hair
 * of a tie (x.xxx5), where the product's rounding error could tip it.
 */
function roundedMillis(s: number): number {
  if (s >= 0 && s < 10_000) {
    const m = s * 1000;
    const whole = Math.floor(m);
    const frac = m - whole;
    if (Math.abs(frac - 0.5) > 1e-6) return frac > 0.5 ? whole + 1 : whole;
  }
  return -1;
}

/** `s.toFixed(3)` (the generic writer's form), without toFixed's cost for the usual case; null is `-1`. */
export function secondsText(s: number | null): string {
  if (s === null) return '-1';
  const r = roundedMillis(s);
  if (r < 0) return s.toFixed(3);
  const i = Math.floor(r / 1000);
  return `${i}.${MILLIS[r - i * 1000]}`;
}

/** secondsText's text put at `at`; returns where it ends. */
export function putSeconds(buf: Buffer, at: number, s: number | null): number {
  if (s === null) return putAscii(buf, at, '-1');
  const r = roundedMillis(s);
  if (r < 0) return putAscii(buf, at, s.toFixed(3));
  const i = Math.floor(r / 1000);
  at = putUint(buf, at, i);
  buf[at++] = DOT;
  return putDigits(buf, at, r - i * 1000, 3);
}

/** Characters escapeQuoted rewrites; most values have none, and a regex test finds that fastest. */
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;
const quoted = (s: string | null): string =>
  s === null ? '"-"' : NEEDS_ESCAPE.test(s) ? `"${escapeQuoted(s)}"` : `"${s}"`;

export function formatLabLine(l: LabLogLine): string {
  if (!LAB_LINE_TEMPLATE_CURRENT) return formatAlbLine(labRecord(l));
  return `http ${l.time} ${l.elb} ${l.client}:${l.clientPort} - ${secondsText(l.requestProcessingTime)} ${secondsText(l.targetProcessingTime)} ${secondsText(l.responseProcessingTime)} ${l.elbStatusCode} ${l.targetStatusCode ?? '-'} ${l.receivedBytes} ${l.sentBytes} ${quoted(l.request)} ${quoted(l.userAgent)} - - ${l.targetGroupArn} ${quoted(l.traceId)} "-" "-" ${l.matchedRulePriority} ${l.requestCreationTime} "forward" "-" ${quoted(l.errorReason)} "-" "-" "-" "-" ${l.connTraceId ?? '-'} "-" "-" "-"`;
}

const SPACE = 0x20;
const QUOTE = 0x22;
const DASH = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;

/** escapeQuoted(s) put at `at` (UTF-8); returns where it ends. */
function putEscaped(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Anything but plain ASCII: written again from the start, escaped as the template escapes it.
    if (c < 0x20 || c >= 0x7f || c === QUOTE || c === 0x5c)
      return putUtf8(buf, at, NEEDS_ESCAPE.test(s) ? escapeQuoted(s) : s);
    buf[at + i] = c;
  }
  return at + n;
}

/** quoted(s) put at `at` (UTF-8); returns where it ends. */
function putQuoted(buf: Buffer, at: number, s: string | null, column?: RepeatedColumn): number {
  buf[at++] = QUOTE;
  if (s === null) buf[at++] = DASH;
  else at = column === undefined ? putEscaped(buf, at, s) : column.put(buf, at, s);
  buf[at++] = QUOTE;
  return at;
}

/**
 * The columns whose values repeat from line to line (per load balancer, target group, connection,
 * client), each with the bytes of its last value. Escaping works character by character, so the
 * request line's parts are escaped one by one as the whole would be.
 */
const columns = {
  elb: new RepeatedColumn(putUtf8),
  client: new RepeatedColumn(putUtf8),
  host: new RepeatedColumn(putEscaped),
  url: new RepeatedColumn(putEscaped),
  userAgent: new RepeatedColumn(putEscaped),
  targetGroupArn: new RepeatedColumn(putUtf8),
  connTraceId: new RepeatedColumn(putUtf8),
};

const AFTER_USER_AGENT = ' - - ';
const AFTER_TRACE = ' "-" "-" ';
const AFTER_CREATION = ' "forward" "-" ';
const AFTER_REASON = ' "-" "-" "-" "-" ';
const LINE_END = ' "-" "-" "-"';

/** Room for the line of `e`: an escaped character takes at most 4 bytes (`\\xNN`), a UTF-16 unit at most 3. */
function entryRoom(e: LabLogEntry): number {
  return (
    4 *
      (e.elb.length +
        e.client.length +
        e.method.length +
        e.host.length +
        e.url.length +
        e.httpVersion.length +
        (e.userAgent?.length ?? 0) +
        e.targetGroupArn.length +
        e.traceId.length +
        (e.errorReason?.length ?? 0) +
        (e.connTraceId?.length ?? 0)) +
    // Two times (a year past 9999 takes more), seven integers, three seconds, the constant text.
    2 * 40 +
    10 * 25 +
    160
  );
}

/**
 * Writes the line of `e` into `batch`: the bytes of `formatLabLine(labLogLine(e))` and its newline
 * (tested), with no string of the line, of its times or of its request line on the way.
 */
export function putLabEntry(batch: LineBatch, e: LabLogEntry): void {
  if (!LAB_LINE_TEMPLATE_CURRENT) {
    batch.add(formatLabLine(labLogLine(e)));
    return;
  }
  const buf = batch.room(entryRoom(e));
  let at = putAscii(buf, batch.end, 'http ');
  at = putIsoMicros(buf, at, e.timeMs);
  buf[at++] = SPACE;
  at = columns.elb.put(buf, at, e.elb);
  buf[at++] = SPACE;
  at = columns.client.put(buf, at, e.client);
  buf[at++] = COLON;
  at = putInteger(buf, at, e.clientPort);
  buf[at++] = SPACE;
  buf[at++] = DASH;
  buf[at++] = SPACE;
  at = putSeconds(buf, at, e.requestProcessingTime);
  buf[at++] = SPACE;
  at = putSeconds(buf, at, e.targetProcessingTime);
  buf[at++] = SPACE;
  at = putSeconds(buf, at, e.responseProcessingTime);
  buf[at++] = SPACE;
  at = putInteger(buf, at, e.elbStatusCode);
  buf[at++] = SPACE;
  if (e.targetStatusCode === null) buf[at++] = DASH;
  else at = putInteger(buf, at, e.targetStatusCode);
  buf[at++] = SPACE;
  at = putInteger(buf, at, e.receivedBytes);
  buf[at++] = SPACE;
  at = putInteger(buf, at, e.sentBytes);
  buf[at++] = SPACE;
  buf[at++] = QUOTE;
  at = putEscaped(buf, at, e.method);
  at = putAscii(buf, at, ' http://');
  at = columns.host.put(buf, at, e.host);
  buf[at++] = COLON;
  at = putInteger(buf, at, e.port);
  at = columns.url.put(buf, at, e.url);
  at = putAscii(buf, at, ' HTTP/');
  at = putEscaped(buf, at, e.httpVersion);
  buf[at++] = QUOTE;
  buf[at++] = SPACE;
  at = putQuoted(buf, at, e.userAgent, columns.userAgent);
  at = putAscii(buf, at, AFTER_USER_AGENT);
  at = columns.targetGroupArn.put(buf, at, e.targetGroupArn);
  buf[at++] = SPACE;
  at = putQuoted(buf, at, e.traceId);
  at = putAscii(buf, at, AFTER_TRACE);
  at = putInteger(buf, at, e.matchedRulePriority);
  buf[at++] = SPACE;
  at = putIsoMicros(buf, at, e.creationMs);
  at = putAscii(buf, at, AFTER_CREATION);
  at = putQuoted(buf, at, e.errorReason);
  at = putAscii(buf, at, AFTER_REASON);
  if (e.connTraceId === null) buf[at++] = DASH;
  else at = columns.connTraceId.put(buf, at, e.connTraceId);
  at = putAscii(buf, at, LINE_END);
  batch.close(at);
}
