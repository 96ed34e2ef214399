/**
 * HAR 1.2 entries for failing exchanges (http://www.softwareishard.com/blog/har-12-spec/).
 * Transport failures have response status 0 (as browsers record them). Probe-specific data are
 * underscore fields, as the spec allows: _seq, _traceId, _error, _errorCode, _origin, _intended.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isoUtc } from '../common/time.js';
import type { ExchangeOutcome } from './client.js';
import type { ProbeRecord } from './record.js';
import { isSensitiveHeader, REDACTED, redactUrl } from './redact.js';

export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    queryString: HarNameValue[];
    postData?: { mimeType: string; text: string };
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: HarNameValue[];
    headers: HarNameValue[];
    content: { size: number; mimeType: string; text?: string; encoding?: string; comment?: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: {
    blocked: number;
    dns: number;
    connect: number;
    send: number;
    wait: number;
    receive: number;
    ssl: number;
  };
  _seq: number;
  _traceId: string;
  _intended: string;
  _error: string | null;
  _errorCode: string | null;
  _errorMessage: string | null;
  _origin: string | null;
}

export const HAR_CREATOR = { name: 'throttlescope', version: '0.1.0' };

export interface HarRequestInfo {
  method: string;
  /** Full URL as sent (with the trace query token, if any). */
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function headerList(headers: Record<string, string | string[] | undefined>, redact: boolean): HarNameValue[] {
  const out: HarNameValue[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      out.push({ name, value: redact && isSensitiveHeader(name) ? REDACTED : v });
    }
  }
  return out;
}

function queryList(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function isText(mime: string): boolean {
  return /^text\/|json|xml|javascript|html|x-www-form-urlencoded/i.test(mime) || mime === '';
}

/** Builds the entry for one failing exchange. Timings in ms; unknown phases are -1. */
export function harEntry(
  record: ProbeRecord,
  req: HarRequestInfo,
  outcome: ExchangeOutcome,
  sentPerf: number,
  redact: boolean,
  capBytes: number,
): HarEntry {
  const url = redactUrl(req.url, redact);
  const resHeaders: IncomingHttpHeaders = outcome.headers ?? {};
  const mimeRaw = resHeaders['content-type'];
  const mimeType = (Array.isArray(mimeRaw) ? mimeRaw[0] : mimeRaw) ?? '';
  const content: HarEntry['response']['content'] = { size: outcome.bytes, mimeType };
  if (outcome.body && outcome.body.length > 0) {
    const text = outcome.body.toString('utf8');
    if (isText(mimeType) && !text.includes('\uFFFD')) content.text = text;
    else {
      content.text = outcome.body.toString('base64');
      content.encoding = 'base64';
    }
  }
  if (outcome.bodyTruncated) content.comment = `body truncated to the first ${capBytes} bytes`;
  const wait = outcome.headersAt !== undefined ? outcome.headersAt - sentPerf : outcome.endAt - sentPerf;
  const receive = outcome.headersAt !== undefined ? outcome.endAt - outcome.headersAt : 0;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const reqHeaders = headerList(req.headers, redact);
  return {
    startedDateTime: isoUtc(record.sent),
    time: record.serviceMs,
    request: {
      method: req.method,
      url,
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: reqHeaders,
      queryString: queryList(url),
      ...(req.body !== undefined
        ? {
            postData: {
              mimeType:
                req.headers['content-type'] ?? req.headers['Content-Type'] ?? 'application/octet-stream',
              text: req.body,
            },
          }
        : {}),
      headersSize: -1,
      bodySize: req.body === undefined ? 0 : Buffer.byteLength(req.body),
    },
    response: {
      status: outcome.status ?? 0,
      statusText: outcome.statusText,
      httpVersion: outcome.status === null ? '' : 'HTTP/1.1',
      cookies: [],
      headers: headerList(resHeaders, redact),
      content,
      redirectURL: String(resHeaders.location ?? ''),
      headersSize: -1,
      bodySize: outcome.status === null ? -1 : outcome.bytes,
    },
    cache: {},
    timings: {
      blocked: r3(Math.max(0, record.sent - record.intended)),
      dns: -1,
      connect: -1,
      send: 0,
      wait: r3(Math.max(0, wait)),
      receive: r3(Math.max(0, receive)),
      ssl: -1,
    },
    _seq: record.seq,
    _traceId: record.traceId,
    _intended: isoUtc(record.intended),
    _error: record.error,
    _errorCode: record.errorCode ?? null,
    _errorMessage: outcome.error ? outcome.error.message : null,
    _origin: record.origin,
  };
}
