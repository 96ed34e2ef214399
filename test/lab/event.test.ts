import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildAlbEvent, checkAlbResponse, queryPairs } from '../../src/lab/alb/convert.js';
import { Router, wildcardToRegExp } from '../../src/lab/alb/rules.js';
import { albTraceHeader } from '../../src/lab/alb/trace.js';
import { handler, scenarioWith, type TestLab, testLab } from './helpers.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/0123456789abcdef';

describe('ALB event building (pure)', () => {
  test('single-value: lowercase headers, last value wins, query not decoded, empty body as text', () => {
    const e = buildAlbEvent({
      method: 'GET',
      url: '/p/a%20b?x=1&x=2&flag&q=a%2Bb',
      rawHeaders: ['Accept', 'a/b', 'X-Dup', '1', 'x-dup', '2'],
      body: Buffer.alloc(0),
      targetGroupArn: TG,
      multiValueHeaders: false,
    });
    expect(e).toEqual({
      requestContext: { elb: { targetGroupArn: TG } },
      httpMethod: 'GET',
      path: '/p/a%20b',
      queryStringParameters: { x: '2', flag: '', q: 'a%2Bb' },
      headers: { accept: 'a/b', 'x-dup': '2' },
      body: '',
      isBase64Encoded: false,
    });
  });

  test('multi-value: every value kept in order', () => {
    const e = buildAlbEvent({
      method: 'GET',
      url: '/?x=1&x=2',
      rawHeaders: ['X-Dup', '1', 'x-dup', '2'],
      body: Buffer.alloc(0),
      targetGroupArn: TG,
      multiValueHeaders: true,
    });
    expect(e.multiValueQueryStringParameters).toEqual({ x: ['1', '2'] });
    expect(e.multiValueHeaders).toEqual({ 'x-dup': ['1', '2'] });
    expect(e.headers).toBeUndefined();
    expect(e.queryStringParameters).toBeUndefined();
  });

  test('no query string gives empty parameter objects', () => {
    const e = buildAlbEvent({
      method: 'GET',
      url: '/',
      rawHeaders: [],
      body: Buffer.alloc(0),
      targetGroupArn: TG,
      multiValueHeaders: false,
    });
    expect(e.queryStringParameters).toEqual({});
    expect(queryPairs(undefined)).toEqual([]);
  });

  test('text bodies pass as is; binary, compressed or untyped bodies are base64', () => {
    const mk = (ct: string | undefined, body: Buffer, ce?: string) =>
      buildAlbEvent({
        method: 'POST',
        url: '/',
        rawHeaders: [...(ct ? ['Content-Type', ct] : []), ...(ce ? ['Content-Encoding', ce] : [])],
        body,
        targetGroupArn: TG,
        multiValueHeaders: false,
      });
    expect(mk('application/json', Buffer.from('{"a":1}'))).toMatchObject({
      body: '{"a":1}',
      isBase64Encoded: false,
    });
    expect(mk('text/plain; charset=utf-8', Buffer.from('héllo'))).toMatchObject({
      body: 'héllo',
      isBase64Encoded: false,
    });
    expect(mk('image/png', Buffer.from([1, 2, 255]))).toMatchObject({ body: 'AQL/', isBase64Encoded: true });
    expect(mk('text/plain', Buffer.from([0xc3, 0x28]))).toMatchObject({ isBase64Encoded: true });
    expect(mk('application/json', Buffer.from('{}'), 'gzip')).toMatchObject({
      body: 'e30=',
      isBase64Encoded: true,
    });
    expect(mk(undefined, Buffer.from('x'))).toMatchObject({ body: 'eA==', isBase64Encoded: true });
  });
});

describe('ALB response validation (pure)', () => {
  test('accepts the documented shape and rejects malformed ones', () => {
    expect(checkAlbResponse({ statusCode: 204 }, false).ok).toBe(true);
    const ok = checkAlbResponse(
      {
        statusCode: 200,
        statusDescription: '200 OK',
        headers: { a: 'b', 'Content-Length': '9' },
        body: 'aGk=',
        isBase64Encoded: true,
      },
      false,
    );
    expect(ok).toMatchObject({
      ok: true,
      response: { statusCode: 200, statusMessage: 'OK', headers: [['a', ['b']]] },
    });
    if (ok.ok) expect(ok.response.body.toString()).toBe('hi');
    for (const bad of [
      null,
      'x',
      [],
      {},
      { statusCode: '200' },
      { statusCode: 99 },
      { statusCode: 200, body: 5 },
      { statusCode: 200, headers: { a: 1 } },
      { statusCode: 200, headers: { 'a b': 'x' } },
      { statusCode: 200, isBase64Encoded: 'yes' },
    ]) {
      expect(checkAlbResponse(bad, false).ok).toBe(false);
    }
    expect(checkAlbResponse({ statusCode: 200, multiValueHeaders: { a: 'x' } }, true).ok).toBe(false);
    const mv = checkAlbResponse(
      { statusCode: 200, multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] } },
      true,
    );
    expect(mv).toMatchObject({ ok: true, response: { headers: [['set-cookie', ['a=1', 'b=2']]] } });
  });
});

describe('listener rules', () => {
  test('wildcards: * any run, ? one character, everything else literal', () => {
    expect(wildcardToRegExp('/api/*').test('/api/orders/1')).toBe(true);
    expect(wildcardToRegExp('/api/*').test('/apix')).toBe(false);
    expect(wildcardToRegExp('/v?/x').test('/v2/x')).toBe(true);
    expect(wildcardToRegExp('/a.b').test('/axb')).toBe(false);
  });

  test('priority order, host (case-insensitive, no port) and method conditions, default rule 0', () => {
    const r = new Router(
      [
        { priority: 20, path: '/api/*', targetGroup: 'api' },
        { priority: 5, path: '/api/admin*', method: ['POST'], targetGroup: 'admin' },
        { priority: 7, host: '*.example.com', targetGroup: 'host' },
      ],
      'web',
    );
    expect(r.route('GET', '/api/admin', 'x')).toEqual({ targetGroup: 'api', priority: 20 });
    expect(r.route('POST', '/api/admin', 'x')).toEqual({ targetGroup: 'admin', priority: 5 });
    expect(r.route('GET', '/', 'Shop.Example.COM:8080')).toEqual({ targetGroup: 'host', priority: 7 });
    expect(r.route('GET', '/', undefined)).toEqual({ targetGroup: 'web', priority: 0 });
  });
});

describe('trace id rules', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const hexNow = Math.floor(now / 1000).toString(16);
  test('no header: a new Root with the time in hex and 24 hex digits', () => {
    expect(albTraceHeader(undefined, now)).toMatch(new RegExp(`^Root=1-${hexNow}-[0-9a-f]{24}$`));
  });
  test('a client Root is kept and a Self is added in front (an old Self replaced)', () => {
    const root = 'Root=1-5c536348-3d683b8b04734faae651f476';
    expect(albTraceHeader(root, now)).toMatch(new RegExp(`^Self=1-${hexNow}-[0-9a-f]{24};${root}$`));
    const v = albTraceHeader(`Self=1-00000000-000000000000000000000000;${root};Sampled=1`, now);
    expect(v).toMatch(new RegExp(`^Self=1-${hexNow}-[0-9a-f]{24};${root};Sampled=1$`));
  });
  test('a header without a valid Root gets a new Root, other fields kept', () => {
    expect(albTraceHeader('Root=garbage;Foo=bar', now)).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Foo=bar$/);
  });
});

describe('ALB event and trace header as a real handler sees them', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await testLab(
      scenarioWith([handler('echo', 'echo.mjs'), handler('mv', 'echo.mjs')], { multiValueHeaders: ['mv'] }),
    );
  });
  afterAll(async () => {
    await lab?.close();
  });

  test('single-value target group', async () => {
    const r = await lab.request({
      path: '/echo/a?x=1&x=2',
      method: 'POST',
      headers: {
        'Content-Type': 'application/octet-stream',
        'X-Amzn-Trace-Id': 'Root=1-5c536348-3d683b8b04734faae651f476',
      },
      body: Buffer.from([0, 1, 2]),
    });
    expect(r.status).toBe(200);
    const e = JSON.parse(r.text);
    const tg = lab.targetGroups.get('echo-tg')!;
    expect(tg.arn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/echo-tg\/[0-9a-f]{16}$/,
    );
    expect(e.requestContext.elb.targetGroupArn).toBe(tg.arn);
    expect(e.httpMethod).toBe('POST');
    expect(e.path).toBe('/echo/a');
    expect(e.queryStringParameters).toEqual({ x: '2' });
    expect(e.body).toBe('AAEC');
    expect(e.isBase64Encoded).toBe(true);
    expect(e.headers['content-type']).toBe('application/octet-stream');
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(e.headers['x-forwarded-proto']).toBe('http');
    expect(e.headers['x-forwarded-port']).toBe(new URL(lab.albUrl).port);
    expect(e.headers['x-amzn-trace-id']).toMatch(
      /^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-5c536348-3d683b8b04734faae651f476$/,
    );
    expect(Object.keys(e.headers).every((k: string) => k === k.toLowerCase())).toBe(true);
  });

  test("the client's X-Forwarded-For extended, its other X-Forwarded-* replaced, UTF-8 values decoded", async () => {
    const r = await lab.get('/echo/h', {
      'X-Forwarded-For': '203.0.113.7',
      'X-Forwarded-Port': '9999',
      'X-Forwarded-Proto': 'https',
      // Node's client sends a string's characters as latin1 bytes: these are café's UTF-8 bytes.
      'X-Name': Buffer.from('café', 'utf8').toString('latin1'),
    });
    expect(r.status).toBe(200);
    const e = JSON.parse(r.text);
    expect(e.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(e.headers['x-forwarded-port']).toBe(new URL(lab.albUrl).port);
    expect(e.headers['x-forwarded-proto']).toBe('http');
    expect(e.headers['x-name']).toBe('café');
    expect(e.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  test('multi-value target group: multi-value event and response headers', async () => {
    const r = await lab.get('/mv?x=1&x=2', { 'x-a': '1' });
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const e = JSON.parse(r.text);
    expect(e.multiValueQueryStringParameters).toEqual({ x: ['1', '2'] });
    expect(e.multiValueHeaders['x-a']).toEqual(['1']);
    expect(e.multiValueHeaders['x-amzn-trace-id'][0]).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(e.headers).toBeUndefined();
  });
});
