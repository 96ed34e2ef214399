/**
 * CloudFront standard-log delivery into the lab's S3, as AWS describes it: gzip files of
 * TAB-separated lines under `#Version`/`#Fields` headers, keyed
 * `[<prefix>/]<distribution ID>.YYYY-MM-DD-HH.<unique ID>.gz` by the UTC hour in which the
 * requests occurred. Lines are collected per delivery interval of lab time and delivered when it
 * ends, one file per hour the interval's lines fall in (so an hour can have several files, as
 * on AWS). Nothing is dropped: a flush delivers what is pending.
 */
import type { Clock } from '../../common/clock.js';
import {
  type CloudFrontLogRecord,
  cloudFrontDateTime,
  cloudFrontFileHeader,
  cloudFrontLogKey,
  cloudFrontRecord,
  encodeCloudFrontValue,
  HOUR_MS,
} from '../../logs/cloudfront/index.js';
import { LineBatch } from '../access-log.js';
import type { LabObjectStore } from '../backend.js';
import { LogDelivery } from '../log-delivery.js';
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

/** A text column as formatCloudFrontLine writes it: absent or empty `-`, else URL-encoded. */
const text = (v: string | null | undefined): string =>
  v === undefined || v === null || v === '' ? '-' : encodeCloudFrontValue(v);

/**
 * The log line of one exchange: the text `formatCloudFrontLine(exchangeRecord(e, o))` writes (the
 * tests hold it to that), built in one expression with the columns that never change for a
 * distribution written once, and no record object: the lab writes a line per viewer request.
 */
export function lineFormatter(o: { domainName: string; pop: string }): (e: EdgeExchange) => string {
  const pop = text(o.pop);
  const host = text(o.domainName);
  return (e) => {
    const url = e.url;
    const q = url.indexOf('?');
    const r = e.response;
    const sent = !e.aborted && r !== undefined;
    const { date, time } = cloudFrontDateTime(e.endMs);
    const status = r === undefined ? '000' : String(e.status).padStart(3, '0');
    const resultType = r === undefined ? 'Error' : text(r.resultType);
    return `${date}\t${time}\t${pop}\t${e.sentBytes}\t${text(e.clientIp)}\t${text(e.method)}\t${host}\t${text(
      q < 0 ? url : url.slice(0, q),
    )}\t${status}\t${text(e.referer)}\t${text(e.userAgent)}\t${
      q < 0 || q === url.length - 1 ? '-' : text(url.slice(q + 1))
    }\t-\t${sent ? resultType : 'Error'}\t${r === undefined ? '-' : text(r.requestId)}\t${text(e.host)}\thttp\t${
      e.receivedBytes
    }\t${(Math.max(0, e.endMs - e.startMs) / 1000).toFixed(3)}\t${text(e.xForwardedFor)}\t-\t-\t${resultType}\t${text(
      `HTTP/${e.httpVersion}`,
    )}\t-\t-\t${e.clientPort}\t${(Math.max(0, e.readyMs - e.startMs) / 1000).toFixed(3)}\t${
      sent ? text(r.detailedResultType) : 'ClientCommError'
    }\t${text(r?.contentType)}\t${r === undefined ? '-' : r.body.length}\t-\t-`;
  };
}

export class CloudFrontLogWriter {
  /** Interval end -> hour start -> lines (as the ALB's writer keeps them: bytes, no object per line). */
  private readonly pending = new Map<number, Map<number, LineBatch>>();
  private readonly delivery: LogDelivery;
  linesWritten = 0;
  linesDelivered = 0;
  readonly keys: string[] = [];

  private readonly line: (e: EdgeExchange) => string;

  constructor(private readonly o: CloudFrontLogOptions) {
    this.line = lineFormatter(o);
    this.delivery = new LogDelivery(o.store, o.bucket, o.dataDir);
  }

  /** The batch lines of [currentFrom, currentTo) go to while it is pending (most lines land in the last one). */
  private current: LineBatch | undefined;
  private currentFrom = 0;
  private currentTo = 0;

  write(e: EdgeExchange): void {
    const t = e.endMs;
    if (this.current !== undefined && t >= this.currentFrom && t < this.currentTo) {
      this.current.add(this.line(e));
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
      lines = new LineBatch();
      byHour.set(hour, lines);
    }
    // Both the delivery interval and the hour hold from here to the earlier of their ends.
    this.current = lines;
    this.currentFrom = Math.max(end - this.o.intervalMs, hour);
    this.currentTo = Math.min(end, hour + HOUR_MS);
    lines.add(this.line(e));
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
      const text = Buffer.concat([Buffer.from(cloudFrontFileHeader(), 'utf8'), lines.bytes()]);
      this.delivery.deliver(key, text, () => {
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
