import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../../src/common/clock.js';
import {
  CloudFrontEdge,
  type EdgeResponse,
  type Header,
  type OriginOutcome,
  type OriginRequest,
} from '../../../src/lab/cloudfront/edge.js';
import { distributionIds } from '../../../src/lab/cloudfront/ids.js';
import { MemoryObjectStore } from '../../../src/lab/object-store.js';
import { type ScenarioInput, validateScenario } from '../../../src/lab/scenario.js';

const BASE: ScenarioInput = {
  name: 'edge',
  functions: [{ name: 'a', synthetic: { duration: { kind: 'fixed', value: 0.1 } } }],
  loadBalancer: { name: 'lb', targetGroups: [{ name: 'tg', function: 'a' }], defaultTargetGroup: 'tg' },
};

/** An origin that answers from a script and records what it was asked. */
class ScriptedOrigin {
  readonly requests: { request: OriginRequest; timeoutMs: number }[] = [];
  next: (r: OriginRequest) => OriginOutcome | Promise<OriginOutcome> = () => ok('hello');
  async send(request: OriginRequest, timeoutMs: number): Promise<OriginOutcome> {
    this.requests.push({ request, timeoutMs });
    return this.next(request);
  }
}

function ok(body: string, headers: Header[] = []): OriginOutcome {
  return {
    kind: 'response',
    status: 200,
    headers: [['Content-Type', 'text/plain'], ['Connection', 'keep-alive'], ...headers],
    body: Buffer.from(body),
  };
}

const ALB_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n';
function alb502(): OriginOutcome {
  return {
    kind: 'response',
    status: 502,
    headers: [
      ['Server', 'awselb/2.0'],
      ['Date', 'Sat, 05 Dec 2026 10:00:00 GMT'],
      ['Content-Type', 'text/html'],
      ['Content-Length', String(ALB_502.length)],
    ],
    body: Buffer.from(ALB_502),
  };
}

function setup(cloudfront: Record<string, unknown> = {}) {
  const scenario = validateScenario({ ...BASE, cloudfront });
  const spec = scenario.cloudfront!;
  const clock = new VirtualClock(Date.UTC(2026, 11, 5, 10, 0, 0));
  const origin = new ScriptedOrigin();
  const objects = new MemoryObjectStore(() => clock.now());
  for (const [key, body] of Object.entries(spec.errorPages?.objects ?? {}))
    objects.put(spec.errorPages!.bucket, key, Buffer.from(body), 'text/html');
  const ids = distributionIds('123456789012', 'lb', spec);
  const edge = new CloudFrontEdge({ spec, ids, clock, origin, originHost: 'alb.internal:8080', objects });
  const get = (url: string, headers: Header[] = [], method = 'GET') =>
    edge.handle({ method, url, headers: headers.flat(), body: Buffer.alloc(0), clientIp: '198.51.100.7' });
  const advance = (seconds: number) => clock.advanceTo(clock.now() + seconds * 1000);
  return { edge, origin, clock, get, advance, ids };
}

/** A flat header list (name, value, ...) by lower-case name. */
function headerMap(flat: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i]!.toLowerCase(), flat[i + 1]!);
  return m;
}

const h = (r: EdgeResponse, name: string) => r.headers.find(([n]) => n.toLowerCase() === name)?.[1];

describe('CloudFront edge: caching', () => {
  test('a GET is cached for the default TTL and replayed with Age, then asked again', async () => {
    const { origin, get, advance } = setup({ defaultCacheBehavior: { cachePolicy: { defaultTTL: 60 } } });
    const first = await get('/page');
    expect(first.resultType).toBe('Miss');
    expect(h(first, 'x-cache')).toBe('Miss from cloudfront');
    expect(h(first, 'age')).toBeUndefined();
    expect(h(first, 'connection')).toBeUndefined();
    advance(25.5);
    const second = await get('/page');
    expect(second.resultType).toBe('Hit');
    expect(h(second, 'x-cache')).toBe('Hit from cloudfront');
    expect(h(second, 'age')).toBe('25');
    expect(second.body.toString()).toBe('hello');
    expect(h(second, 'x-amz-cf-id')).not.toBe(h(first, 'x-amz-cf-id'));
    expect(origin.requests).toHaveLength(1);
    advance(35);
    expect((await get('/page')).resultType).toBe('Miss');
    expect(origin.requests).toHaveLength(2);
  });

  test("the origin's max-age counts within [minTTL, maxTTL]; no-store falls to minTTL", async () => {
    const { origin, get, advance } = setup({
      defaultCacheBehavior: { cachePolicy: { minTTL: 5, defaultTTL: 60, maxTTL: 100 } },
    });
    origin.next = (r) =>
      r.url === '/long'
        ? ok('x', [['Cache-Control', 'max-age=1000']])
        : r.url === '/short'
          ? ok('x', [['Cache-Control', 'public, max-age=1']])
          : ok('x', [['Cache-Control', 'no-store']]);
    for (const u of ['/long', '/short', '/nostore']) await get(u);
    advance(4);
    // /short was raised to minTTL 5 s; no-store also to 5 s.
    for (const u of ['/long', '/short', '/nostore']) expect((await get(u)).resultType).toBe('Hit');
    advance(2);
    expect((await get('/short')).resultType).toBe('Miss');
    expect((await get('/nostore')).resultType).toBe('Miss');
    advance(90);
    expect((await get('/long')).resultType).toBe('Hit');
    advance(5);
    // Capped at maxTTL 100 s.
    expect((await get('/long')).resultType).toBe('Miss');
  });

  test('dynamic pages (policy 0/0 and no Cache-Control) are never cached; CachingDisabled neither', async () => {
    const { origin, get } = setup({
      defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } },
      cacheBehaviors: [{ pathPattern: '/api/*', cachePolicy: 'CachingDisabled' }],
    });
    origin.next = (r) => (r.url.startsWith('/api/') ? ok('x', [['Cache-Control', 'max-age=60']]) : ok('x'));
    await get('/');
    await get('/');
    await get('/api/orders');
    expect((await get('/api/orders')).resultType).toBe('Miss');
    expect(origin.requests).toHaveLength(4);
  });

  test('HEAD is answered from a stored GET; a HEAD miss stores nothing', async () => {
    const { origin, get } = setup();
    await get('/h', [], 'HEAD');
    expect((await get('/h', [], 'HEAD')).resultType).toBe('Miss');
    await get('/h');
    const head = await get('/h', [], 'HEAD');
    expect(head.resultType).toBe('Hit');
    expect(origin.requests.map((r) => r.request.method)).toEqual(['HEAD', 'HEAD', 'GET']);
  });

  test('the cache key is the path and query plus forwarded header values; POST is never cached', async () => {
    const { origin, get } = setup({ defaultCacheBehavior: { forwardedHeaders: ['Accept-Language'] } });
    await get('/a?x=1', [['Accept-Language', 'en']]);
    expect((await get('/a?x=1', [['accept-language', 'en']])).resultType).toBe('Hit');
    expect((await get('/a?x=1', [['Accept-Language', 'de']])).resultType).toBe('Miss');
    expect((await get('/a?x=2', [['Accept-Language', 'en']])).resultType).toBe('Miss');
    expect((await get('/a?x=1', [['Accept-Language', 'en']], 'POST')).resultType).toBe('Miss');
    expect(origin.requests).toHaveLength(4);
  });
});

describe('CloudFront edge: errors', () => {
  test('an origin 502 passes through with its headers, is cached 10 s and replayed with Age', async () => {
    const { origin, get, advance, ids } = setup({ defaultCacheBehavior: { cachePolicy: { defaultTTL: 0 } } });
    origin.next = alb502;
    const first = await get('/api/orders');
    expect(first.status).toBe(502);
    expect(first.resultType).toBe('Error');
    expect(first.originStatus).toBe(502);
    expect(h(first, 'server')).toBe('awselb/2.0');
    expect(h(first, 'x-cache')).toBe('Error from cloudfront');
    expect(h(first, 'via')).toBe(`1.1 ${ids.viaHost} (CloudFront)`);
    expect(h(first, 'x-amz-cf-pop')).toBe('IAD89-C1');
    expect(h(first, 'x-amz-cf-id')).toMatch(/^[A-Za-z0-9_-]{54}==$/);
    expect(first.body.toString()).toBe(ALB_502);
    origin.next = () => ok('recovered');
    advance(3.2);
    const replay = await get('/api/orders');
    expect(replay.status).toBe(502);
    expect(replay.fromCache).toBe(true);
    expect(h(replay, 'age')).toBe('3');
    expect(h(replay, 'server')).toBe('awselb/2.0');
    expect(h(replay, 'x-cache')).toBe('Error from cloudfront');
    expect(origin.requests).toHaveLength(1);
    advance(6.7);
    expect((await get('/api/orders')).fromCache).toBe(true);
    advance(0.2);
    // 10 s after the error, the next request goes to the origin.
    const fresh = await get('/api/orders');
    expect(fresh.status).toBe(200);
    expect(origin.requests).toHaveLength(2);
  });

  test('error caching follows the per-status minimum TTL, the origin max-age and the status lists', async () => {
    const { origin, get, advance } = setup({
      customErrorResponses: [
        { errorCode: 503, errorCachingMinTTL: 0 },
        { errorCode: 500, errorCachingMinTTL: 30 },
      ],
    });
    const status = (s: number, headers: Header[] = []): OriginOutcome => ({
      kind: 'response',
      status: s,
      headers,
      body: Buffer.from(''),
    });
    origin.next = (r) => {
      const code = Number(r.url.slice(1, 4));
      return status(code, r.url.includes('age') ? [['Cache-Control', 'max-age=20']] : []);
    };
    for (const u of ['/503', '/500', '/403', '/403age', '/416age', '/429']) await get(u);
    advance(15);
    expect((await get('/503')).fromCache).toBe(false); // TTL 0: not cached
    expect((await get('/500')).fromCache).toBe(true); // 30 s
    expect((await get('/403')).fromCache).toBe(false); // 403 only with headers
    expect((await get('/403age')).fromCache).toBe(true); // max-age 20 s
    expect((await get('/416age')).fromCache).toBe(false); // never
    expect((await get('/429')).fromCache).toBe(false); // not a code CloudFront caches
    advance(10);
    expect((await get('/403age')).fromCache).toBe(false);
    expect((await get('/500')).fromCache).toBe(true);
  });

  test('with CachingDisabled errors are not cached', async () => {
    const { origin, get } = setup({ defaultCacheBehavior: { cachePolicy: 'CachingDisabled' } });
    origin.next = alb502;
    await get('/x');
    expect((await get('/x')).fromCache).toBe(false);
    expect(origin.requests).toHaveLength(2);
  });

  test('a custom error response replaces the body from the S3 page, keeps or changes the status, and is cached', async () => {
    const page = '<html><body>Sorry, the shop is busy.</body></html>';
    const { origin, get, advance } = setup({
      customErrorResponses: [
        { errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502, errorCachingMinTTL: 5 },
        { errorCode: 504, responsePagePath: '/errors/504.html', responseCode: 200 },
        { errorCode: 503, responsePagePath: '/errors/missing.html' },
      ],
      errorPages: {
        bucket: 'shop-error-pages',
        objects: { 'errors/502.html': page, 'errors/504.html': 'later' },
      },
    });
    origin.next = alb502;
    const masked = await get('/api/orders');
    expect(masked.status).toBe(502);
    expect(masked.customErrorPage).toBe(true);
    expect(masked.body.toString()).toBe(page);
    expect(h(masked, 'server')).toBe('AmazonS3');
    expect(h(masked, 'content-type')).toBe('text/html');
    expect(h(masked, 'x-cache')).toBe('Error from cloudfront');
    advance(4);
    const replay = await get('/api/orders');
    expect(replay.body.toString()).toBe(page);
    expect(h(replay, 'age')).toBe('4');
    advance(1);
    expect((await get('/api/orders')).fromCache).toBe(false);

    origin.next = () => ({
      kind: 'response',
      status: 504,
      headers: [['Server', 'awselb/2.0']],
      body: Buffer.from(''),
    });
    const changed = await get('/slow');
    expect(changed.status).toBe(200);
    expect(changed.body.toString()).toBe('later');
    expect(changed.resultType).toBe('Error');

    origin.next = () => ({ kind: 'response', status: 503, headers: [], body: Buffer.from('') });
    const missing = await get('/busy');
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('<Code>NoSuchKey</Code>');
  });

  test('the error pages are also served to viewers from S3 under their path pattern, without asking the ALB', async () => {
    const { origin, get } = setup({
      customErrorResponses: [{ errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502 }],
      errorPages: { bucket: 'shop-error-pages', objects: { 'errors/502.html': 'busy page' } },
    });
    const page = await get('/errors/502.html');
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('busy page');
    expect(h(page, 'server')).toBe('AmazonS3');
    expect((await get('/errors/502.html')).resultType).toBe('Hit');
    const missing = await get('/errors/404.html');
    expect(missing.status).toBe(404);
    expect(missing.resultType).toBe('Error');
    expect(origin.requests).toHaveLength(0);
    expect((await get('/other')).status).toBe(200);
    expect(origin.requests).toHaveLength(1);
  });

  test("an unreachable origin gets CloudFront's own 502 after the connection attempts; no answer in time its 504", async () => {
    const { origin, get } = setup({ origin: { responseTimeout: 4, connectionAttempts: 2 } });
    origin.next = () => ({ kind: 'connect-error' });
    const refused = await get('/x');
    expect(refused.status).toBe(502);
    expect(refused.detailedResultType).toBe('OriginConnectError');
    expect(h(refused, 'server')).toBe('CloudFront');
    expect(refused.body.toString()).toContain('Generated by cloudfront (CloudFront)');
    expect(refused.body.toString()).toContain(`Request ID: ${refused.requestId}`);
    expect(origin.requests).toHaveLength(2);

    origin.next = () => ({ kind: 'timeout' });
    const slow = await get('/y');
    expect(slow.status).toBe(504);
    expect(slow.detailedResultType).toBe('OriginCommError');
    expect(slow.body.toString()).toContain('504 Gateway Timeout ERROR');
    expect(origin.requests.slice(2).map((r) => r.timeoutMs)).toEqual([4000, 4000]);
    // A POST is not retried.
    await get('/z', [], 'POST');
    expect(origin.requests).toHaveLength(5);
  });
});

describe('CloudFront edge: request collapsing', () => {
  test('simultaneous GETs of one key go to the origin once; the others get the stored error', async () => {
    const { origin, get } = setup({ defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } } });
    let release: (o: OriginOutcome) => void = () => undefined;
    origin.next = () => new Promise<OriginOutcome>((r) => (release = r));
    const all = Promise.all([get('/api/orders'), get('/api/orders'), get('/api/orders')]);
    await new Promise((r) => setImmediate(r));
    expect(origin.requests).toHaveLength(1);
    release(alb502());
    const [first, second, third] = await all;
    expect(first.fromCache).toBe(false);
    expect([second.fromCache, third.fromCache]).toEqual([true, true]);
    expect([second.status, third.status]).toEqual([502, 502]);
    expect(origin.requests).toHaveLength(1);
  });

  test('a response that is not stored sends the waiting requests to the origin; CachingDisabled never collapses', async () => {
    const dynamic = setup({ defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } } });
    let release: (o: OriginOutcome) => void = () => undefined;
    dynamic.origin.next = () => new Promise<OriginOutcome>((r) => (release = r));
    const both = Promise.all([dynamic.get('/page'), dynamic.get('/page')]);
    await new Promise((r) => setImmediate(r));
    expect(dynamic.origin.requests).toHaveLength(1);
    dynamic.origin.next = () => ok('second');
    release(ok('first'));
    expect((await both).map((r) => r.body.toString())).toEqual(['first', 'second']);

    const disabled = setup({ defaultCacheBehavior: { cachePolicy: 'CachingDisabled' } });
    disabled.origin.next = () => new Promise<OriginOutcome>((r) => setTimeout(() => r(alb502()), 10));
    await Promise.all([disabled.get('/x'), disabled.get('/x')]);
    expect(disabled.origin.requests).toHaveLength(2);
  });
});

describe('CloudFront edge: toward the origin', () => {
  test('adds X-Amz-Cf-Id, Via and X-Forwarded-For, sets Host and the user agent, strips what CloudFront strips', async () => {
    const { origin, get, ids } = setup({
      cacheBehaviors: [{ pathPattern: '/ua/*', forwardedHeaders: ['User-Agent'] }],
    });
    const r = await get('/a', [
      ['Host', 'shop.example.com'],
      ['User-Agent', 'curl/8.5.0'],
      ['X-Forwarded-For', '203.0.113.9'],
      ['Cookie', 'session=secret'],
      ['X-Amzn-Trace-Id', 'Root=1-5c536348-3d683b8b04734faae651f476'],
      ['Connection', 'keep-alive'],
    ]);
    const sent = headerMap(origin.requests[0]!.request.headers);
    expect(sent.get('host')).toBe('alb.internal:8080');
    expect(sent.get('user-agent')).toBe('Amazon CloudFront');
    expect(sent.get('x-forwarded-for')).toBe('203.0.113.9,198.51.100.7');
    expect(sent.get('via')).toBe(`1.1 ${ids.viaHost} (CloudFront)`);
    expect(sent.get('x-amz-cf-id')).toBe(r.requestId);
    expect(sent.get('x-amzn-trace-id')).toBe('Root=1-5c536348-3d683b8b04734faae651f476');
    expect(sent.has('cookie')).toBe(false);
    expect(sent.has('connection')).toBe(false);

    await get('/ua/x', [['User-Agent', 'curl/8.5.0']]);
    const ua = headerMap(origin.requests[1]!.request.headers);
    expect(ua.get('user-agent')).toBe('curl/8.5.0');
    expect(ua.has('x-forwarded-for')).toBe(true);
  });
});
