import { ALB_FIELDS } from '../../logs/fields.js';
import { formatAlbLine } from '../../logs/format-line.js';
import { escapeQuoted } from '../../logs/parse-line.js';
import type { AlbLogRecord } from '../../logs/record.js';

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
 * `s.toFixed(3)` (the generic writer's form), without toFixed's cost for the usual case: rounding
 * `s * 1000` to an integer gives the same digits unless the exact value is within a hair of a
 * tie (x.xxx5), where the product's rounding error could tip it; those go to toFixed.
 */
export function secondsText(s: number | null): string {
  if (s === null) return '-1';
  if (s >= 0 && s < 10_000) {
    const m = s * 1000;
    const whole = Math.floor(m);
    const frac = m - whole;
    if (Math.abs(frac - 0.5) > 1e-6) {
      const r = frac > 0.5 ? whole + 1 : whole;
      const i = Math.floor(r / 1000);
      return `${i}.${MILLIS[r - i * 1000]}`;
    }
  }
  return s.toFixed(3);
}
/** Characters escapeQuoted rewrites; most values have none, and a regex test finds that fastest. */
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;
const quoted = (s: string | null): string =>
  s === null ? '"-"' : NEEDS_ESCAPE.test(s) ? `"${escapeQuoted(s)}"` : `"${s}"`;

export function formatLabLine(l: LabLogLine): string {
  if (!LAB_LINE_TEMPLATE_CURRENT) return formatAlbLine(labRecord(l));
  return `http ${l.time} ${l.elb} ${l.client}:${l.clientPort} - ${secondsText(l.requestProcessingTime)} ${secondsText(l.targetProcessingTime)} ${secondsText(l.responseProcessingTime)} ${l.elbStatusCode} ${l.targetStatusCode ?? '-'} ${l.receivedBytes} ${l.sentBytes} ${quoted(l.request)} ${quoted(l.userAgent)} - - ${l.targetGroupArn} ${quoted(l.traceId)} "-" "-" ${l.matchedRulePriority} ${l.requestCreationTime} "forward" "-" ${quoted(l.errorReason)} "-" "-" "-" "-" ${l.connTraceId ?? '-'} "-" "-" "-"`;
}
