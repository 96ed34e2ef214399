/**
 * The edge's connection to its origin (the lab's ALB) over HTTP/1.1 with keep-alive, as CloudFront
 * keeps origin connections open for the origin keep-alive timeout. Timeouts are given in lab time
 * and waited in wall time (divided by the time scale).
 */
import { Pool } from 'undici';
import type { Clock } from '../../common/clock.js';
import { SlotSet } from '../../common/slot-set.js';
import type {
  AlbConnection,
  AlbInProcessClient,
  AlbInProcessExchange,
  AlbInProcessRequest,
  AlbInProcessResponse,
} from '../alb/server.js';
import type { Header, OriginClient, OriginOutcome, OriginRequest, OriginWaiter } from './edge.js';

export interface HttpOriginOptions {
  /** Lab ms an idle origin connection is kept (OriginKeepaliveTimeout). */
  keepaliveMs: number;
  /** Lab ms to wait for a connection (ConnectionTimeout). */
  connectionTimeoutMs: number;
  timeScale: number;
  /** Most connections kept to the origin. */
  connections?: number;
}

/** Errors that mean the connection was never made or broke before any response. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export class HttpOrigin implements OriginClient {
  private readonly pool: Pool;
  private readonly scale: number;

  constructor(originUrl: string, o: HttpOriginOptions) {
    this.scale = o.timeScale;
    const keepAlive = Math.max(1, o.keepaliveMs / o.timeScale);
    this.pool = new Pool(originUrl, {
      connections: o.connections ?? 256,
      keepAliveTimeout: keepAlive,
      keepAliveMaxTimeout: keepAlive,
      connect: { timeout: Math.max(1, o.connectionTimeoutMs / o.timeScale) },
    });
  }

  async send(request: OriginRequest, responseTimeoutMs: number): Promise<OriginOutcome> {
    const wait = Math.max(1, responseTimeoutMs / this.scale);
    let headersArrived = false;
    // undici's own headers timeout is coarse (about a second); the response timeout is ours.
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, wait);
    try {
      const r = await this.pool.request({
        signal: abort.signal,
        method: request.method as 'GET',
        path: request.url,
        headers: request.headers,
        body: request.body,
        headersTimeout: wait,
        bodyTimeout: wait,
      });
      headersArrived = true;
      clearTimeout(timer);
      const body = Buffer.from(await r.body.arrayBuffer());
      const headers: Header[] = [];
      for (const [name, value] of Object.entries(r.headers)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) headers.push([name, v]);
        else headers.push([name, value]);
      }
      return { kind: 'response', status: r.statusCode, headers, body };
    } catch (error) {
      clearTimeout(timer);
      if (timedOut) return { kind: 'timeout' };
      const code = codeOf(error);
      if (code !== undefined && TIMEOUT_CODES.has(code)) return { kind: 'timeout' };
      if (!headersArrived && code !== undefined && CONNECT_CODES.has(code)) return { kind: 'connect-error' };
      return { kind: 'read-error' };
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

/** What the edge needs of an ALB in the same process (src/lab/alb/server.ts's AlbFront). */
export interface InProcessAlb {
  /** False once the ALB stopped accepting: a request is then refused, as a connection would be. */
  readonly accepting: boolean;
  openConnection(client: string, port: number): AlbConnection;
  exchange(request: AlbInProcessRequest, client: AlbInProcessClient): AlbInProcessExchange;
}

export interface InProcessOriginOptions {
  /** Lab ms an idle origin connection is kept (OriginKeepaliveTimeout). */
  keepaliveMs: number;
  timeScale: number;
  clock: Clock;
  /** The ALB's listening host: the edge's connections would come from it. */
  host: string;
}

/** Methods for which an HTTP client sends `content-length: 0` without a body. */
const EXPECTS_PAYLOAD = new Set(['POST', 'PUT', 'PATCH']);

/** Linux's default ephemeral port range: the source ports the ALB would log for the edge. */
const EPHEMERAL_LOW = 32_768;
const EPHEMERAL_COUNT = 61_000 - EPHEMERAL_LOW;

/**
 * The edge's origin when the ALB runs in the same process: the request goes through the ALB's
 * pipeline by a function call, not over loopback HTTP, with what the HTTP client would send (its
 * `host` first and `connection: keep-alive`, or `close` for HEAD, then the edge's headers, then `content-length`), and
 * the ALB's answer as the HTTP client would read it. Connections are emulated for the ALB's access
 * log (client port, connection trace id): one per request in flight, reused while idle for less
 * than the keep-alive timeout, dropped after a timeout. The response timeout is waited in wall time
 * (lab time divided by the time scale), as HttpOrigin waits it. The HttpOrigin remains for an ALB
 * elsewhere.
 */
export class InProcessOrigin implements OriginClient {
  /** Released connections, the most recent last. */
  private readonly idle: AlbConnection[] = [];
  /** Lab ms when each of `idle` was released. */
  private readonly idleSince: number[] = [];
  /** Exchanges waiting for the ALB (a SlotSet: one comes and goes per request). */
  private readonly pending = new SlotSet<OriginExchange>();
  private nextPort = EPHEMERAL_LOW + Math.floor(Math.random() * EPHEMERAL_COUNT);
  private readonly client: string;
  private closed = false;

  constructor(
    private readonly alb: InProcessAlb,
    private readonly o: InProcessOriginOptions,
  ) {
    this.client = o.host === '0.0.0.0' || o.host === '' ? '127.0.0.1' : o.host === '::' ? '::1' : o.host;
  }

  send(request: OriginRequest, responseTimeoutMs: number): Promise<OriginOutcome> {
    return new Promise((resolve) => this.sendWith(request, responseTimeoutMs, { originAnswered: resolve }));
  }

  sendWith(request: OriginRequest, responseTimeoutMs: number, waiter: OriginWaiter): void {
    if (this.closed || !this.alb.accepting) {
      waiter.originAnswered({ kind: 'connect-error' });
      return;
    }
    const connection = this.take();
    // The HTTP client closes the connection after a HEAD (a server might send a body anyway).
    const reuse = request.method !== 'HEAD';
    const body = request.body ?? EMPTY_BODY;
    const withLength = body.length > 0 || EXPECTS_PAYLOAD.has(request.method);
    const given = request.headers;
    // Made at its final size when the edge sends one Host (it moves to the front): one allocation.
    const rawHeaders = new Array<string>(given.length + (withLength ? 4 : 2));
    rawHeaders[0] = 'host';
    rawHeaders[1] = '';
    rawHeaders[2] = 'connection';
    rawHeaders[3] = reuse ? 'keep-alive' : 'close';
    let at = 4;
    for (let i = 0; i + 1 < given.length; i += 2) {
      const name = given[i]!;
      if (name.length === 4 && name.toLowerCase() === 'host') rawHeaders[1] = given[i + 1]!;
      else {
        rawHeaders[at++] = name;
        rawHeaders[at++] = given[i + 1]!;
      }
    }
    if (withLength) {
      rawHeaders[at++] = 'content-length';
      rawHeaders[at++] = String(body.length);
    }
    if (rawHeaders.length !== at) rawHeaders.length = at;
    const sent = new OriginExchange(this, connection, reuse, waiter);
    sent.exchange = this.alb.exchange(
      { method: request.method, url: request.url, rawHeaders, body, connection },
      sent,
    );
    // Most answers are ready by now (a function that finished at once): no timer, no closing hook.
    if (!sent.settled) sent.wait(Math.max(1, responseTimeoutMs / this.o.timeScale));
  }

  /** An exchange that waits (for its timeout, or for the edge closing). */
  waiting(sent: OriginExchange): void {
    this.pending.add(sent);
  }

  answered(sent: OriginExchange): void {
    this.pending.delete(sent);
  }

  /** The most recently released connection if still alive, else a new one. */
  private take(): AlbConnection {
    const last = this.idle.pop();
    if (last !== undefined) {
      const since = this.idleSince.pop()!;
      if (this.o.clock.now() - since < this.o.keepaliveMs) return last;
      // The others were released earlier: all past the keep-alive timeout too.
      this.idle.length = 0;
      this.idleSince.length = 0;
    }
    const port = this.nextPort;
    this.nextPort = EPHEMERAL_LOW + ((port - EPHEMERAL_LOW + 1) % EPHEMERAL_COUNT);
    return this.alb.openConnection(this.client, port);
  }

  /** `at`: lab ms the connection went idle. */
  release(connection: AlbConnection, at: number): void {
    this.idle.push(connection);
    this.idleSince.push(at);
  }

  async close(): Promise<void> {
    this.closed = true;
    // The response breaks off, as when its HTTP pool is destroyed.
    for (const sent of this.pending.values()) sent.cut();
    this.idle.length = 0;
    this.idleSince.length = 0;
  }
}

const EMPTY_BODY = Buffer.alloc(0);

/** One request of the in-process origin to the ALB, answered once. */
class OriginExchange implements AlbInProcessClient {
  /** Its place in the origin's pending exchanges. */
  slot = -1;
  settled = false;
  exchange: AlbInProcessExchange | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly origin: InProcessOrigin,
    private readonly connection: AlbConnection,
    private readonly reuse: boolean,
    private readonly waiter: OriginWaiter,
  ) {}

  albAnswered(response: AlbInProcessResponse | undefined): void {
    if (this.settled) return;
    if (response === undefined) {
      // The ALB closed the connection before answering.
      this.finish({ kind: 'connect-error' });
      return;
    }
    if (this.reuse) this.origin.release(this.connection, response.at);
    this.finish({
      kind: 'response',
      status: response.status,
      headers: response.headers,
      body: response.body,
      at: response.at,
    });
  }

  /** Waits up to `ms` of wall time for the answer. */
  wait(ms: number): void {
    this.origin.waiting(this);
    this.timer = setTimeout(() => {
      if (this.settled) return;
      // The HTTP client gives up on the connection: the ALB sees its client go away.
      this.exchange?.abort();
      this.finish({ kind: 'timeout' });
    }, ms);
  }

  /** The edge is closing. */
  cut(): void {
    if (this.settled) return;
    this.exchange?.abort();
    this.finish({ kind: 'read-error' });
  }

  private finish(outcome: OriginOutcome): void {
    this.settled = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.origin.answered(this);
    }
    this.waiter.originAnswered(outcome);
  }
}
