/**
 * One HTTP exchange on an undici Pool, through the low-level dispatch API (no stream objects per
 * request). Never rejects: a transport error, a timeout or a stop becomes part of the outcome.
 * The body is counted; it is kept (up to a cap) only when the status says the exchange failed.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, Pool } from 'undici';

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
    // Backstops; the exchange's own timer enforces the total timeout.
    headersTimeout: s.timeoutMs + 1_000,
    bodyTimeout: s.timeoutMs + 1_000,
    connect: { timeout: s.timeoutMs, rejectUnauthorized: !s.insecure },
  };
}

/** Up to `connections` sockets to one origin, shared by all sends to one URL. */
export function createPool(origin: string, s: PoolSettings): Pool {
  return new Pool(origin, { ...clientOptions(s), connections: s.connections });
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
  headers: Record<string, string>;
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

/** Starts one exchange; `capture(status)` decides whether the body is kept. */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly promise: Promise<ExchangeOutcome>;
  private resolve!: (o: ExchangeOutcome) => void;
  private abortFn: ((err?: Error) => void) | undefined;
  private rawHeaders: Buffer[] | string[] | null = null;
  private timer: NodeJS.Timeout | undefined;
  private settled = false;
  private abortWith: Error | undefined;
  private status: number | null = null;
  private statusText = '';
  private headersAt: number | undefined;
  private bytes = 0;
  private chunks: Buffer[] | null = null;
  private kept = 0;
  private truncated = false;

  constructor(
    pool: Dispatcher,
    req: ExchangeRequest,
    timeoutMs: number,
    private readonly capture: (status: number) => boolean,
    private readonly capBytes: number,
  ) {
    this.promise = new Promise((r) => {
      this.resolve = r;
    });
    this.timer = setTimeout(() => this.fail(new ProbeTimeoutError(timeoutMs)), timeoutMs);
    try {
      pool.dispatch(
        {
          path: req.path,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body,
          reset: req.reset,
        },
        this,
      );
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
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
    this.headersAt = performance.now();
    if (this.capture(statusCode)) this.chunks = [];
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return true;
    this.bytes += chunk.length;
    if (this.chunks) {
      const room = this.capBytes - this.kept;
      if (room <= 0) {
        this.truncated = true;
      } else if (chunk.length > room) {
        this.chunks.push(Buffer.from(chunk.subarray(0, room)));
        this.kept += room;
        this.truncated = true;
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolve({
      status: this.status,
      statusText: this.statusText,
      headers: this.chunks ? parseRawHeaders(this.rawHeaders) : null,
      bytes: this.bytes,
      body: this.chunks ? Buffer.concat(this.chunks) : null,
      bodyTruncated: this.truncated,
      error,
      stopped,
      headersAt: this.headersAt,
      endAt: performance.now(),
    });
  }
}
