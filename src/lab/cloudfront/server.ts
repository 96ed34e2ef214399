/**
 * The edge's HTTP listener: reads a viewer request, lets the edge core answer it, writes the
 * answer, and reports each finished exchange once (for the access log and the metrics), whether it
 * completed or the viewer went away first.
 */
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../../common/clock.js';
import { closeGracefully, listenOn } from '../listener.js';
import type { CloudFrontEdge, EdgeResponse, Header } from './edge.js';

/** One viewer exchange, as the access log and the metrics need it. Times are lab ms. */
export interface EdgeExchange {
  startMs: number;
  endMs: number;
  /** When the answer was ready (the first byte). */
  readyMs: number;
  clientIp: string;
  clientPort: number;
  method: string;
  /** Path and query as received. */
  url: string;
  httpVersion: string;
  /** The Host header the viewer sent. */
  host: string | undefined;
  userAgent: string | undefined;
  referer: string | undefined;
  xForwardedFor: string | undefined;
  /** Bytes received from the viewer, headers included. */
  receivedBytes: number;
  /** Bytes sent to the viewer, headers included; 0 when it went away first. */
  sentBytes: number;
  /** 0 when the viewer closed before the response began. */
  status: number;
  /** Undefined when the viewer went away before an answer was ready. */
  response: EdgeResponse | undefined;
  /** The response was not completely sent. */
  aborted: boolean;
}

export interface EdgeCounters {
  requests: number;
  byStatus: Record<string, number>;
  /** Replays of a cached error. */
  cachedErrors: number;
  hits: number;
  originRequests: number;
  customErrorPages: number;
}

/** Largest viewer body read (CloudFront accepts larger; the ALB's Lambda limit is 1 MB). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export class CloudFrontServer {
  readonly server: Server;
  readonly counters: EdgeCounters = {
    requests: 0,
    byStatus: {},
    cachedErrors: 0,
    hits: 0,
    originRequests: 0,
    customErrorPages: 0,
  };
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly edge: CloudFrontEdge,
    private readonly clock: Clock,
    private readonly onExchange: (e: EdgeExchange) => void,
  ) {
    this.server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      void this.handleCounted(req, res);
    });
    this.server.headersTimeout = 60_000;
    this.server.requestTimeout = 0;
  }

  listen(host: string, port: number): Promise<number> {
    return listenOn(this.server, host, port);
  }

  /** Stops accepting, lets requests in flight finish (bounded), then closes every connection. */
  async close(graceMs = 2000): Promise<void> {
    this.flushBatch();
    await closeGracefully(
      this.server,
      new Promise<void>((r) => (this.inFlight === 0 ? r() : this.idleWaiters.push(r))),
      graceMs,
      this.flushBatch,
    );
  }

  private async handleCounted(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    try {
      await this.handle(req, res);
    } catch {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end();
      } else res.destroy();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startMs = this.clock.now();
    const raw = req.rawHeaders;
    const headers: Header[] = [];
    let headerBytes = 0;
    let host: string | undefined;
    let userAgent: string | undefined;
    let referer: string | undefined;
    let xff: string | undefined;
    let hasBody = false;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      headerBytes += name.length + value.length + 4;
      headers.push([name, value]);
      const lower = name.toLowerCase();
      if (lower === 'host') host ??= value;
      else if (lower === 'user-agent') userAgent ??= value;
      else if (lower === 'referer') referer ??= value;
      else if (lower === 'x-forwarded-for') xff ??= value;
      else if ((lower === 'content-length' && value !== '0') || lower === 'transfer-encoding') hasBody = true;
    }
    // Most viewer requests have no body: no stream to read then.
    let body: Buffer = EMPTY_BODY;
    if (hasBody) body = await readBody(req);
    else req.resume();
    const socket: Socket = req.socket;
    const clientIp = plainIp(socket.remoteAddress);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const exchange: EdgeExchange = {
      startMs,
      endMs: startMs,
      readyMs: startMs,
      clientIp,
      clientPort: socket.remotePort ?? 0,
      method,
      url,
      httpVersion: req.httpVersion,
      host,
      userAgent,
      referer,
      xForwardedFor: xff,
      receivedBytes: method.length + url.length + 12 + headerBytes + 2 + body.length,
      sentBytes: 0,
      status: 0,
      response: undefined,
      aborted: true,
    };
    let reported = false;
    const report = () => {
      if (reported) return;
      reported = true;
      exchange.endMs = this.clock.now();
      exchange.aborted = !res.writableFinished;
      if (exchange.aborted) exchange.sentBytes = 0;
      this.count(exchange);
      this.onExchange(exchange);
    };
    res.on('close', report);

    const r = await this.edge.handle({ method, url, headers, body, clientIp });
    exchange.response = r;
    exchange.readyMs = r.readyAt;
    exchange.status = r.status;
    if (res.destroyed) {
      report();
      return;
    }
    const flat: string[] = [];
    let sentHeaderBytes = 0;
    for (const [n, v] of r.headers) {
      flat.push(n, v);
      sentHeaderBytes += n.length + v.length + 4;
    }
    flat.push('Content-Length', String(r.body.length));
    const reason = STATUS_CODES[r.status] ?? '';
    res.writeHead(r.status, reason, flat);
    const bodyBytes = method === 'HEAD' ? 0 : r.body.length;
    exchange.sentBytes =
      17 + reason.length + sentHeaderBytes + 18 + String(r.body.length).length + 2 + bodyBytes;
    this.endSoon(res, method === 'HEAD' ? undefined : r.body);
  }

  /**
   * Ends a response at the end of this event-loop turn, with every other response finished in the
   * same turn, as the ALB does (src/lab/alb/server.ts): the writes go out back to back, sparing
   * the viewers' threads (and this one) most of the wake-ups a write costs.
   */
  private endSoon(res: ServerResponse, body: Buffer | undefined): void {
    this.batch.push([res, body]);
    if (this.batch.length === 1) setImmediate(this.flushBatch);
  }
  private readonly batch: [ServerResponse, Buffer | undefined][] = [];
  private readonly flushBatch = (): void => {
    for (const [res, body] of this.batch) {
      try {
        if (!res.destroyed) res.end(body);
      } catch {
        res.destroy();
      }
    }
    this.batch.length = 0;
  };

  private count(e: EdgeExchange): void {
    const c = this.counters;
    c.requests++;
    const key = String(e.status);
    c.byStatus[key] = (c.byStatus[key] ?? 0) + 1;
    const r = e.response;
    if (!r) return;
    if (r.fromCache && r.resultType === 'Error') c.cachedErrors++;
    if (r.fromCache && r.resultType === 'Hit') c.hits++;
    if (!r.fromCache) c.originRequests++;
    if (r.customErrorPage) c.customErrorPages++;
  }
}

function plainIp(a: string | undefined): string {
  if (!a) return '0.0.0.0';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

const EMPTY_BODY = Buffer.alloc(0);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    const done = () => resolve(Buffer.concat(chunks));
    req.on('end', done);
    req.on('error', done);
    req.on('close', done);
  });
}
