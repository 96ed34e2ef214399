/**
 * CloudFront's caching rules as AWS documents them, as pure functions of a response's status and
 * headers, the cache behaviour's policy and the distribution's error settings. Times in lab ms.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/GeneratingCustomErrorResponses.html
 */
import { type CachePolicySpec, CloudFrontLimits, type CloudFrontSpec } from '../scenario.js';

/** The two managed cache policies the lab knows, with their ids as the API shows them. */
export const ManagedCachePolicy = {
  CachingOptimized: {
    id: '658327ea-f89d-4fab-a63d-7e88639e58f6',
    minMs: 1000,
    defaultMs: 86_400_000,
    maxMs: 31_536_000_000,
  },
  CachingDisabled: { id: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', minMs: 0, defaultMs: 0, maxMs: 0 },
} as const;

export interface TtlPolicy {
  /** The managed policy's name, or undefined for legacy min/default/max TTLs. */
  managed: keyof typeof ManagedCachePolicy | undefined;
  minMs: number;
  defaultMs: number;
  maxMs: number;
}

export function ttlPolicy(spec: CachePolicySpec): TtlPolicy {
  if (typeof spec === 'string') {
    const m = ManagedCachePolicy[spec];
    return { managed: spec, minMs: m.minMs, defaultMs: m.defaultMs, maxMs: m.maxMs };
  }
  return { managed: undefined, minMs: spec.minTTL, defaultMs: spec.defaultTTL, maxMs: spec.maxTTL };
}

export interface CacheBehavior {
  /** `*` for the default behaviour. */
  pathPattern: string;
  /** The ALB, or the S3 bucket of the custom error pages. */
  origin: 'alb' | 'error-pages';
  policy: TtlPolicy;
  /** Lower-cased names of the viewer headers in the cache key and sent to the origin. */
  forwardedHeaders: ReadonlySet<string>;
  matches(path: string): boolean;
}

/**
 * A path pattern as CloudFront matches it: case-sensitive, `*` any run of characters (slashes
 * included), `?` exactly one; the leading `/` may be left out.
 */
export function pathPatternMatcher(pattern: string): (path: string) => boolean {
  if (pattern === '*') return () => true;
  const p = pattern.startsWith('/') ? pattern : `/${pattern}`;
  let re = '^';
  for (const c of p) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const compiled = new RegExp(`${re}$`, 's');
  return (path) => compiled.test(path);
}

/**
 * The path patterns that send the custom error pages to their S3 bucket, as AWS advises setting
 * it up (a failing origin cannot serve its own error page): `/<first folder>/*` of each page path,
 * or the page path itself for a page at the root.
 */
export function errorPagePatterns(spec: CloudFrontSpec): string[] {
  if (!spec.errorPages) return [];
  const patterns = new Set<string>();
  for (const r of spec.customErrorResponses) {
    if (r.responsePagePath === undefined) continue;
    const parts = r.responsePagePath.split('/');
    patterns.add(parts.length > 2 ? `/${parts[1]}/*` : r.responsePagePath);
  }
  return [...patterns];
}

/**
 * The behaviours in the order CloudFront tries them: the error pages' (to the S3 bucket,
 * CachingOptimized), the listed ones, then the default.
 */
export function cacheBehaviors(spec: CloudFrontSpec): CacheBehavior[] {
  const make = (
    pathPattern: string,
    b: { cachePolicy: CachePolicySpec; forwardedHeaders: string[] },
    origin: CacheBehavior['origin'] = 'alb',
  ): CacheBehavior => ({
    pathPattern,
    origin,
    policy: ttlPolicy(b.cachePolicy),
    forwardedHeaders: new Set(b.forwardedHeaders.map((h) => h.toLowerCase())),
    matches: pathPatternMatcher(pathPattern),
  });
  return [
    ...errorPagePatterns(spec).map((p) =>
      make(p, { cachePolicy: 'CachingOptimized', forwardedHeaders: [] }, 'error-pages'),
    ),
    ...spec.cacheBehaviors.map((b) => make(b.pathPattern, b)),
    make('*', spec.defaultCacheBehavior),
  ];
}

export function behaviorFor(behaviors: readonly CacheBehavior[], path: string): CacheBehavior {
  for (const b of behaviors) if (b.matches(path)) return b;
  return behaviors[behaviors.length - 1]!;
}

export interface CacheControl {
  maxAgeMs: number | undefined;
  sMaxAgeMs: number | undefined;
  /** no-store, no-cache or private. */
  noCache: boolean;
}

/** Reads `Cache-Control` (every instance, comma-separated directives). */
export function parseCacheControl(values: readonly string[]): CacheControl {
  const out: CacheControl = { maxAgeMs: undefined, sMaxAgeMs: undefined, noCache: false };
  for (const v of values) {
    for (const part of v.split(',')) {
      const [rawName, rawValue] = part.split('=', 2);
      const name = rawName!.trim().toLowerCase();
      const seconds = rawValue === undefined ? Number.NaN : Number(rawValue.trim().replace(/^"|"$/g, ''));
      if (name === 'max-age' && Number.isFinite(seconds) && seconds >= 0) out.maxAgeMs = seconds * 1000;
      else if (name === 's-maxage' && Number.isFinite(seconds) && seconds >= 0)
        out.sMaxAgeMs = seconds * 1000;
      else if (name === 'no-store' || name === 'no-cache' || name === 'private') out.noCache = true;
    }
  }
  return out;
}

/** Successful statuses CloudFront caches. */
const CACHEABLE_SUCCESS = new Set([200, 203, 204, 206, 300, 301, 307, 308]);

/**
 * How long a successful response is cached (0 = not at all): the origin's s-maxage or max-age
 * within [min, max]; the default TTL when it says nothing; with no-cache/no-store/private and no
 * age, the minimum TTL (CloudFront caches for at least MinTTL even then).
 */
export function successTtlMs(status: number, cc: CacheControl, policy: TtlPolicy): number {
  if (policy.maxMs === 0 || !CACHEABLE_SUCCESS.has(status)) return 0;
  const age = cc.sMaxAgeMs ?? cc.maxAgeMs;
  if (age === undefined) return cc.noCache ? policy.minMs : policy.defaultMs;
  return Math.min(policy.maxMs, Math.max(policy.minMs, age));
}

/** Errors cached whenever the origin returns them. */
const ALWAYS_CACHED_ERRORS = new Set([404, 414, 500, 501, 502, 503, 504]);
/** Errors cached only when the origin's headers give them an age. */
const CACHED_WITH_HEADERS = new Set([400, 403, 405, 412, 415]);

/**
 * How long an error is cached (0 = not at all): the larger of the error caching minimum TTL and the
 * origin's s-maxage/max-age (itself at most the behaviour's maximum TTL). Never with the managed
 * CachingDisabled policy; 416 and codes outside AWS's lists never.
 */
export function errorTtlMs(status: number, cc: CacheControl, policy: TtlPolicy, errorMinMs: number): number {
  if (policy.managed === 'CachingDisabled') return 0;
  const header = cc.sMaxAgeMs ?? cc.maxAgeMs;
  const age = header === undefined ? undefined : Math.min(header, policy.maxMs);
  if (ALWAYS_CACHED_ERRORS.has(status)) return Math.max(errorMinMs, age ?? 0);
  if (CACHED_WITH_HEADERS.has(status) && age !== undefined) return Math.max(errorMinMs, age);
  return 0;
}

export interface CustomErrorResponse {
  errorCode: number;
  /** Undefined: the entry sets only the error caching minimum TTL. */
  responsePagePath: string | undefined;
  responseCode: number | undefined;
  errorCachingMinMs: number;
}

/** The distribution's error settings by status: configured entries, and AWS's 10 s elsewhere. */
export class ErrorSettings {
  private readonly byCode = new Map<number, CustomErrorResponse>();

  constructor(spec: CloudFrontSpec) {
    for (const r of spec.customErrorResponses) {
      this.byCode.set(r.errorCode, {
        errorCode: r.errorCode,
        responsePagePath: r.responsePagePath,
        responseCode: r.responsePagePath === undefined ? undefined : (r.responseCode ?? r.errorCode),
        errorCachingMinMs: r.errorCachingMinTTL ?? CloudFrontLimits.defaultErrorCachingMinTtlSec * 1000,
      });
    }
  }

  /** The custom error response for a status, when one has a page. */
  page(status: number): CustomErrorResponse | undefined {
    const r = this.byCode.get(status);
    return r?.responsePagePath === undefined ? undefined : r;
  }

  errorCachingMinMs(status: number): number {
    return this.byCode.get(status)?.errorCachingMinMs ?? CloudFrontLimits.defaultErrorCachingMinTtlSec * 1000;
  }
}
