import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '../../common/clock.js';
import { TRACE_HEADER } from '../../common/trace-id.js';
import { ALB_FIELDS } from '../../logs/fields.js';
import type { AlbLogRecord } from '../../logs/record.js';
import type { AccessLogWriter } from '../access-log.js';
import type { TargetGroupIds } from '../ids.js';
import type { InvokeOutcome, LambdaRuntime } from '../lambda/runtime.js';
import { randomHex } from '../random.js';
import type { LabTelemetry } from '../telemetry.js';
import { AlbLambdaLimits, buildAlbEvent, checkAlbResponse, isUtf8 } from './convert.js';
import { ALB_SERVER_HEADER, AlbLambdaError, type AlbLambdaErrorKind, albErrorPage } from './errors.js';
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

/** ISO-8601 UTC with microseconds, as the access log writes times. */
export function isoMicros(ms: number): string {
  const whole = Math.floor(ms);
  const second = whole - (((whole % 1000) + 1000) % 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second).toISOString().slice(0, 20);
  }
  const micros = Math.min(999_999, Math.floor((ms - second) * 1000));
  return `${cachedPrefix}${String(micros).padStart(6, '0')}Z`;
}
let cachedSecond = Number.NaN;
let cachedPrefix = '';

const seconds = (ms: number) => Math.max(0, ms) / 1000;

interface Exchange {
  t0: number;
  /** Dispatch to the function and its answer (lab ms); undefined when not dispatched. */
  t1?: number | undefined;
  t2?: number | undefined;
  tg: AlbTargetGroup;
  priority: number;
  trace: string;
  receivedBytes: number;
  targetStatus?: number | undefined;
  reason?: string | undefined;
  sentBytes: number;
  elbStatus: number;
  logged: boolean;
}

export class AlbFront {
  readonly server: Server;
  readonly counters: AlbCounters = { requests: 0, byElbStatus: {}, byErrorReason: {}, byTargetGroup: {} };
  private readonly connIds = new WeakMap<Socket, string>();
  private port = 0;
  /** Requests waiting for a body or a function. */
  private inFlight = 0;
  private readonly idleWaiters: (() => void)[] = [];

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
    this.server.on('connection', (s: Socket) => this.connIds.set(s, `TID_${randomHex(16)}`));
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Stops accepting, lets in-flight requests finish (bounded), then closes every connection. */
  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => (this.inFlight === 0 ? r() : this.idleWaiters.push(r))),
      new Promise((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const clock = this.o.clock;
    const t0 = clock.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = this.o.router.route(method, path, req.headers.host);
    const tg = this.o.targetGroups.get(route.targetGroup)!;
    const raw = req.rawHeaders;

    // Headers: check UTF-8 (Node reads header bytes as latin1), add the ALB's own.
    let badHeader = false;
    const headers: string[] = [];
    let clientTrace: string | undefined;
    let clientXff: string | undefined;
    let headerBytes = 0;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      let value = raw[i + 1]!;
      headerBytes += name.length + value.length + 4;
      if (/[^\x00-\x7f]/.test(value)) {
        const bytes = Buffer.from(value, 'latin1');
        if (isUtf8(bytes)) value = bytes.toString('utf8');
        else badHeader = true;
      }
      const lower = name.toLowerCase();
      if (lower === TRACE_HEADER) {
        clientTrace = value;
        continue;
      }
      if (lower === 'x-forwarded-for') {
        clientXff = value;
        continue;
      }
      if (lower === 'x-forwarded-port' || lower === 'x-forwarded-proto') continue;
      headers.push(lower, value);
    }
    const trace = albTraceHeader(clientTrace, t0);
    const clientIp = clientAddress(req.socket.remoteAddress);
    headers.push('x-amzn-trace-id', trace);
    headers.push('x-forwarded-for', clientXff ? `${clientXff}, ${clientIp}` : clientIp);
    headers.push('x-forwarded-port', String(this.port));
    headers.push('x-forwarded-proto', 'http');

    const ex: Exchange = {
      t0,
      tg,
      priority: route.priority,
      trace,
      receivedBytes: method.length + url.length + 12 + headerBytes + 2,
      sentBytes: 0,
      elbStatus: 0,
      logged: false,
    };
    res.on('close', () => this.log(req, res, ex));

    const body = readBody(req);
    if (!(body instanceof Promise)) this.dispatch(req, res, ex, method, url, headers, body, badHeader);
    else {
      this.inFlight++;
      void body
        .then((b) => this.dispatch(req, res, ex, method, url, headers, b, badHeader))
        .catch(() => this.fail(res, ex))
        .finally(() => this.settled());
    }
  }

  /** Sends the request to the function; answers from the outcome. Synchronous up to the invoke. */
  private dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    ex: Exchange,
    method: string,
    url: string,
    headers: string[],
    body: Body,
    badHeader: boolean,
  ): void {
    ex.receivedBytes += body.length;
    if (body.tooLarge) {
      this.sendError(res, ex, 'requestTooLarge');
      return;
    }
    if (badHeader) {
      this.sendError(res, ex, 'badRequest');
      return;
    }
    const tg = ex.tg;
    const event = buildAlbEvent({
      method,
      url,
      rawHeaders: headers,
      body: body.data,
      targetGroupArn: tg.arn,
      multiValueHeaders: tg.multiValueHeaders,
    });
    const started = this.o.runtime.start(tg.function, event, 'alb');
    if (started.kind === 'throttled') {
      this.sendError(res, ex, 'throttled');
      return;
    }
    if (started.kind === 'not-found') {
      this.sendError(res, ex, 'resourceNotFound');
      return;
    }
    ex.t1 = this.o.clock.now();
    this.inFlight++;
    started.done
      .then((outcome) => this.respond(req, res, ex, outcome))
      .catch(() => this.fail(res, ex))
      .finally(() => this.settled());
  }

  private respond(_req: IncomingMessage, res: ServerResponse, ex: Exchange, outcome: InvokeOutcome): void {
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
    const r = checked.response;
    ex.targetStatus = r.statusCode;
    ex.elbStatus = r.statusCode;
    if (res.destroyed) return;
    const raw: string[] = [];
    let hb = 0;
    for (const [k, vs] of r.headers) {
      for (const v of vs) {
        raw.push(k, v);
        hb += k.length + v.length + 4;
      }
    }
    raw.push('content-length', String(r.body.length));
    try {
      if (r.statusMessage) res.writeHead(r.statusCode, r.statusMessage, raw);
      else res.writeHead(r.statusCode, raw);
    } catch {
      // A header Node refuses (the ALB would call the response malformed).
      ex.targetStatus = undefined;
      this.sendError(res, ex, 'invalidResponse');
      return;
    }
    ex.sentBytes = 17 + (r.statusMessage?.length ?? 0) + hb + 40 + r.body.length;
    res.end(r.body);
  }

  private fail(res: ServerResponse, ex: Exchange): void {
    if (!res.headersSent) this.sendError(res, ex, 'unhandled');
    else res.destroy();
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private sendError(res: ServerResponse, ex: Exchange | undefined, kind: AlbLambdaErrorKind): void {
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

  /** Exactly one log entry and one set of metrics per request, when the exchange is over. */
  private log(req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    if (ex.logged) return;
    ex.logged = true;
    const t3 = this.o.clock.now();
    const finished = res.writableFinished;
    if (!finished) {
      // The client closed the connection before the response was sent.
      ex.elbStatus = 460;
      ex.sentBytes = 0;
    }
    const dispatched = ex.t1 !== undefined && ex.t2 !== undefined && finished;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '') || '127.0.0.1';
    // Every field spelled out (no albRecord spread): this runs once per request.
    const record: AlbLogRecord = {
      type: 'http',
      time: isoMicros(t3),
      timeMs: t3,
      elb: this.o.elb,
      client: clientAddress(req.socket.remoteAddress),
      clientPort: req.socket.remotePort ?? 0,
      target: null,
      targetPort: null,
      requestProcessingTime: dispatched ? seconds(ex.t1! - ex.t0) : null,
      targetProcessingTime: dispatched ? seconds(ex.t2! - ex.t1!) : null,
      responseProcessingTime: dispatched ? seconds(t3 - ex.t2!) : null,
      elbStatusCode: ex.elbStatus,
      targetStatusCode: finished ? (ex.targetStatus ?? null) : null,
      receivedBytes: ex.receivedBytes,
      sentBytes: ex.sentBytes,
      request: `${req.method ?? '-'} http://${host}:${this.port}${req.url ?? '/'} HTTP/${req.httpVersion}`,
      userAgent: req.headers['user-agent'] ?? null,
      sslCipher: null,
      sslProtocol: null,
      targetGroupArn: ex.tg.arn,
      traceId: ex.trace,
      domainName: null,
      chosenCertArn: null,
      matchedRulePriority: ex.priority,
      requestCreationTime: isoMicros(ex.t0),
      actionsExecuted: 'forward',
      redirectUrl: null,
      errorReason: ex.reason ?? null,
      targetPortList: null,
      targetStatusCodeList: null,
      classification: null,
      classificationReason: null,
      connTraceId: this.connIds.get(req.socket) ?? null,
      transformedHost: null,
      transformedUri: null,
      requestTransformStatus: null,
      fieldCount: ALB_FIELDS.length,
    };
    this.o.accessLog.write(record);

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
  }
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
function readBody(req: IncomingMessage): Body | Promise<Body> {
  const cl = req.headers['content-length'];
  if ((cl === undefined || cl === '0') && req.headers['transfer-encoding'] === undefined) {
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
