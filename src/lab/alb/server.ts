import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../../common/clock.js';
import { SlotSet } from '../../common/slot-set.js';
import { TRACE_HEADER } from '../../common/trace-id.js';
import type { AccessLogWriter } from '../access-log.js';
import type { TargetGroupIds } from '../ids.js';
import type { InvokeOutcome, LambdaRuntime } from '../lambda/runtime.js';
import { closeGracefully, listenOn } from '../listener.js';
import { randomHex } from '../random.js';
import type { LabTelemetry } from '../telemetry.js';
import { type AlbHttpResponse, AlbLambdaLimits, buildAlbEvent, checkAlbResponse, isUtf8 } from './convert.js';
import { ALB_SERVER_HEADER, AlbLambdaError, type AlbLambdaErrorKind, albErrorPage } from './errors.js';
import { putLabEntry } from './log-line.js';
import type { Router } from './rules.js';
import { albTraceHeader } from './trace.js';

/**
 * The lab's Application Load Balancer: one HTTP listener, listener rules to target groups, one
 * Lambda function per target group, invoked synchronously. Every request produces exactly one
 * access-log entry and one set of CloudWatch datapoints, whether it succeeded, failed at the ALB
 * (502/413/400) or the client went away first (460, as the ALB logs it).
 */

export interface AlbTargetGroup extends TargetGroupIds {
  function: string;
  multiValueHeaders: boolean;
}

export interface AlbFrontOptions {
  router: Router;
  targetGroups: ReadonlyMap<string, AlbTargetGroup>;
  runtime: LambdaRuntime;
  clock: Clock;
  telemetry: LabTelemetry;
  accessLog: AccessLogWriter;
  /** `app/<name>/<id>` */
  elb: string;
  /** ALB idle timeout (60 s default), used as the keep-alive timeout. */
  idleTimeoutMs?: number;
}

export interface AlbCounters {
  requests: number;
  byElbStatus: Record<string, number>;
  byErrorReason: Record<string, number>;
  byTargetGroup: Record<string, { requests: number; elb5xx: number; throttled: number }>;
}

const seconds = (ms: number) => Math.max(0, ms) / 1000;

/** Header values with a byte outside ASCII (Node reads header bytes as latin1). */
const NON_ASCII = /[^\x00-\x7f]/;

interface Exchange {
  front: AlbFront;
  httpVersion: string;
  t0: number;
  /** Dispatch to the function and its answer (lab ms); undefined when not dispatched. */
  t1?: number | undefined;
  t2?: number | undefined;
  tg: AlbTargetGroup;
  priority: number;
  trace: string;
  method: string;
  url: string;
  /** The Host and User-Agent headers as received (first of each). */
  host: string | undefined;
  userAgent: string | undefined;
  conn: AlbConnection;
  receivedBytes: number;
  targetStatus?: number | undefined;
  reason?: string | undefined;
  sentBytes: number;
  elbStatus: number;
  logged: boolean;
  /** The request's headers as received (flat): the event's are made from them when a function reads them. */
  raw: string[];
  /** The client's X-Forwarded-For (the last one, as UTF-8), which the ALB's own extends. */
  clientXff: string | undefined;
  /** As the event builder reads them: the last one. */
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** A header value that is not UTF-8: the ALB answers 400. */
  badHeader: boolean;
  /** The first Content-Length, and whether the body is chunked (HTTP clients). */
  contentLength: string | undefined;
  chunked: boolean;
}

/** Per client connection: the ALB's connection trace id and the client's address. */
export interface AlbConnection {
  readonly id: string;
  readonly client: string;
  readonly port: number;
}

/**
 * What the pipeline needs of a response: Node's ServerResponse for HTTP clients, or an
 * InProcessResponse for the lab's own CloudFront edge.
 */
interface ResponseSink {
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  writeHead(statusCode: number, statusMessage: string, headers: OutgoingHttpHeaders | string[]): unknown;
  writeHead(statusCode: number, headers: OutgoingHttpHeaders | string[]): unknown;
  end(body: Buffer | string): unknown;
  destroy(): unknown;
}

/** A request from a client in the same process (the lab's CloudFront edge), as it would arrive on the wire. */
export interface AlbInProcessRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Header name/value pairs in wire order, flat (name, value, name, value, ...). */
  rawHeaders: string[];
  body: Buffer;
  /** From `openConnection`: the client's address and the connection's trace id in the access log. */
  connection: AlbConnection;
}

/** The ALB's answer as an HTTP client reads it off the ALB's listener. */
export interface AlbInProcessResponse {
  status: number;
  /** Names lower-case, repeated names grouped at the first, with the `date` the HTTP server adds (a list shared between responses: not to be modified). */
  headers: [string, string][];
  body: Buffer;
  /** Lab ms when the ALB sent it (its access-log entry's time). */
  at: number;
}

/** Who waits for the ALB's answer to an in-process request (an object: no closure per request). */
export interface AlbInProcessClient {
  /** The answer, or undefined when the ALB closed the connection first. Called once; not after `abort()`. */
  albAnswered(response: AlbInProcessResponse | undefined): void;
}

export interface AlbInProcessExchange {
  /** The client gave up (its response timeout): the ALB logs it as a client that went away. */
  abort(): void;
}

/** A function response checked and turned into what goes on the wire. */
interface WireResponse {
  statusCode: number;
  statusMessage: string | undefined;
  /** Header name/value pairs for writeHead, content-length included. */
  rawHeaders: string[];
  body: Buffer;
  sentBytes: number;
}

/** The exchange of a response, for the shared 'close' listener. */
const EXCHANGE = Symbol('alb.exchange');
type TaggedResponse = ServerResponse & { [EXCHANGE]?: Exchange };

function onResponseClose(this: TaggedResponse): void {
  const ex = this[EXCHANGE];
  if (ex) ex.front.logExchange(this, ex);
}

export class AlbFront {
  readonly server: Server;
  readonly counters: AlbCounters = { requests: 0, byElbStatus: {}, byErrorReason: {}, byTargetGroup: {} };
  private readonly conns = new WeakMap<Socket, AlbConnection>();
  private port = 0;
  private portText = '0';
  /** Requests waiting for a body or a function. */
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  /** Checked responses of functions that always return the same frozen value, per value. */
  private readonly constant = [new WeakMap<object, WireResponse>(), new WeakMap<object, WireResponse>()];
  /** The last Host header seen and its request-line form (`host` without port, or 127.0.0.1). */
  private lastHost: string | undefined = '';
  private lastLogHost = '127.0.0.1';

  constructor(private readonly o: AlbFrontOptions) {
    this.server = createServer({ keepAliveTimeout: o.idleTimeoutMs ?? 60_000 }, (req, res) => {
      try {
        this.handle(req, res);
      } catch {
        if (!res.headersSent) this.sendError(res, undefined, 'unhandled');
        else res.destroy();
      }
    });
    this.server.headersTimeout = 60_000;
    this.server.requestTimeout = 0;
    this.server.on('connection', (s: Socket) => {
      this.conns.set(s, {
        id: `TID_${randomHex(16)}`,
        client: clientAddress(s.remoteAddress),
        port: s.remotePort ?? 0,
      });
    });
  }

  async listen(host: string, port: number): Promise<number> {
    this.port = await listenOn(this.server, host, port);
    this.portText = String(this.port);
    return this.port;
  }

  /** Stops accepting, lets in-flight requests finish (bounded), then closes every connection. */
  async close(graceMs = 2000): Promise<void> {
    this.flushBatch();
    await closeGracefully(
      this.server,
      new Promise<void>((r) => (this.inFlight === 0 ? r() : this.idleWaiters.push(r))),
      graceMs,
      this.cutConnections,
    );
  }

  private readonly cutConnections = (): void => {
    this.flushBatch();
    for (const res of this.inProcess.values()) res.destroy();
  };

  private connection(socket: Socket): AlbConnection {
    let c = this.conns.get(socket);
    if (!c) {
      c = {
        id: `TID_${randomHex(16)}`,
        client: clientAddress(socket.remoteAddress),
        port: socket.remotePort ?? 0,
      };
      this.conns.set(socket, c);
    }
    return c;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const ex = this.begin(
      req.method ?? 'GET',
      req.url ?? '/',
      req.rawHeaders,
      req.httpVersion,
      this.connection(req.socket),
    );
    (res as TaggedResponse)[EXCHANGE] = ex;
    res.on('close', onResponseClose);

    const body = readBody(req, ex.contentLength, ex.chunked);
    if (!(body instanceof Promise)) {
      this.dispatch(res, ex, body);
    } else {
      this.inFlight++;
      void body
        .then((b) => this.dispatch(res, ex, b))
        .catch(() => this.fail(res, ex))
        .finally(() => this.settled());
    }
  }

  /** A connection from a client in this process (`client` is its address as the ALB would see it). */
  openConnection(client: string, port: number): AlbConnection {
    return { id: `TID_${randomHex(16)}`, client: clientAddress(client), port };
  }

  /** Whether the listener accepts requests (false once closing). */
  get accepting(): boolean {
    return this.server.listening;
  }

  /**
   * A request from a client in this process, through the same pipeline as one read off the
   * listener (routing, the function, the access log, the metrics) without the HTTP exchange.
   * The client is answered once (possibly before this returns).
   */
  exchange(r: AlbInProcessRequest, client: AlbInProcessClient): AlbInProcessExchange {
    let ex: Exchange | undefined;
    try {
      ex = this.begin(r.method, r.url, r.rawHeaders, '1.1', r.connection);
    } catch {
      // As the listener answers a request it could not take in: 502, no log entry.
      const failed = new InProcessResponse(this, undefined, r.method === 'HEAD', client);
      this.sendError(failed, undefined, 'unhandled');
      return failed;
    }
    const res = new InProcessResponse(this, ex, r.method === 'HEAD', client);
    try {
      this.dispatch(res, ex, {
        data: r.body,
        length: r.body.length,
        tooLarge: r.body.length > AlbLambdaLimits.maxRequestBodyBytes,
      });
    } catch {
      if (!res.headersSent) this.sendError(res, undefined, 'unhandled');
      else res.destroy();
    }
    // Most are answered by now (a function that finished at once); the others are tracked.
    if (!res.writableFinished && !res.destroyed) this.inProcess.add(res);
    return res;
  }

  /** In-process exchanges not yet answered, cut like connections when the ALB closes. */
  private readonly inProcess = new SlotSet<InProcessResponse>();

  /** An in-process exchange is over: one log entry, as for a response that closed. Returns its time (lab ms). */
  inProcessClosed(res: InProcessResponse, ex: Exchange | undefined): number {
    this.inProcess.delete(res);
    return (ex && this.logExchange(res, ex)) ?? this.o.clock.now();
  }

  /** The request line and headers read: the exchange, routed. */
  private begin(
    method: string,
    url: string,
    raw: string[],
    httpVersion: string,
    conn: AlbConnection,
  ): Exchange {
    const clock = this.o.clock;
    const t0 = clock.now();

    // One pass over the headers (req.headers is never built): check UTF-8 (Node reads header
    // bytes as latin1), note the ones the ALB reads itself.
    let badHeader = false;
    let clientTrace: string | undefined;
    let clientXff: string | undefined;
    let host: string | undefined;
    let userAgent: string | undefined;
    let contentLength: string | undefined;
    let chunked = false;
    let contentType: string | undefined;
    let contentEncoding: string | undefined;
    let headerBytes = 0;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const received = raw[i + 1]!;
      let value = received;
      headerBytes += name.length + value.length + 4;
      if (NON_ASCII.test(value)) {
        const bytes = Buffer.from(value, 'latin1');
        if (isUtf8(bytes)) value = bytes.toString('utf8');
        else badHeader = true;
      }
      const lower = name.toLowerCase();
      switch (lower) {
        case TRACE_HEADER:
          clientTrace = value;
          break;
        case 'x-forwarded-for':
          clientXff = value;
          break;
        // As Node's req.headers has them: the first Host, User-Agent and Content-Length.
        case 'host':
          host ??= received;
          break;
        case 'user-agent':
          userAgent ??= received;
          break;
        case 'content-length':
          contentLength ??= received;
          break;
        case 'transfer-encoding':
          chunked = true;
          break;
        // As the event builder reads them: the last one.
        case 'content-type':
          contentType = value;
          break;
        case 'content-encoding':
          contentEncoding = value;
          break;
      }
    }
    const q = url.indexOf('?');
    const route = this.o.router.route(method, q < 0 ? url : url.slice(0, q), host);
    const tg = this.o.targetGroups.get(route.targetGroup)!;
    const trace = albTraceHeader(clientTrace, t0);

    return {
      front: this,
      httpVersion,
      t0,
      t1: undefined,
      t2: undefined,
      tg,
      priority: route.priority,
      trace,
      method,
      url,
      host,
      userAgent,
      conn,
      receivedBytes: method.length + url.length + 12 + headerBytes + 2,
      targetStatus: undefined,
      reason: undefined,
      sentBytes: 0,
      elbStatus: 0,
      logged: false,
      raw,
      clientXff,
      contentType,
      contentEncoding,
      badHeader,
      contentLength,
      chunked,
    };
  }

  /**
   * The headers of the function's event, flat: names lower-case, values as UTF-8, the client's
   * X-Amzn-Trace-Id and X-Forwarded-* replaced by the ALB's own.
   */
  private eventHeaders(ex: Exchange): string[] {
    const raw = ex.raw;
    const headers: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const lower = raw[i]!.toLowerCase();
      if (
        lower === TRACE_HEADER ||
        lower === 'x-forwarded-for' ||
        lower === 'x-forwarded-port' ||
        lower === 'x-forwarded-proto'
      )
        continue;
      const value = raw[i + 1]!;
      // Checked in `begin`: a value that is not UTF-8 never reaches a function.
      headers.push(lower, NON_ASCII.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value);
    }
    headers.push(
      TRACE_HEADER,
      ex.trace,
      'x-forwarded-for',
      ex.clientXff ? `${ex.clientXff}, ${ex.conn.client}` : ex.conn.client,
      'x-forwarded-port',
      this.portText,
      'x-forwarded-proto',
      'http',
    );
    return headers;
  }

  /** Sends the request to the function; answers from the outcome. Synchronous up to the invoke. */
  private dispatch(res: ResponseSink, ex: Exchange, body: Body): void {
    ex.receivedBytes += body.length;
    if (body.tooLarge) {
      this.sendError(res, ex, 'requestTooLarge');
      return;
    }
    if (ex.badHeader) {
      this.sendError(res, ex, 'badRequest');
      return;
    }
    const tg = ex.tg;
    const runtime = this.o.runtime;
    const event = runtime.readsEvent(tg.function)
      ? buildAlbEvent({
          method: ex.method,
          url: ex.url,
          rawHeaders: this.eventHeaders(ex),
          namesLowerCase: true,
          contentType: ex.contentType,
          contentEncoding: ex.contentEncoding,
          body: body.data,
          targetGroupArn: tg.arn,
          multiValueHeaders: tg.multiValueHeaders,
        })
      : undefined;
    const started = runtime.start(tg.function, event, 'alb');
    if (started.kind === 'throttled') {
      this.sendError(res, ex, 'throttled');
      return;
    }
    if (started.kind === 'not-found') {
      this.sendError(res, ex, 'resourceNotFound');
      return;
    }
    ex.t1 = this.o.clock.now();
    if (started.outcome) {
      // The function finished at once: answer now, no promise.
      try {
        this.respond(res, ex, started.outcome);
      } catch {
        this.fail(res, ex);
      }
      return;
    }
    this.inFlight++;
    started.done.then(
      (outcome) => {
        try {
          this.respond(res, ex, outcome);
        } catch {
          this.fail(res, ex);
        }
        this.settled();
      },
      () => {
        this.fail(res, ex);
        this.settled();
      },
    );
  }

  private respond(res: ResponseSink, ex: Exchange, outcome: InvokeOutcome): void {
    ex.t2 = this.o.clock.now();
    const tg = ex.tg;
    if (outcome.kind === 'error') {
      this.sendError(res, ex, 'unhandled');
      return;
    }
    if (outcome.bytes > AlbLambdaLimits.maxResponseBytes) {
      this.sendError(res, ex, 'responseTooLarge');
      return;
    }
    let w: WireResponse | undefined;
    const cache = outcome.constant ? this.constant[tg.multiValueHeaders ? 1 : 0]! : undefined;
    if (cache) w = cache.get(outcome.value as object);
    if (!w) {
      let value = outcome.value;
      if (value === undefined) {
        try {
          value = JSON.parse(outcome.json);
        } catch {
          this.sendError(res, ex, 'invalidResponse');
          return;
        }
      }
      const checked = checkAlbResponse(value, tg.multiValueHeaders);
      if (!checked.ok) {
        this.sendError(res, ex, 'invalidResponse');
        return;
      }
      w = wireResponse(checked.response);
      if (cache) cache.set(outcome.value as object, w);
    }
    ex.targetStatus = w.statusCode;
    ex.elbStatus = w.statusCode;
    if (res.destroyed) return;
    try {
      if (w.statusMessage) res.writeHead(w.statusCode, w.statusMessage, w.rawHeaders);
      else res.writeHead(w.statusCode, w.rawHeaders);
    } catch {
      // A header Node refuses (the ALB would call the response malformed).
      ex.targetStatus = undefined;
      this.sendError(res, ex, 'invalidResponse');
      return;
    }
    ex.sentBytes = w.sentBytes;
    // In process there is no write to batch.
    if (res instanceof InProcessResponse) res.end(w.body);
    else this.endSoon(res as ServerResponse, w.body);
  }

  /**
   * Sends a response body at the end of this turn of the event loop, with every other response
   * finished in the same turn: the writes go out back to back rather than one between each
   * request's processing, which spares the client (and this thread) most of the wake-ups a write
   * costs. The delay is the rest of the turn, a few requests' worth of processing.
   */
  private endSoon(res: ServerResponse, body: Buffer): void {
    this.batch.push(res, body);
    if (this.batch.length === 2) setImmediate(this.flushBatch);
  }
  /** Responses waiting for the end of the turn: response, body, response, body, ... */
  private readonly batch: (ServerResponse | Buffer)[] = [];
  private readonly flushBatch = (): void => {
    const b = this.batch;
    for (let i = 0; i < b.length; i += 2) {
      const res = b[i] as ServerResponse;
      try {
        if (!res.destroyed) res.end(b[i + 1] as Buffer);
      } catch {
        res.destroy();
      }
    }
    b.length = 0;
  };

  private fail(res: ResponseSink, ex: Exchange): void {
    if (!res.headersSent) this.sendError(res, ex, 'unhandled');
    else res.destroy();
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private sendError(res: ResponseSink, ex: Exchange | undefined, kind: AlbLambdaErrorKind): void {
    const { status, reason } = AlbLambdaError[kind];
    if (ex) {
      ex.elbStatus = status;
      ex.reason = reason;
    }
    if (res.headersSent || res.destroyed) return;
    const page = albErrorPage(status);
    const date = new Date().toUTCString();
    res.writeHead(status, STATUS_CODES[status] ?? '', {
      Server: ALB_SERVER_HEADER,
      Date: date,
      'Content-Type': 'text/html',
      'Content-Length': Buffer.byteLength(page),
    });
    if (ex) ex.sentBytes = 160 + page.length;
    res.end(page);
  }

  /** The Host as the request line logs it: without its port; 127.0.0.1 when absent. */
  private logHost(host: string | undefined): string {
    if (host !== this.lastHost) {
      this.lastHost = host;
      this.lastLogHost = (host ?? '').replace(/:\d+$/, '') || '127.0.0.1';
    }
    return this.lastLogHost;
  }

  /**
   * Exactly one log entry and one set of metrics per request, when the exchange is over. Returns
   * the entry's time (lab ms), undefined when it was logged already.
   */
  logExchange(res: ResponseSink, ex: Exchange): number | undefined {
    if (ex.logged) return undefined;
    ex.logged = true;
    const t3 = this.o.clock.now();
    const finished = res.writableFinished;
    if (!finished) {
      // The client closed the connection before the response was sent.
      ex.elbStatus = 460;
      ex.sentBytes = 0;
    }
    const dispatched = ex.t1 !== undefined && ex.t2 !== undefined && finished;
    putLabEntry(this.o.accessLog.lineBatchFor(t3), {
      timeMs: t3,
      elb: this.o.elb,
      client: ex.conn.client,
      clientPort: ex.conn.port,
      requestProcessingTime: dispatched ? seconds(ex.t1! - ex.t0) : null,
      targetProcessingTime: dispatched ? seconds(ex.t2! - ex.t1!) : null,
      responseProcessingTime: dispatched ? seconds(t3 - ex.t2!) : null,
      elbStatusCode: ex.elbStatus,
      targetStatusCode: finished ? (ex.targetStatus ?? null) : null,
      receivedBytes: ex.receivedBytes,
      sentBytes: ex.sentBytes,
      method: ex.method,
      host: this.logHost(ex.host),
      port: this.port,
      url: ex.url,
      httpVersion: ex.httpVersion,
      userAgent: ex.userAgent ?? null,
      targetGroupArn: ex.tg.arn,
      traceId: ex.trace,
      matchedRulePriority: ex.priority,
      creationMs: ex.t0,
      errorReason: ex.reason ?? null,
      connTraceId: ex.conn.id,
    });

    const lambdaError = ex.reason?.startsWith('Lambda') ? 'user' : undefined;
    this.o.telemetry.albRequest(
      {
        targetGroup: ex.tg.dimension,
        elbStatus: ex.targetStatus === undefined || !finished ? ex.elbStatus : undefined,
        targetStatus: finished ? ex.targetStatus : undefined,
        lambdaError,
        targetResponseTime: ex.t1 !== undefined && ex.t2 !== undefined ? seconds(ex.t2 - ex.t1) : undefined,
        processedBytes: ex.t1 !== undefined ? ex.receivedBytes + ex.sentBytes : 0,
      },
      t3,
    );

    const c = this.counters;
    c.requests++;
    const sk = String(ex.elbStatus);
    c.byElbStatus[sk] = (c.byElbStatus[sk] ?? 0) + 1;
    if (ex.reason) c.byErrorReason[ex.reason] = (c.byErrorReason[ex.reason] ?? 0) + 1;
    let tgc = c.byTargetGroup[ex.tg.name];
    if (!tgc) {
      tgc = { requests: 0, elb5xx: 0, throttled: 0 };
      c.byTargetGroup[ex.tg.name] = tgc;
    }
    tgc.requests++;
    if (ex.targetStatus === undefined && ex.elbStatus >= 500 && ex.elbStatus < 600) tgc.elb5xx++;
    if (ex.reason === AlbLambdaError.throttled.reason) tgc.throttled++;
    return t3;
  }
}

/** The checked response as headers for writeHead, body and the sent_bytes estimate. */
function wireResponse(r: AlbHttpResponse): WireResponse {
  const rawHeaders: string[] = [];
  let hb = 0;
  for (const [k, vs] of r.headers) {
    for (const v of vs) {
      rawHeaders.push(k, v);
      hb += k.length + v.length + 4;
    }
  }
  rawHeaders.push('content-length', String(r.body.length));
  return {
    statusCode: r.statusCode,
    statusMessage: r.statusMessage,
    rawHeaders,
    body: r.body,
    sentBytes: 17 + (r.statusMessage?.length ?? 0) + hb + 40 + r.body.length,
  };
}

/** IPv4-mapped IPv6 addresses are logged as plain IPv4, as the ALB logs IPv4 clients. */
function clientAddress(a: string | undefined): string {
  if (!a) return '0.0.0.0';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

interface Body {
  data: Buffer;
  length: number;
  tooLarge: boolean;
}

const EMPTY: Body = { data: Buffer.alloc(0), length: 0, tooLarge: false };

/**
 * Reads the request body, keeping at most the 1 MB Lambda limit (the rest is drained and counted).
 */
function readBody(
  req: IncomingMessage,
  contentLength: string | undefined,
  chunked: boolean,
): Body | Promise<Body> {
  if ((contentLength === undefined || contentLength === '0') && !chunked) {
    req.resume();
    return EMPTY;
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      length += c.length;
      if (length > AlbLambdaLimits.maxRequestBodyBytes) tooLarge = true;
      else chunks.push(c);
    });
    const done = () =>
      resolve({ data: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), length, tooLarge });
    req.on('end', done);
    req.on('error', done);
    req.on('close', done);
  });
}

/** Header values Node's HTTP server refuses in a status line. */
const INVALID_STATUS_MESSAGE = /[^\t\x20-\x7e\x80-\xff]/;

/** Cached per wall-clock second, as Node's HTTP server caches its Date header. */
let dateSecond = -1;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** Response headers checked as Node's HTTP server checks them, and as an HTTP client reads them (see InProcessResponse). */
interface ReadHeaders {
  headers: [string, string][];
  hasDate: boolean;
  /** `headers` and the `date` Node adds, for the second of `dated` (one list per second, not per response). */
  withDate: [string, string][] | undefined;
  dated: string;
}
const READ_HEADERS = new WeakMap<string[], ReadHeaders>();
const NO_HEADERS: ReadHeaders = { headers: [], hasDate: false, withDate: undefined, dated: '' };

/** The headers as the client reads them, with the `date` Node's server adds when they have none. */
function clientHeaders(read: ReadHeaders): [string, string][] {
  if (read.hasDate) return read.headers;
  const date = httpDate();
  if (read.withDate === undefined || read.dated !== date) {
    read.withDate = [...read.headers, ['date', date]];
    read.dated = date;
  }
  return read.withDate;
}

/**
 * The response side of an in-process exchange. The pipeline writes to it as to a ServerResponse;
 * it refuses what Node's HTTP server refuses (so the ALB answers 502 for the same responses), and
 * hands the caller the response as an HTTP client reads it: names lower-case, repeated names
 * grouped, the `date` Node adds, no body for HEAD, 1xx, 204 and 304.
 */
class InProcessResponse implements ResponseSink, AlbInProcessExchange {
  destroyed = false;
  /** Its place in the ALB's set of unanswered in-process exchanges, or -1 (a SlotSet: one comes and goes per request). */
  slot = -1;
  headersSent = false;
  writableFinished = false;
  private status = 0;
  private read = NO_HEADERS;
  private aborted = false;

  constructor(
    private readonly front: AlbFront,
    private readonly ex: Exchange | undefined,
    private readonly isHead: boolean,
    private readonly client: AlbInProcessClient,
  ) {}

  writeHead(
    statusCode: number,
    statusMessage: string | OutgoingHttpHeaders | string[],
    headers?: OutgoingHttpHeaders | string[],
  ): this {
    const head = (typeof statusMessage === 'string' ? headers : statusMessage) ?? [];
    if (statusCode < 100 || statusCode > 999) throw new RangeError(`Invalid status code: ${statusCode}`);
    if (typeof statusMessage === 'string' && INVALID_STATUS_MESSAGE.test(statusMessage))
      throw new TypeError('Invalid character in statusMessage');
    // A function that returns a constant response hands the same header array every time.
    let read = Array.isArray(head) ? READ_HEADERS.get(head) : undefined;
    if (!read) {
      read = readHeaders(head);
      if (Array.isArray(head)) READ_HEADERS.set(head, read);
    }
    this.read = read;
    this.status = statusCode;
    this.headersSent = true;
    return this;
  }

  end(body: Buffer | string): this {
    if (this.destroyed || this.writableFinished) return this;
    this.writableFinished = true;
    const at = this.front.inProcessClosed(this, this.ex);
    if (this.aborted) return this;
    const s = this.status;
    const noBody = this.isHead || s < 200 || s === 204 || s === 304;
    this.client.albAnswered({
      status: s,
      headers: clientHeaders(this.read),
      body: noBody ? EMPTY.data : typeof body === 'string' ? Buffer.from(body) : body,
      at,
    });
    return this;
  }

  destroy(): this {
    if (this.destroyed || this.writableFinished) return this;
    this.destroyed = true;
    this.front.inProcessClosed(this, this.ex);
    if (!this.aborted) this.client.albAnswered(undefined);
    return this;
  }

  abort(): void {
    this.aborted = true;
    this.destroy();
  }
}

function readHeaders(head: OutgoingHttpHeaders | string[]): ReadHeaders {
  const pairs: [string, string][] = [];
  const push = (name: string, value: unknown) => {
    validateHeaderName(name);
    validateHeaderValue(name, value as string);
    if (Array.isArray(value)) for (const v of value) pairs.push([name, String(v)]);
    else pairs.push([name, String(value)]);
  };
  if (Array.isArray(head)) {
    if (head.length % 2 !== 0) throw new TypeError('headers must be name/value pairs');
    for (let i = 0; i < head.length; i += 2) push(head[i] as string, head[i + 1]);
  } else for (const [name, value] of Object.entries(head)) push(name, value);
  const out: [string, string][] = [];
  let hasDate = false;
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    if (lower === 'date') hasDate = true;
    // A repeated name joins its first (the client's header object groups them there).
    let last = -1;
    for (let i = 0; i < out.length; i++) if (out[i]![0] === lower) last = i;
    if (last < 0) out.push([lower, value]);
    else out.splice(last + 1, 0, [lower, value]);
  }
  return { headers: out, hasDate, withDate: undefined, dated: '' };
}
