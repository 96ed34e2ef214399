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
import type { CloudFrontEdge, EdgeClient, EdgeResponse } from './edge.js';

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
      this.inFlight++;
      try {
        this.handle(req, res);
      } catch {
        this.broke(res);
      }
    });
    this.server.headersTimeout = 60_000;
    this.server.requestTimeout = 0;
  }

  /** Lab ms. */
  now(): number {
    return this.clock.now();
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

  /** The edge (or this listener) broke on a request: a 500 if nothing was sent yet. */
  broke(res: ServerResponse): void {
    try {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end();
      } else res.destroy();
    } catch {
      res.destroy();
    }
    this.settled();
  }

  /** A request is answered (or given up on). */
  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const startMs = this.clock.now();
    const raw = req.rawHeaders;
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
      const lower = name.toLowerCase();
      if (lower === 'host') host ??= value;
      else if (lower === 'user-agent') userAgent ??= value;
      else if (lower === 'referer') referer ??= value;
      else if (lower === 'x-forwarded-for') xff ??= value;
      else if ((lower === 'content-length' && value !== '0') || lower === 'transfer-encoding') hasBody = true;
    }
    // Most viewer requests have no body: no stream to read then.
    if (!hasBody) {
      req.resume();
      this.ask(this.begin(req, res, startMs, headerBytes, EMPTY_BODY, host, userAgent, referer, xff), raw);
      return;
    }
    readBody(req).then(
      (body) => {
        try {
          this.ask(this.begin(req, res, startMs, headerBytes, body, host, userAgent, referer, xff), raw);
        } catch {
          this.broke(res);
        }
      },
      () => this.broke(res),
    );
  }

  /** The exchange, reported once when the response closes. */
  private begin(
    req: IncomingMessage,
    res: ServerResponse,
    startMs: number,
    headerBytes: number,
    body: Buffer,
    host: string | undefined,
    userAgent: string | undefined,
    referer: string | undefined,
    xff: string | undefined,
  ): ViewerExchange {
    const peer = peerOf(req.socket);
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const exchange = new ViewerExchange(
      this,
      res,
      startMs,
      peer.ip,
      peer.port,
      method,
      url,
      req.httpVersion,
      host,
      userAgent,
      referer,
      xff,
      method.length + url.length + 12 + headerBytes + 2 + body.length,
      body,
    );
    (res as TaggedResponse)[EXCHANGE] = exchange;
    res.on('close', onResponseClose);
    return exchange;
  }

  /** Lets the edge answer the request (the exchange writes the answer). */
  private ask(exchange: ViewerExchange, headers: readonly string[]): void {
    this.edge.serve(
      {
        method: exchange.method,
        url: exchange.url,
        headers,
        body: exchange.body,
        clientIp: exchange.clientIp,
      },
      exchange,
    );
  }

  /** The edge's answer to an exchange. */
  answered(exchange: ViewerExchange, r: EdgeResponse): void {
    try {
      this.respond(exchange, r);
    } catch {
      this.broke(exchange.res);
      return;
    }
    this.settled();
  }

  private respond(exchange: ViewerExchange, r: EdgeResponse): void {
    const res = exchange.res;
    exchange.response = r;
    exchange.readyMs = r.readyAt;
    exchange.status = r.status;
    if (res.destroyed) {
      exchange.report();
      return;
    }
    // One list for every response: Node reads it before writeHead returns and keeps none of it.
    const headers = r.headers;
    const flat = this.flatHeaders;
    flat.length = 2 * headers.length + 2;
    let sentHeaderBytes = 0;
    for (let i = 0; i < headers.length; i++) {
      const [n, v] = headers[i]!;
      flat[2 * i] = n;
      flat[2 * i + 1] = v;
      sentHeaderBytes += n.length + v.length + 4;
    }
    const length = String(r.body.length);
    flat[2 * headers.length] = 'Content-Length';
    flat[2 * headers.length + 1] = length;
    const reason = STATUS_CODES[r.status] ?? '';
    res.writeHead(r.status, reason, flat);
    const isHead = exchange.method === 'HEAD';
    exchange.sentBytes =
      17 + reason.length + sentHeaderBytes + 18 + length.length + 2 + (isHead ? 0 : r.body.length);
    this.endSoon(res, isHead ? undefined : r.body);
  }

  private readonly flatHeaders: string[] = [];

  /** A finished exchange, reported once (when its response closed). */
  report(e: EdgeExchange): void {
    this.count(e);
    this.onExchange(e);
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

/** The exchange of a response, for the shared 'close' listener. */
const EXCHANGE = Symbol('cloudfront.exchange');
type TaggedResponse = ServerResponse & { [EXCHANGE]?: ViewerExchange };

function onResponseClose(this: TaggedResponse): void {
  this[EXCHANGE]?.report();
}

/** One viewer exchange while it runs: the edge's client, reported once when its response closes. */
class ViewerExchange implements EdgeExchange, EdgeClient {
  endMs: number;
  readyMs: number;
  sentBytes = 0;
  status = 0;
  response: EdgeResponse | undefined = undefined;
  aborted = true;
  private reported = false;

  constructor(
    private readonly server: CloudFrontServer,
    readonly res: ServerResponse,
    readonly startMs: number,
    readonly clientIp: string,
    readonly clientPort: number,
    readonly method: string,
    readonly url: string,
    readonly httpVersion: string,
    readonly host: string | undefined,
    readonly userAgent: string | undefined,
    readonly referer: string | undefined,
    readonly xForwardedFor: string | undefined,
    readonly receivedBytes: number,
    readonly body: Buffer,
  ) {
    this.endMs = startMs;
    this.readyMs = startMs;
  }

  answered(response: EdgeResponse): void {
    this.server.answered(this, response);
  }

  broke(): void {
    this.server.broke(this.res);
  }

  report(): void {
    if (this.reported) return;
    this.reported = true;
    this.endMs = this.server.now();
    this.aborted = !this.res.writableFinished;
    if (this.aborted) this.sentBytes = 0;
    this.server.report(this);
  }
}

/** A connection's viewer address, read once per connection (sockets carry it from the first request on). */
const PEER = Symbol('cloudfront.peer');
type PeerSocket = Socket & { [PEER]?: { ip: string; port: number } };

function peerOf(socket: PeerSocket): { ip: string; port: number } {
  let peer = socket[PEER];
  if (peer === undefined) {
    peer = { ip: plainIp(socket.remoteAddress), port: socket.remotePort ?? 0 };
    socket[PEER] = peer;
  }
  return peer;
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
