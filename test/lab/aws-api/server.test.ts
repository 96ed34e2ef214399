import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsRequest } from '../../../src/lab/aws-api/http.js';
import { parseFunctionName } from '../../../src/lab/aws-api/lambda.js';
import { parseRange } from '../../../src/lab/aws-api/s3.js';
import { type AwsEndpoint, routeService, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { createMemoryBackend, type MemoryBackend } from '../../helpers/memory-backend.js';

function req(over: Partial<AwsRequest> & { auth?: string }): AwsRequest {
  const headers: AwsRequest['headers'] = { ...(over.headers ?? {}) };
  if (over.auth) {
    headers.authorization = `AWS4-HMAC-SHA256 Credential=x/20240501/eu-west-1/${over.auth}/aws4_request, SignedHeaders=host, Signature=abc`;
  }
  return {
    method: 'GET',
    rawPath: '/',
    query: new URLSearchParams(),
    body: Buffer.alloc(0),
    hostname: '127.0.0.1',
    requestId: 'r',
    ...over,
    headers,
  };
}

describe('routing', () => {
  it('routes by the SigV4 credential scope first', () => {
    expect(routeService(req({ rawPath: '/2015-03-31/functions/', auth: 'lambda' }))).toBe('lambda');
    // A bucket whose name looks like a Lambda API version is still S3 when the scope says so.
    expect(routeService(req({ rawPath: '/2015-03-31/functions/', auth: 's3' }))).toBe('s3');
    expect(routeService(req({ method: 'POST', auth: 'monitoring' }))).toBe('cloudwatch');
  });

  it('falls back to the request shape without credentials', () => {
    expect(routeService(req({ rawPath: '/2016-08-19/account-settings/' }))).toBe('lambda');
    expect(routeService(req({ rawPath: '/bucket/key' }))).toBe('s3');
    expect(routeService(req({ rawPath: '/' }))).toBe('s3');
    expect(
      routeService(
        req({ method: 'POST', headers: { 'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics' } }),
      ),
    ).toBe('cloudwatch');
    expect(
      routeService(
        req({
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: Buffer.from('Action=ListMetrics&Version=2010-08-01'),
        }),
      ),
    ).toBe('cloudwatch');
    expect(
      routeService(
        req({
          rawPath: '/b/k',
          query: new URLSearchParams('X-Amz-Credential=x/20240501/eu-west-1/s3/aws4_request'),
        }),
      ),
    ).toBe('s3');
  });
});

describe('helpers', () => {
  it('parses function names, partial and full ARNs', () => {
    expect(parseFunctionName('api')).toEqual({ name: 'api', qualifier: undefined });
    expect(parseFunctionName('api:$LATEST')).toEqual({ name: 'api', qualifier: '$LATEST' });
    expect(parseFunctionName('123456789012:function:api')).toEqual({ name: 'api', qualifier: undefined });
    expect(parseFunctionName('arn:aws:lambda:eu-west-1:123456789012:function:api:prod')).toEqual({
      name: 'api',
      qualifier: 'prod',
    });
  });

  it('resolves byte ranges as S3 does', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-4', 10)).toEqual({ start: 6, end: 9 });
    expect(parseRange('bytes=-40', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBe('invalid');
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined();
  });
});

describe('startAwsEndpoint', () => {
  let backend: MemoryBackend;
  let endpoint: AwsEndpoint;
  beforeAll(async () => {
    backend = createMemoryBackend();
    backend.addFunction('api');
    endpoint = await startAwsEndpoint(backend, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await endpoint.close();
  });

  it('binds loopback on an ephemeral port', () => {
    expect(endpoint.port).toBeGreaterThan(0);
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}`);
  });

  it('refuses a port already in use', async () => {
    await expect(startAwsEndpoint(backend, { port: endpoint.port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('answers a too-large Lambda payload with 413 RequestTooLargeException', async () => {
    const res = await fetch(`${endpoint.url}/2015-03-31/functions/api/invocations`, {
      method: 'POST',
      body: Buffer.alloc(6 * 1024 * 1024 + 1, 0x20),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
  });

  it('closes even with an idle keep-alive connection open', async () => {
    const other = await startAwsEndpoint(backend, {});
    const url = new URL(other.url);
    await new Promise<void>((resolve, reject) => {
      const r = request(
        { host: url.hostname, port: url.port, path: '/', headers: { connection: 'keep-alive' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      r.on('error', reject);
      r.end();
    });
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await other.close();
  });
});
