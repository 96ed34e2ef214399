/**
 * One HTTP exchange on an undici Pool, through the low-level dispatch API (no stream objects per
 * request). Never rejects: a transport error, a timeout or a stop becomes part of the outcome.
 * The body is counted; it is kept (up to a cap) only when the status says the exchange failed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Client, type Dispatcher, Pool } from 'undici';

export interface PoolSettings {
  connections: number;
  keepAliveTimeoutMs: number;
  timeoutMs: number;
  insecure: boolean;
}

function clientOptions(s: PoolSettings) {
  return {
    pipelining: 1,
    keepAliveTimeout: s.keepAliveTimeoutMs,
    keepAliveMaxTimeout: Math.max(s.keepAliveTimeoutMs, 600_000),
    // Off: the runner's sweep enforces the total timeout, and undici's own timers would be armed
    // and cleared on every request.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: s.timeoutMs, rejectUnauthorized: !s.insecure },
  };
}

/** Up to `connections` sockets to one origin, shared by all sends to one URL (the open model). */
export function createPool(origin: string, s: PoolSettings): Pool {
  return new Pool(origin, { ...clientOptions(s), connections: s.connections });
}

/**
 * One socket to one origin, owned by one closed-loop worker: the same connections as a Pool of
 * `concurrency`, without a Pool choosing a free client for every request (see the probe section
 * of docs/performance.md for what it saves).
 */
export function createClient(origin: string, s: PoolSettings): Client {
  return new Client(origin, clientOptions(s));
}

/** Thrown into an exchange when --timeout elapses (classified as `timeout`). */
export class ProbeTimeoutError extends Error {
  readonly code = 'TS_PROBE_TIMEOUT';
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
    this.name = 'ProbeTimeoutError';
  }
}

/** Aborts an exchange when the run stops (Ctrl-C): it is not recorded. */
export class ProbeStoppedError extends Error {
  readonly code = 'TS_PROBE_STOPPED';
  constructor() {
    super('stopped');
    this.name = 'ProbeStoppedError';
  }
}

export interface ExchangeRequest {
  path: string;
  method: string;
  /** Flat [name, value, name, value, ...]: undici takes it without walking an object. */
  headers: string[];
  body: string | undefined;
  /** Close the connection after this request (no keep-alive). */
  reset: boolean;
}

export interface ExchangeOutcome {
  status: number | null;
  statusText: string;
  headers: IncomingHttpHeaders | null;
  bytes: number;
  /** The captured body (failing statuses only), at most the cap. */
  body: Buffer | null;
  bodyTruncated: boolean;
  error: Error | null;
  /** The run stopped while this was in flight; do not record it. */
  stopped: boolean;
  /** performance.now() when the status line and headers arrived. */
  headersAt: number | undefined;
  /** performance.now() at the end (response end, error, timeout). */
  endAt: number;
}

/** Raw [name, value, name, value, …] → lower-cased header object (repeated names → arrays). */
export function parseRawHeaders(raw: Buffer[] | string[] | null): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out as IncomingHttpHeaders;
}

/**
 * One exchange, and its outcome once settled (the exchange object is the outcome: no second object
 * per request). `capture(status)` decides whether the body is kept. `done` is called exactly once,
 * synchronously from the callback that ends the exchange (so a closed loop can send its next
 * request at once, on a connection that is free again). Subclasses carry the caller's own
 * bookkeeping for the request, so one object per request holds it all.
 */
export class Exchange implements Dispatcher.DispatchHandler, ExchangeOutcome {
  private abortFn: ((err?: Error) => void) | undefined;
  private rawHeaders: Buffer[] | string[] | null = null;
  private settled = false;
  private abortWith: Error | undefined;
  private chunks: Buffer[] | null = null;
  private kept = 0;

  status: number | null = null;
  statusText = '';
  headers: IncomingHttpHeaders | null = null;
  bytes = 0;
  body: Buffer | null = null;
  bodyTruncated = false;
  error: Error | null = null;
  stopped = false;
  headersAt: number | undefined = undefined;
  endAt = 0;
  /** performance.now() after which the exchange fails as a timeout (see `expireIfDue`). */
  deadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly req: ExchangeRequest,
    private readonly timeoutMs: number,
    private readonly capture: (status: number) => boolean,
    private readonly capBytes: number,
    private readonly done: (exchange: Exchange) => void,
  ) {}

  /**
   * Sends the request at `nowPerf` (performance.now(), just read by the caller); `done` may be
   * called before this returns, if it cannot be sent. The caller enforces the timeout by calling
   * `expireIfDue` now and then: one sweep over the exchanges in flight costs far less than a
   * timer set and cleared per request.
   */
  start(nowPerf: number): void {
    this.deadline = nowPerf + this.timeoutMs;
    try {
      // The request options are the ExchangeRequest itself: undici reads these fields from it.
      this.dispatcher.dispatch(this.req as Dispatcher.DispatchOptions, this);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Fails the exchange as a timeout if its deadline has passed. */
  expireIfDue(now: number): void {
    if (now >= this.deadline) this.fail(new ProbeTimeoutError(this.timeoutMs));
  }

  /** Stops the exchange (Ctrl-C after the grace period): it settles as `stopped`. */
  stop(): void {
    this.fail(new ProbeStoppedError());
  }

  // The classic handler callbacks: undici calls them directly (the newer onResponseStart API is
  // adapted from these and parses every response's headers into an object; we only need the
  // headers of failing responses, so they are parsed here on demand).
  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.abortWith) abort(this.abortWith);
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[] | string[] | null,
    _resume: () => void,
    statusText?: string,
  ): boolean {
    if (this.settled || statusCode < 200) return true;
    this.status = statusCode;
    this.statusText = statusText ?? '';
    this.rawHeaders = rawHeaders;
    // Header timing is only reported for the failures kept in the HAR file.
    if (this.capture(statusCode)) {
      this.chunks = [];
      this.headersAt = performance.now();
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    this.bytes += chunk.length;
    if (this.chunks) {
      const room = this.capBytes - this.kept;
      if (room <= 0) {
        this.bodyTruncated = true;
      } else if (chunk.length > room) {
        this.chunks.push(Buffer.from(chunk.subarray(0, room)));
        this.kept += room;
        this.bodyTruncated = true;
      } else {
        this.chunks.push(chunk);
        this.kept += chunk.length;
      }
    }
    return true;
  }

  onComplete(): void {
    this.settle(null, false);
  }

  onError(error: Error): void {
    this.settle(error, false);
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.abortWith = error;
    const stopped = error instanceof ProbeStoppedError;
    this.settle(error, stopped);
    try {
      this.abortFn?.(error);
    } catch {
      // Already finished on the socket side.
    }
  }

  private settle(error: Error | null, stopped: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.error = error;
    this.stopped = stopped;
    if (this.chunks) {
      this.headers = parseRawHeaders(this.rawHeaders);
      this.body = Buffer.concat(this.chunks);
    }
    this.endAt = performance.now();
    this.done(this);
  }
}
