import { describe, expect, it } from 'vitest';
import {
  classifyOrigin,
  classifyTransportError,
  cloudFrontTrace,
  normaliseHeaders,
} from '../../src/probe/classify.js';
import { ALB_502_BODY } from './servers.js';

function err(code: string, cause?: unknown): Error {
  return Object.assign(new Error(code), { code, cause });
}

describe('classifyTransportError', () => {
  it.each([
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['ECONNREFUSED', 'refused'],
    ['ECONNRESET', 'reset'],
    ['UND_ERR_SOCKET', 'reset'],
    ['EPIPE', 'reset'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['TS_PROBE_TIMEOUT', 'timeout'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
    ['HPE_INVALID_CONSTANT', 'other'],
  ] as const)('%s → %s', (code, cls) => {
    expect(classifyTransportError(err(code))).toBe(cls);
  });

  it('looks through the cause chain (undici wraps the socket error)', () => {
    expect(classifyTransportError(err('UND_ERR_SOCKET', err('ECONNREFUSED')))).toBe('refused');
    expect(classifyTransportError(new Error('x', { cause: err('ENOTFOUND') }))).toBe('dns');
  });

  it('never throws on odd values', () => {
    expect(classifyTransportError(undefined)).toBe('other');
    expect(classifyTransportError('boom')).toBe('other');
    expect(classifyTransportError({ code: 42 })).toBe('other');
  });
});

describe('classifyOrigin', () => {
  it('attributes awselb/2.0 responses to the ALB', () => {
    expect(classifyOrigin(normaliseHeaders({ Server: 'awselb/2.0' }), ALB_502_BODY)).toBe('alb');
  });

  it('attributes CloudFront-generated errors to CloudFront', () => {
    const h = normaliseHeaders({
      Server: 'CloudFront',
      'X-Cache': 'Error from cloudfront',
      'X-Amz-Cf-Id': 'abc==',
      'X-Amz-Cf-Pop': 'FRA56-P1',
    });
    expect(classifyOrigin(h, '<HTML><HEAD>ERROR: The request could not be satisfied')).toBe('cloudfront');
  });

  it('sees the ALB behind CloudFront when its body passes through', () => {
    const h = normaliseHeaders({
      'X-Cache': 'Miss from cloudfront',
      'X-Amz-Cf-Id': 'x',
      Server: 'awselb/2.0',
    });
    expect(classifyOrigin(h, ALB_502_BODY)).toBe('alb');
  });

  it('attributes x-amzn-ErrorType responses to API Gateway', () => {
    const h = normaliseHeaders({ 'x-amzn-ErrorType': 'ThrottlingException', 'x-amzn-RequestId': 'r' });
    expect(classifyOrigin(h, '{"message":"Too Many Requests"}')).toBe('api-gateway');
    expect(classifyOrigin(normaliseHeaders({ 'x-amz-apigw-id': 'a', 'x-amzn-RequestId': 'r' }))).toBe(
      'api-gateway',
    );
  });

  it('attributes x-amzn-RequestId without API Gateway headers to a function URL', () => {
    const h = normaliseHeaders({ 'x-amzn-RequestId': 'r', 'Content-Type': 'application/json' });
    expect(classifyOrigin(h, '{"Message":"Rate Exceeded."}')).toBe('function-url');
  });

  it('falls back to the application', () => {
    expect(classifyOrigin(normaliseHeaders({ Server: 'nginx' }), 'oops')).toBe('application');
    expect(classifyOrigin({}, '')).toBe('application');
  });
});

describe('ALB error page', () => {
  it('recognises the ALB page passed through a proxy, but not nginx', () => {
    expect(classifyOrigin({ server: 'envoy' }, ALB_502_BODY)).toBe('alb');
    const nginx = ALB_502_BODY.replace('</center>\r\n', '</center>\r\n<hr><center>nginx</center>\r\n');
    expect(classifyOrigin({ server: 'nginx' }, nginx)).toBe('application');
  });
});

describe('CloudFront in front', () => {
  it('attributes an origin error passed through CloudFront to the origin, not CloudFront', () => {
    const h = normaliseHeaders({
      'X-Cache': 'Error from cloudfront',
      'X-Amz-Cf-Id': 'x',
      Server: 'gunicorn',
    });
    expect(classifyOrigin(h, 'Internal Server Error')).toBe('application');
  });

  it('attributes a substituted (custom) error page to CloudFront', () => {
    const h = normaliseHeaders({
      'X-Cache': 'Error from cloudfront',
      'X-Amz-Cf-Id': 'x',
      Server: 'AmazonS3',
    });
    expect(classifyOrigin(h, '<html>Sorry</html>')).toBe('cloudfront');
  });
});

describe('cloudFrontTrace', () => {
  const cf = {
    'x-cache': 'Error from cloudfront',
    via: '1.1 abc.cloudfront.net (CloudFront)',
    'x-amz-cf-id': 'x==',
  };
  it('not in the path without any CloudFront marker', () => {
    expect(cloudFrontTrace({ server: 'awselb/2.0' })).toBeUndefined();
  });
  it("the ALB's 502 passed through, fresh or replayed from cache", () => {
    expect(cloudFrontTrace({ ...cf, server: 'awselb/2.0' })).toEqual({
      hop: 'passed-through',
      cached: false,
    });
    expect(cloudFrontTrace({ ...cf, server: 'awselb/2.0', age: '4' })).toEqual({
      hop: 'passed-through',
      cached: true,
    });
  });
  it('a custom error page (from S3, or no Server) and CloudFront-generated pages', () => {
    expect(cloudFrontTrace({ ...cf, server: 'AmazonS3' }, '<html>Sorry</html>')?.hop).toBe(
      'custom-error-page',
    );
    expect(cloudFrontTrace({ 'x-cache': 'Error from cloudfront' }, '<html>Sorry</html>')?.hop).toBe(
      'custom-error-page',
    );
    expect(cloudFrontTrace({ ...cf, server: 'CloudFront' })?.hop).toBe('generated');
    expect(
      cloudFrontTrace({ 'x-amz-cf-id': 'x==' }, '<PRE>\nGenerated by cloudfront (CloudFront)\n')?.hop,
    ).toBe('generated');
  });
  it('an application error with its own Server header passed through', () => {
    expect(cloudFrontTrace({ ...cf, server: 'nginx' })?.hop).toBe('passed-through');
  });
});
