/**
 * The edge's connection to its origin (the lab's ALB) over HTTP/1.1 with keep-alive, as CloudFront
 * keeps origin connections open for the origin keep-alive timeout. Timeouts are given in lab time
 * and waited in wall time (divided by the time scale).
 */
import { Pool } from 'undici';
import type { Header, OriginClient, OriginOutcome, OriginRequest } from './edge.js';

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
    const flat: string[] = [];
    for (const [n, v] of request.headers) flat.push(n, v);
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
        headers: flat,
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
