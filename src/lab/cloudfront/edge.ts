/**
 * The lab's CloudFront edge, I/O-free: given a viewer request, it answers from its cache or asks
 * the origin through an injected client, applying CloudFront's documented behaviour (cache keys,
 * TTLs, error caching, custom error responses, its own 502/504 pages, the headers it adds each
 * way). It reads time only from the lab clock, so tests drive it on a virtual clock.
 */
import type { Clock } from '../../common/clock.js';
import { escapeXml } from '../aws-api/xml.js';
import type { LabObjectStore } from '../backend.js';
import type { CloudFrontSpec } from '../scenario.js';
import { cloudFrontRequestId, type DistributionIds } from './ids.js';
import { cloudFrontErrorPage } from './pages.js';
import {
  behaviorFor,
  type CacheBehavior,
  type CacheControl,
  cacheBehaviors,
  ErrorSettings,
  errorTtlMs,
  parseCacheControl,
  successTtlMs,
} from './policy.js';

export type Header = readonly [name: string, value: string];

export interface ViewerRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  /** Header names and values as received, flat (name, value, name, value, ...: Node's rawHeaders). */
  headers: readonly string[];
  body: Buffer;
  /** The viewer's address (the TCP peer). */
  clientIp: string;
}

export interface OriginRequest {
  method: string;
  url: string;
  /** Header names and values, flat (name, value, name, value, ...), as an HTTP client takes them. */
  headers: string[];
  body: Buffer | undefined;
}

export type OriginOutcome =
  /** `at`: lab ms the answer came, when the client knows it (else the edge reads its clock). */
  | { kind: 'response'; status: number; headers: Header[]; body: Buffer; at?: number }
  /** The connection could not be made (refused, reset before a response, connection timeout). */
  | { kind: 'connect-error' }
  /** No response (or no next packet) within the origin response timeout. */
  | { kind: 'timeout' }
  /** The response broke off while being read. */
  | { kind: 'read-error' };

export interface OriginClient {
  /** `responseTimeoutMs` is lab time. Never rejects: failures are outcomes. */
  send(request: OriginRequest, responseTimeoutMs: number): Promise<OriginOutcome>;
  /**
   * The same exchange answered through a callback, called exactly once (possibly before this
   * returns): the edge uses it when the client has it, sparing a promise per request.
   */
  sendWith?(request: OriginRequest, responseTimeoutMs: number, waiter: OriginWaiter): void;
}

/** Who waits for an origin's answer (an object rather than a callback: no closure per request). */
export interface OriginWaiter {
  originAnswered(outcome: OriginOutcome): void;
}

/** Who waits for the edge's answer to a viewer request: one of the two is called, once. */
export interface EdgeClient {
  answered(response: EdgeResponse): void;
  /** The edge itself broke on the request (the viewer then gets a 500). */
  broke(error: unknown): void;
}

export type ResultType = 'Hit' | 'Miss' | 'Error';

export interface EdgeResponse {
  status: number;
  /** Everything the viewer gets, CloudFront's own headers included. */
  headers: Header[];
  body: Buffer;
  /** Also the `X-Amz-Cf-Id` header and the log's x-edge-request-id. */
  requestId: string;
  resultType: ResultType;
  /** The log's x-edge-detailed-result-type: `Error`, or the origin failure (OriginConnectError, ...). */
  detailedResultType: string;
  /** A stored response replayed (it carries `Age`). */
  fromCache: boolean;
  /** What the origin answered this request with; undefined when it was not asked or did not answer. */
  originStatus: number | undefined;
  /** A custom error response replaced the origin's (or CloudFront's own) error. */
  customErrorPage: boolean;
  contentType: string | undefined;
  /** Lab ms when the answer was ready (the first byte). */
  readyAt: number;
}

interface OriginHeadersView {
  toViewer: Header[];
  cacheControl: CacheControl;
  contentType: string | undefined;
}

interface StoredResponse {
  status: number;
  headers: Header[];
  body: Buffer;
  storedAt: number;
  expiresAt: number;
  error: boolean;
  detailedResultType: string;
  customErrorPage: boolean;
  contentType: string | undefined;
}

/** Headers CloudFront removes from origin requests unless the cache behaviour forwards them. */
const REMOVED_TOWARD_ORIGIN = new Set([
  'accept',
  'accept-charset',
  'accept-language',
  'authorization',
  'cookie',
  'expect',
  'referer',
  'te',
  'trailer',
  'upgrade',
  'x-forwarded-proto',
  'x-real-ip',
  'x-http-method-override',
]);
/** Connection-level or rewritten by CloudFront itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'host',
  'via',
  'x-forwarded-for',
  'user-agent',
  'x-amz-cf-id',
  'content-length',
]);
/** Origin response headers that do not reach the viewer as they are. */
const NOT_TO_VIEWER = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

const MAX_ENTRIES = 10_000;

/** No request waits for the one at the origin (shared: replaced, never filled). */
const NO_WAITERS: (() => void)[] = [];

export interface EdgeOptions {
  spec: CloudFrontSpec;
  ids: DistributionIds;
  clock: Clock;
  origin: OriginClient;
  /** The Host CloudFront sends to the origin (the origin's domain name; here host:port of the ALB). */
  originHost: string;
  /** Where custom error pages are read (the bucket of `errorPages`). */
  objects?: LabObjectStore | undefined;
}

export class CloudFrontEdge {
  private readonly cache = new Map<string, StoredResponse>();
  private readonly behaviors: CacheBehavior[];
  private readonly errors: ErrorSettings;
  private readonly via: string;

  constructor(private readonly o: EdgeOptions) {
    this.behaviors = cacheBehaviors(o.spec);
    this.errors = new ErrorSettings(o.spec);
    this.via = `1.1 ${o.ids.viaHost} (CloudFront)`;
  }

  /** Responses held now (expired ones included until they are next looked up or pushed out). */
  get cachedEntries(): number {
    return this.cache.size;
  }

  /**
   * Request collapsing: a GET that misses while another GET for the same key is at the origin
   * waits for that answer and is served from the cache if it was stored, as CloudFront sends
   * simultaneous requests for one cache key to the origin once. Not with CachingDisabled.
   * Key -> the requests waiting for the one at the origin (NO_WAITERS until one waits).
   */
  private readonly atOrigin = new Map<string, (() => void)[]>();

  handle(req: ViewerRequest): Promise<EdgeResponse> {
    return new Promise((resolve, reject) => this.serve(req, { answered: resolve, broke: reject }));
  }

  /** `handle` without a promise: the client is answered once, possibly before this returns. */
  serve(req: ViewerRequest, client: EdgeClient): void {
    const requestId = cloudFrontRequestId();
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const behavior = behaviorFor(this.behaviors, path);
    const cacheable = req.method === 'GET' || req.method === 'HEAD';
    const key = cacheable ? this.cacheKey(req, behavior) : undefined;

    if (key !== undefined) {
      const hit = this.lookup(key);
      if (hit) {
        client.answered(this.replay(hit, requestId));
        return;
      }
    }
    const collapses =
      key !== undefined && req.method === 'GET' && behavior.policy.managed !== 'CachingDisabled';
    if (!collapses) {
      this.answer(new EdgeRequest(this, req, requestId, path, behavior, key, client));
      return;
    }
    const waiting = this.atOrigin.get(key);
    if (waiting) {
      // Served from what the request at the origin stored, else sent to the origin itself.
      const wait = () => {
        const hit = this.lookup(key);
        if (hit) client.answered(this.replay(hit, requestId));
        else this.answer(new EdgeRequest(this, req, requestId, path, behavior, key, client));
      };
      if (waiting === NO_WAITERS) this.atOrigin.set(key, [wait]);
      else waiting.push(wait);
      return;
    }
    const leader = new EdgeRequest(this, req, requestId, path, behavior, key, client);
    this.answer(leader);
    // Answered already (the in-process ALB's function finished at once): nothing could come in
    // meanwhile to wait for it. Otherwise the ones that come in now wait for its answer.
    if (!leader.settled) {
      leader.waitedFor = true;
      this.atOrigin.set(key, NO_WAITERS);
    }
  }

  /** The request at the origin for `key` is answered: the ones waiting for it go on. */
  released(key: string): void {
    const waiters = this.atOrigin.get(key);
    this.atOrigin.delete(key);
    if (waiters !== undefined) for (const w of waiters) w();
  }

  /** Asks the origin (or the error-pages bucket); the request stores what CloudFront would store. */
  private answer(r: EdgeRequest): void {
    try {
      if (r.behavior.origin === 'error-pages') r.originAnswered(this.fromErrorPages(r.req, r.path));
      else this.askOrigin(r);
    } catch (error) {
      r.broke(error);
    }
  }

  /** The viewer's answer from the origin's outcome. */
  fromOutcome(
    req: ViewerRequest,
    requestId: string,
    behavior: CacheBehavior,
    key: string | undefined,
    outcome: OriginOutcome,
  ): EdgeResponse {
    if (outcome.kind !== 'response') {
      const status = outcome.kind === 'timeout' ? 504 : 502;
      const detail =
        outcome.kind === 'timeout'
          ? 'OriginCommError'
          : outcome.kind === 'read-error'
            ? 'OriginReadError'
            : 'OriginConnectError';
      const body = Buffer.from(cloudFrontErrorPage(status, requestId));
      const headers: Header[] = [
        ['Server', 'CloudFront'],
        ['Date', new Date().toUTCString()],
        ['Content-Type', 'text/html'],
      ];
      return this.error(req, behavior, key, requestId, status, headers, body, detail, undefined);
    }
    const view = this.viewOf(outcome.headers);
    const originHeaders = view.toViewer;
    if (outcome.status >= 400) {
      return this.error(
        req,
        behavior,
        key,
        requestId,
        outcome.status,
        originHeaders,
        outcome.body,
        'Error',
        outcome.status,
      );
    }
    const ttl = successTtlMs(outcome.status, view.cacheControl, behavior.policy);
    const now = outcome.at ?? this.o.clock.now();
    if (key !== undefined && req.method === 'GET' && ttl > 0) {
      this.store(key, {
        status: outcome.status,
        headers: originHeaders,
        body: outcome.body,
        storedAt: now,
        expiresAt: now + ttl,
        error: false,
        detailedResultType: 'Hit',
        customErrorPage: false,
        contentType: view.contentType,
      });
    }
    return {
      status: outcome.status,
      headers: this.withEdgeHeaders(originHeaders, 'Miss from cloudfront', requestId),
      body: outcome.body,
      requestId,
      resultType: 'Miss',
      detailedResultType: 'Miss',
      fromCache: false,
      originStatus: outcome.status,
      customErrorPage: false,
      contentType: view.contentType,
      readyAt: now,
    };
  }

  /**
   * What the edge reads of an origin response's headers: those that reach the viewer, their
   * Cache-Control and Content-Type. Worked out once per header list: the in-process ALB hands the
   * same list for the same response (header lists are never modified).
   */
  private viewOf(headers: readonly Header[]): OriginHeadersView {
    if (headers === this.lastOriginHeaders) return this.lastView;
    const toViewer = headers.filter(([n]) => !NOT_TO_VIEWER.has(n.toLowerCase()));
    const view = {
      toViewer,
      cacheControl: cacheControl(toViewer),
      contentType: headerValue(toViewer, 'content-type'),
    };
    this.lastOriginHeaders = headers;
    this.lastView = view;
    return view;
  }
  private lastOriginHeaders: readonly Header[] | undefined;
  private lastView: OriginHeadersView = {
    toViewer: [],
    cacheControl: parseCacheControl([]),
    contentType: undefined,
  };

  /**
   * An error on its way to the viewer: replaced by the custom error response's page when one is
   * configured for its status, cached for the error caching TTL when CloudFront caches it.
   */
  private error(
    req: ViewerRequest,
    behavior: CacheBehavior,
    key: string | undefined,
    requestId: string,
    status: number,
    headers: Header[],
    body: Buffer,
    detail: string,
    originStatus: number | undefined,
  ): EdgeResponse {
    const cc = cacheControl(headers);
    let out = { status, headers, body, customErrorPage: false };
    const custom = this.errors.page(status);
    if (custom)
      out = { ...this.s3Object(custom.responsePagePath!, custom.responseCode!), customErrorPage: true };
    const now = this.o.clock.now();
    const ttl = errorTtlMs(status, cc, behavior.policy, this.errors.errorCachingMinMs(status));
    const contentType = headerValue(out.headers, 'content-type');
    if (key !== undefined && req.method === 'GET' && ttl > 0) {
      this.store(key, {
        ...out,
        storedAt: now,
        expiresAt: now + ttl,
        error: true,
        detailedResultType: 'Error',
        contentType,
      });
    }
    return {
      status: out.status,
      headers: this.withEdgeHeaders(out.headers, 'Error from cloudfront', requestId),
      body: out.body,
      requestId,
      resultType: 'Error',
      detailedResultType: detail,
      fromCache: false,
      originStatus,
      customErrorPage: out.customErrorPage,
      contentType,
      readyAt: now,
    };
  }

  /** A viewer request for the error pages' path pattern: S3's answer for the object. */
  private fromErrorPages(req: ViewerRequest, path: string): OriginOutcome {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return {
        kind: 'response',
        status: 405,
        headers: [
          ['Content-Type', 'application/xml'],
          ['Server', 'AmazonS3'],
        ],
        body: Buffer.from(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>MethodNotAllowed</Code><Message>The specified method is not allowed against this resource.</Message></Error>',
        ),
      };
    }
    let key = path;
    try {
      key = decodeURIComponent(path);
    } catch {
      // Not valid percent-encoding: S3 would look the raw text up too.
    }
    return { kind: 'response', ...this.s3Object(key, 200) };
  }

  /**
   * An object of the error-pages bucket as S3 serves it, with `status` (a custom error response's
   * code, or 200 for a viewer asking for it): CloudFront reads custom error pages this way. A
   * missing object gives S3's answer instead (404 NoSuchKey).
   */
  private s3Object(path: string, status: number): { status: number; headers: Header[]; body: Buffer } {
    const bucket = this.o.spec.errorPages?.bucket;
    const object = bucket === undefined ? undefined : this.o.objects?.get(bucket, path.replace(/^\/+/, ''));
    if (!object) {
      const body = Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${escapeXml(path.replace(/^\/+/, ''))}</Key></Error>`,
      );
      return {
        status: 404,
        headers: [
          ['Content-Type', 'application/xml'],
          ['Date', new Date().toUTCString()],
          ['Server', 'AmazonS3'],
        ],
        body,
      };
    }
    return {
      status,
      headers: [
        ['Content-Type', object.contentType ?? 'text/html'],
        ['Date', new Date().toUTCString()],
        ['Last-Modified', new Date(object.lastModifiedMs).toUTCString()],
        ['ETag', object.etag],
        ['Server', 'AmazonS3'],
      ],
      body: object.body,
    };
  }

  private replay(hit: StoredResponse, requestId: string): EdgeResponse {
    const now = this.o.clock.now();
    const age = Math.max(0, Math.floor((now - hit.storedAt) / 1000));
    return {
      status: hit.status,
      headers: this.withEdgeHeaders(
        hit.headers,
        hit.error ? 'Error from cloudfront' : 'Hit from cloudfront',
        requestId,
        ['Age', String(age)],
      ),
      body: hit.body,
      requestId,
      resultType: hit.error ? 'Error' : 'Hit',
      detailedResultType: hit.detailedResultType,
      fromCache: true,
      originStatus: undefined,
      customErrorPage: hit.customErrorPage,
      contentType: hit.contentType,
      readyAt: now,
    };
  }

  /** `headers`, then the headers CloudFront adds (and `extra`), in a new list. */
  private withEdgeHeaders(
    headers: readonly Header[],
    xCache: string,
    requestId: string,
    extra?: Header,
  ): Header[] {
    let fixed = this.fixedEdgeHeaders.get(xCache);
    if (!fixed) {
      fixed = [
        ['X-Cache', xCache],
        ['Via', this.via],
        ['X-Amz-Cf-Pop', this.o.spec.pop],
      ];
      this.fixedEdgeHeaders.set(xCache, fixed);
    }
    // Made at its final size: one allocation per response.
    const n = headers.length;
    const out = new Array<Header>(n + (extra ? 5 : 4));
    for (let i = 0; i < n; i++) out[i] = headers[i]!;
    out[n] = fixed[0]!;
    out[n + 1] = fixed[1]!;
    out[n + 2] = fixed[2]!;
    out[n + 3] = ['X-Amz-Cf-Id', requestId];
    if (extra) out[n + 4] = extra;
    return out;
  }
  /** The headers CloudFront adds that do not change per request, per X-Cache value (header pairs are never modified). */
  private readonly fixedEdgeHeaders = new Map<string, Header[]>();

  /** Path and query, and the values of the forwarded headers. */
  private cacheKey(req: ViewerRequest, behavior: CacheBehavior): string {
    if (behavior.forwardedHeaders.size === 0) return req.url;
    let key = req.url;
    const raw = req.headers;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const lower = raw[i]!.toLowerCase();
      if (behavior.forwardedHeaders.has(lower)) key += `\n${lower}:${raw[i + 1]}`;
    }
    return key;
  }

  private lookup(key: string): StoredResponse | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (this.o.clock.now() < hit.expiresAt) return hit;
    this.cache.delete(key);
    return undefined;
  }

  private store(key: string, entry: StoredResponse): void {
    this.cache.delete(key);
    if (this.cache.size >= MAX_ENTRIES) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, entry);
  }

  /**
   * Asks the origin, with the headers CloudFront sends: X-Amz-Cf-Id, Via, X-Forwarded-For with the
   * viewer appended, the origin's Host and `User-Agent: Amazon CloudFront` unless forwarded, and
   * none of the headers it strips. GET and HEAD are tried up to the connection attempts when the
   * origin cannot be reached or does not answer in time; other methods once.
   */
  private askOrigin(r: EdgeRequest): void {
    const { req, behavior, requestId } = r;
    const fwd = behavior.forwardedHeaders;
    const headers: string[] = [];
    let via: string | undefined;
    let xff: string | undefined;
    let host: string | undefined;
    let userAgent: string | undefined;
    const raw = req.headers;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      const lower = name.toLowerCase();
      if (lower === 'via') via = via === undefined ? value : `${via}, ${value}`;
      else if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff},${value}`;
      else if (lower === 'host') host ??= value;
      else if (lower === 'user-agent') userAgent ??= value;
      if (HOP_BY_HOP.has(lower)) continue;
      if (
        (REMOVED_TOWARD_ORIGIN.has(lower) || lower.startsWith('proxy-') || lower.startsWith('x-edge-')) &&
        !fwd.has(lower)
      )
        continue;
      headers.push(name, value);
    }
    headers.push(
      'Host',
      fwd.has('host') && host !== undefined ? host : this.o.originHost,
      'User-Agent',
      fwd.has('user-agent') && userAgent !== undefined ? userAgent : 'Amazon CloudFront',
      'Via',
      via === undefined ? this.via : `${via}, ${this.via}`,
      'X-Forwarded-For',
      xff === undefined ? req.clientIp : `${xff},${req.clientIp}`,
      'X-Amz-Cf-Id',
      requestId,
    );
    const request: OriginRequest = {
      method: req.method,
      url: req.url,
      headers,
      body: req.body.length > 0 ? req.body : undefined,
    };
    r.request = request;
    r.attemptsLeft =
      req.method === 'GET' || req.method === 'HEAD' ? this.o.spec.origin.connectionAttempts : 1;
    if (r.attemptsLeft < 1) r.originAnswered({ kind: 'connect-error' });
    else this.attempt(r);
  }

  /** One attempt at the origin; the request retries as CloudFront does. */
  attempt(r: EdgeRequest): void {
    r.attemptsLeft--;
    const origin = this.o.origin;
    const timeout = this.o.spec.origin.responseTimeout;
    if (origin.sendWith) origin.sendWith(r.request!, timeout, r);
    else
      origin.send(r.request!, timeout).then(
        (outcome) => r.originAnswered(outcome),
        (error) => r.broke(error),
      );
  }
}

/**
 * One viewer request on its way through the edge to the origin: the origin's waiter, and the
 * edge client's answer once (an exception from the client's own `answered` is not the edge's).
 */
class EdgeRequest implements OriginWaiter {
  request: OriginRequest | undefined = undefined;
  attemptsLeft = 0;
  settled = false;
  /** Other requests for `key` may be waiting for this one (it leads and was not answered at once). */
  waitedFor = false;

  constructor(
    private readonly edge: CloudFrontEdge,
    readonly req: ViewerRequest,
    readonly requestId: string,
    readonly path: string,
    readonly behavior: CacheBehavior,
    readonly key: string | undefined,
    private readonly client: EdgeClient,
  ) {}

  originAnswered(outcome: OriginOutcome): void {
    if (this.settled) return;
    if ((outcome.kind === 'connect-error' || outcome.kind === 'timeout') && this.attemptsLeft > 0) {
      this.edge.attempt(this);
      return;
    }
    this.settled = true;
    let response: EdgeResponse;
    try {
      response = this.edge.fromOutcome(this.req, this.requestId, this.behavior, this.key, outcome);
    } catch (error) {
      this.settled = false;
      this.broke(error);
      return;
    }
    try {
      this.client.answered(response);
    } finally {
      if (this.waitedFor) this.edge.released(this.key!);
    }
  }

  broke(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    try {
      this.client.broke(error);
    } finally {
      if (this.waitedFor) this.edge.released(this.key!);
    }
  }
}

function headerValue(headers: readonly Header[], lowerName: string): string | undefined {
  for (const [n, v] of headers) if (n.toLowerCase() === lowerName) return v;
  return undefined;
}

function cacheControl(headers: readonly Header[]) {
  const values: string[] = [];
  for (const [n, v] of headers) if (n.toLowerCase() === 'cache-control') values.push(v);
  return parseCacheControl(values);
}
