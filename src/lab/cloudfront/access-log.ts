/**
 * CloudFront standard-log delivery into the lab's S3, as AWS describes it: gzip files of
 * TAB-separated lines under `#Version`/`#Fields` headers, keyed
 * `[<prefix>/]<distribution ID>.YYYY-MM-DD-HH.<unique ID>.gz` by the UTC hour in which the
 * requests occurred. Lines are collected per delivery interval of lab time and delivered when it
 * ends, one file per hour the interval's lines fall in (so an hour can have several files, as
 * on AWS). Nothing is dropped: a flush delivers what is pending.
 */

import { putAscii, putDigits, putInteger } from '../../common/bytes.js';
import type { Clock } from '../../common/clock.js';
import {
  type CloudFrontLogRecord,
  cloudFrontDateTime,
  cloudFrontFileHeader,
  cloudFrontLogKey,
  cloudFrontRecord,
  encodeCloudFrontValue,
  HOUR_MS,
  MUST_ENCODE_ANY_IN_CLOUDFRONT_VALUE,
  mustEncodeInCloudFrontValue,
} from '../../logs/cloudfront/index.js';
import { LineBatch } from '../access-log.js';
import { putSeconds } from '../alb/log-line.js';
import type { LabObjectStore } from '../backend.js';
import { LogDelivery } from '../log-delivery.js';
import type { LogSpool } from '../log-spool.js';
import { randomChunk } from '../random.js';
import type { EdgeExchange } from './server.js';

export interface CloudFrontLogOptions {
  store: LabObjectStore;
  bucket: string;
  prefix: string;
  distributionId: string;
  domainName: string;
  pop: string;
  /** Lab ms. */
  intervalMs: number;
  clock: Clock;
  dataDir?: string | undefined;
  /** Where pending lines wait past a chunk (else they stay in memory until delivered). */
  spool?: LogSpool | undefined;
}

const UNIQUE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function uniqueId(): string {
  let s = '';
  for (const b of randomChunk(11)) s += UNIQUE[b % UNIQUE.length];
  return s;
}

/** The log record of one exchange (the lab serves plain HTTP: no TLS fields). */
export function exchangeRecord(e: EdgeExchange, o: { domainName: string; pop: string }): CloudFrontLogRecord {
  const q = e.url.indexOf('?');
  const r = e.response;
  const sent = !e.aborted && r !== undefined;
  const { date, time } = cloudFrontDateTime(e.endMs);
  return cloudFrontRecord({
    date,
    time,
    timeMs: Math.floor(e.endMs / 1000) * 1000,
    edgeLocation: o.pop,
    scBytes: e.sentBytes,
    clientIp: e.clientIp,
    method: e.method,
    host: o.domainName,
    uriStem: q < 0 ? e.url : e.url.slice(0, q),
    status: r === undefined ? 0 : e.status,
    referer: e.referer ?? null,
    userAgent: e.userAgent ?? null,
    uriQuery: q < 0 || q === e.url.length - 1 ? null : e.url.slice(q + 1),
    cookie: null,
    // A viewer that went away makes the request an Error, whatever the response was.
    resultType: sent ? r.resultType : 'Error',
    requestId: r?.requestId ?? null,
    hostHeader: e.host ?? null,
    protocol: 'http',
    csBytes: e.receivedBytes,
    timeTaken: Math.max(0, e.endMs - e.startMs) / 1000,
    forwardedFor: e.xForwardedFor ?? null,
    responseResultType: r?.resultType ?? 'Error',
    protocolVersion: `HTTP/${e.httpVersion}`,
    clientPort: e.clientPort,
    timeToFirstByte: Math.max(0, e.readyMs - e.startMs) / 1000,
    detailedResultType: sent ? r.detailedResultType : 'ClientCommError',
    contentType: r?.contentType ?? null,
    contentLength: r?.body.length ?? null,
  });
}

/** A text column as formatCloudFrontLine writes it: absent or empty `-`, else URL-encoded (ASCII). */
const text = (v: string | null | undefined): string =>
  v === undefined || v === null || v === '' ? '-' : encodeCloudFrontValue(v);

const TAB = 0x09;

const DASH = 0x2d;

/**
 * `text(s.slice(from, to))` put at `at`, without the slice; returns where it ends. Copied as it is
 * checked: most values need no encoding; one that does is written again from the start, encoded.
 * Room: 9 bytes per UTF-16 unit (`%XX` for each of up to 3 UTF-8 bytes).
 */
function putTextOf(buf: Buffer, at: number, s: string, from: number, to: number): number {
  if (from >= to) {
    buf[at] = DASH;
    return at + 1;
  }
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (mustEncodeInCloudFrontValue(c)) return putAscii(buf, at, encodeCloudFrontValue(s.slice(from, to)));
    buf[at + i - from] = c;
  }
  return at + to - from;
}

/** From this length on, a regular expression's scan and a native copy beat the loop of putTextOf. */
const LONG_TEXT = 32;

/** `text(v)` put at `at`; returns where it ends. */
const putText = (buf: Buffer, at: number, v: string | null | undefined): number =>
  v == null
    ? putTextOf(buf, at, '', 0, 0)
    : v.length >= LONG_TEXT && !MUST_ENCODE_ANY_IN_CLOUDFRONT_VALUE.test(v)
      ? at + buf.write(v, at, 'latin1')
      : putTextOf(buf, at, v, 0, v.length);

/** Room for an integer or seconds column: the longest String() of a number. */
const NUMBER_ROOM = 25;

/** Room for a text column of `n` UTF-16 units once URL-encoded. */
const textRoom = (v: string | null | undefined): number => (v == null ? 1 : 9 * v.length + 1);

/**
 * The bytes of a run of columns, kept with the values they were written from, and copied while
 * the same values come again: in the lab, most columns repeat from line to line (the same client,
 * path, user agent, result, content type), and a typed-array copy costs a fraction of writing
 * them character by character with their encoding checks.
 */
class ColumnRun {
  /** The values the bytes were written from (compared with ===); `valid` false until written once. */
  readonly key: unknown[];
  valid = false;
  private store = new Uint8Array(256);
  /** The kept bytes: a view of `store`. */
  bytes: Uint8Array = this.store.subarray(0, 0);

  constructor(size: number) {
    this.key = new Array(size).fill(undefined);
  }

  /** Puts the kept bytes at `at`; returns where they end. */
  put(buf: Buffer, at: number): number {
    buf.set(this.bytes, at);
    return at + this.bytes.length;
  }

  /** Keeps `buf[from, to)`, just written from the key's current values. */
  keep(buf: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n > this.store.length) this.store = new Uint8Array(Math.max(n, 2 * this.store.length));
    this.store.set(buf.subarray(from, to));
    this.bytes = this.store.subarray(0, n);
    this.valid = true;
  }
}

/**
 * Writes the log line of one exchange into a batch: the text `formatCloudFrontLine(exchangeRecord(e,
 * o))` writes (the tests hold it to that), put in place byte by byte (every column is ASCII once
 * URL-encoded), with the columns that never change for a distribution encoded once and the runs of
 * columns between the ones that change with every request (request id, times, client port) copied
 * as bytes while their values repeat: no record object, no string of the line, for the lab writes
 * a line per viewer request.
 */
export class CloudFrontLineWriter {
  private readonly pop: string;
  private readonly host: string;
  /** date and time; x-edge-location .. x-edge-result-type; x-host-header .. cs-bytes; x-forwarded-for .. fle; detailed result .. range. */
  private readonly dateTime = new ColumnRun(1);
  private readonly head = new ColumnRun(8);
  private readonly middle = new ColumnRun(2);
  private readonly tail = new ColumnRun(3);
  private readonly end = new ColumnRun(3);

  constructor(o: { domainName: string; pop: string }) {
    this.pop = text(o.pop);
    this.host = text(o.domainName);
  }

  write(e: EdgeExchange, batch: LineBatch): void {
    const url = e.url;
    const r = e.response;
    const sent = !e.aborted && r !== undefined;
    const when = cloudFrontDateTime(e.endMs);
    const { date, time } = when;
    const max =
      date.length +
      time.length +
      this.pop.length +
      this.host.length +
      textRoom(e.clientIp) +
      textRoom(e.method) +
      textRoom(url) +
      textRoom(e.referer) +
      textRoom(e.userAgent) +
      (r === undefined
        ? 32
        : 2 * textRoom(r.resultType) +
          textRoom(r.requestId) +
          textRoom(r.detailedResultType) +
          textRoom(r.contentType)) +
      textRoom(e.host) +
      textRoom(e.xForwardedFor) +
      textRoom(e.httpVersion) +
      8 * NUMBER_ROOM +
      // TABs, the constant columns, `000`, `HTTP/`.
      80;
    const buf = batch.room(max);
    let at = batch.end;
    // The same second as the line before (cloudFrontDateTime hands the same pair): its bytes again.
    const dateTime = this.dateTime;
    if (dateTime.valid && dateTime.key[0] === when) {
      at = dateTime.put(buf, at);
    } else {
      const from = at;
      at = putAscii(buf, at, date);
      buf[at++] = TAB;
      at = putAscii(buf, at, time);
      buf[at++] = TAB;
      dateTime.keep(buf, from, at);
      dateTime.key[0] = when;
    }

    const status = r === undefined ? -1 : e.status;
    const resultType = sent ? r.resultType : 'Error';
    const head = this.head;
    const hk = head.key;
    if (
      head.valid &&
      hk[0] === e.sentBytes &&
      hk[1] === e.clientIp &&
      hk[2] === e.method &&
      hk[3] === url &&
      hk[4] === status &&
      hk[5] === e.referer &&
      hk[6] === e.userAgent &&
      hk[7] === resultType
    ) {
      at = head.put(buf, at);
    } else {
      const from = at;
      const q = url.indexOf('?');
      at = putAscii(buf, at, this.pop);
      buf[at++] = TAB;
      at = putInteger(buf, at, e.sentBytes);
      buf[at++] = TAB;
      at = putText(buf, at, e.clientIp);
      buf[at++] = TAB;
      at = putText(buf, at, e.method);
      buf[at++] = TAB;
      at = putAscii(buf, at, this.host);
      buf[at++] = TAB;
      at = putTextOf(buf, at, url, 0, q < 0 ? url.length : q);
      buf[at++] = TAB;
      if (status >>> 0 === status && status < 1000) at = putDigits(buf, at, status, 3);
      else if (status < 0) at = putAscii(buf, at, '000');
      else at = putAscii(buf, at, String(status).padStart(3, '0'));
      buf[at++] = TAB;
      at = putText(buf, at, e.referer);
      buf[at++] = TAB;
      at = putText(buf, at, e.userAgent);
      buf[at++] = TAB;
      at = q < 0 ? putText(buf, at, undefined) : putTextOf(buf, at, url, q + 1, url.length);
      buf[at++] = TAB;
      buf[at++] = DASH; // cs(Cookie)
      buf[at++] = TAB;
      at = sent ? putText(buf, at, resultType) : putAscii(buf, at, resultType);
      buf[at++] = TAB;
      head.keep(buf, from, at);
      hk[0] = e.sentBytes;
      hk[1] = e.clientIp;
      hk[2] = e.method;
      hk[3] = url;
      hk[4] = status;
      hk[5] = e.referer;
      hk[6] = e.userAgent;
      hk[7] = resultType;
    }

    at = putText(buf, at, r?.requestId);
    buf[at++] = TAB;

    const middle = this.middle;
    const mk = middle.key;
    if (middle.valid && mk[0] === e.host && mk[1] === e.receivedBytes) {
      at = middle.put(buf, at);
    } else {
      const from = at;
      at = putText(buf, at, e.host);
      buf[at++] = TAB;
      at = putAscii(buf, at, 'http');
      buf[at++] = TAB;
      at = putInteger(buf, at, e.receivedBytes);
      buf[at++] = TAB;
      middle.keep(buf, from, at);
      mk[0] = e.host;
      mk[1] = e.receivedBytes;
    }

    at = putSeconds(buf, at, Math.max(0, e.endMs - e.startMs) / 1000);
    buf[at++] = TAB;

    const responseResultType = r === undefined ? undefined : r.resultType;
    const tail = this.tail;
    const tk = tail.key;
    if (tail.valid && tk[0] === e.xForwardedFor && tk[1] === responseResultType && tk[2] === e.httpVersion) {
      at = tail.put(buf, at);
    } else {
      const from = at;
      at = putText(buf, at, e.xForwardedFor);
      buf[at++] = TAB;
      at = putAscii(buf, at, '-\t-'); // ssl-protocol, ssl-cipher
      buf[at++] = TAB;
      if (responseResultType === undefined) at = putAscii(buf, at, 'Error');
      else at = putText(buf, at, responseResultType);
      buf[at++] = TAB;
      if (e.httpVersion === '1.1') at = putAscii(buf, at, 'HTTP/1.1');
      else at = putText(buf, at, `HTTP/${e.httpVersion}`);
      buf[at++] = TAB;
      at = putAscii(buf, at, '-\t-'); // fle-status, fle-encrypted-fields
      buf[at++] = TAB;
      tail.keep(buf, from, at);
      tk[0] = e.xForwardedFor;
      tk[1] = responseResultType;
      tk[2] = e.httpVersion;
    }

    at = putInteger(buf, at, e.clientPort);
    buf[at++] = TAB;
    at = putSeconds(buf, at, Math.max(0, e.readyMs - e.startMs) / 1000);
    buf[at++] = TAB;

    const detailed = sent ? r.detailedResultType : 'ClientCommError';
    const contentType = r === undefined ? undefined : r.contentType;
    const contentLength = r === undefined ? -1 : r.body.length;
    const end = this.end;
    const ek = end.key;
    if (end.valid && ek[0] === detailed && ek[1] === contentType && ek[2] === contentLength) {
      at = end.put(buf, at);
    } else {
      const from = at;
      at = sent ? putText(buf, at, detailed) : putAscii(buf, at, detailed);
      buf[at++] = TAB;
      at = putText(buf, at, contentType);
      buf[at++] = TAB;
      if (contentLength < 0) buf[at++] = DASH;
      else at = putInteger(buf, at, contentLength);
      buf[at++] = TAB;
      at = putAscii(buf, at, '-\t-'); // sc-range-start, sc-range-end
      end.keep(buf, from, at);
      ek[0] = detailed;
      ek[1] = contentType;
      ek[2] = contentLength;
    }
    batch.close(at);
  }
}

export class CloudFrontLogWriter {
  /** Interval end -> hour start -> lines (as the ALB's writer keeps them: bytes, no object per line). */
  private readonly pending = new Map<number, Map<number, LineBatch>>();
  private readonly delivery: LogDelivery;
  linesWritten = 0;
  linesDelivered = 0;
  readonly keys: string[] = [];

  private readonly line: CloudFrontLineWriter;

  constructor(private readonly o: CloudFrontLogOptions) {
    this.line = new CloudFrontLineWriter(o);
    this.delivery = new LogDelivery(o.store, o.bucket, o.dataDir);
  }

  /** The batch lines of [currentFrom, currentTo) go to while it is pending (most lines land in the last one). */
  private current: LineBatch | undefined;
  private currentFrom = 0;
  private currentTo = 0;

  write(e: EdgeExchange): void {
    const t = e.endMs;
    if (this.current !== undefined && t >= this.currentFrom && t < this.currentTo) {
      this.line.write(e, this.current);
      this.linesWritten++;
      return;
    }
    const end = (Math.floor(t / this.o.intervalMs) + 1) * this.o.intervalMs;
    let byHour = this.pending.get(end);
    if (!byHour) {
      byHour = new Map();
      this.pending.set(end, byHour);
    }
    const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
    let lines = byHour.get(hour);
    if (!lines) {
      lines = new LineBatch(this.o.spool);
      byHour.set(hour, lines);
    }
    // Both the delivery interval and the hour hold from here to the earlier of their ends.
    this.current = lines;
    this.currentFrom = Math.max(end - this.o.intervalMs, hour);
    this.currentTo = Math.min(end, hour + HOUR_MS);
    this.line.write(e, lines);
    this.linesWritten++;
  }

  /** Delivers every interval that has ended on the lab clock. */
  tick(): void {
    const now = this.o.clock.now();
    for (const end of [...this.pending.keys()].sort((a, b) => a - b)) if (end <= now) this.deliver(end);
  }

  private deliver(end: number): void {
    const byHour = this.pending.get(end);
    this.pending.delete(end);
    this.current = undefined;
    if (!byHour) return;
    for (const [hour, lines] of byHour) {
      const key = cloudFrontLogKey({
        prefix: this.o.prefix.replace(/^\/+|\/+$/g, ''),
        distributionId: this.o.distributionId,
        hourMs: hour,
        unique: uniqueId(),
      });
      this.delivery.deliver(key, lines, Buffer.from(cloudFrontFileHeader(), 'utf8'), () => {
        this.keys.push(key);
        this.linesDelivered += lines.lines;
      });
    }
  }

  /** Delivers everything pending and waits until it is stored. */
  async flush(): Promise<void> {
    for (const end of [...this.pending.keys()].sort((a, b) => a - b)) this.deliver(end);
    await this.delivery.flush();
  }

  get pendingLines(): number {
    let n = 0;
    for (const byHour of this.pending.values()) for (const l of byHour.values()) n += l.lines;
    return n;
  }
}
