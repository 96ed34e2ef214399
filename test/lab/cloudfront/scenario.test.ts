import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../../src/common/errors.js';
import { parseScenario } from '../../../src/lab/scenario.js';

const MINIMAL = `
name: ok
functions: [{ name: a, synthetic: { duration: { kind: fixed, value: 200ms } } }]
loadBalancer: { name: lb, targetGroups: [{ name: tg, function: a }], defaultTargetGroup: tg }
`;

function problemsOf(text: string): string[] {
  try {
    parseScenario(text, { source: 'bad.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('scenario key cloudfront', () => {
  test("an empty mapping gets CloudFront's defaults", () => {
    const s = parseScenario(`${MINIMAL}cloudfront: {}\n`);
    expect(s.cloudfront).toEqual({
      pop: 'IAD89-C1',
      origin: {
        responseTimeout: 30_000,
        keepaliveTimeout: 5_000,
        connectionAttempts: 3,
        connectionTimeout: 10_000,
      },
      defaultCacheBehavior: { cachePolicy: 'CachingOptimized', forwardedHeaders: [] },
      cacheBehaviors: [],
      customErrorResponses: [],
    });
    expect(parseScenario(MINIMAL).cloudfront).toBeUndefined();
  });

  test('a full distribution parses, durations in ms', () => {
    const s = parseScenario(`${MINIMAL}cloudfront:
  id: E2QWRUHAPOMQZL
  domainName: d111111abcdef8.cloudfront.net
  origin: { responseTimeout: 10s, keepaliveTimeout: 60 }
  defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } }
  cacheBehaviors:
    - { pathPattern: /api/*, cachePolicy: CachingDisabled, forwardedHeaders: [Authorization] }
  customErrorResponses:
    - { errorCode: 502, responsePagePath: /errors/502.html, responseCode: 502, errorCachingMinTTL: 10 }
    - { errorCode: 504, errorCachingMinTTL: 0 }
  errorPages: { bucket: shop-error-pages, objects: { errors/502.html: "<html>busy</html>" } }
  logging: { bucket: shop-cf-logs, prefix: cf/ }
`);
    const cf = s.cloudfront!;
    expect(cf.origin.responseTimeout).toBe(10_000);
    expect(cf.defaultCacheBehavior.cachePolicy).toEqual({ minTTL: 0, defaultTTL: 0, maxTTL: 31_536_000_000 });
    expect(cf.customErrorResponses[1]).toEqual({ errorCode: 504, errorCachingMinTTL: 0 });
    expect(cf.logging).toEqual({ bucket: 'shop-cf-logs', prefix: 'cf/', interval: 300_000 });
  });

  test('every problem is listed with its path and what was expected', () => {
    const problems = problemsOf(`${MINIMAL}cloudfront:
  id: X123
  origin: { responseTimeout: 200s, connectionAttempts: 4 }
  defaultCacheBehavior: { cachePolicy: { minTTL: 60, defaultTTL: 10 } }
  cacheBehaviors: [{ pathPattern: /a/*, cachePolicy: Nope }, { pathPattern: /a/* }]
  customErrorResponses:
    - { errorCode: 418, responsePagePath: /e.html }
    - { errorCode: 502, responseCode: 302 }
    - { errorCode: 502, responseCode: 200 }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'cloudfront.id: expected a distribution id (E followed by 12-13 capitals or digits), got "X123"',
        'cloudfront.origin.responseTimeout: expected a response timeout between 1s and 120s',
        'cloudfront.origin.connectionAttempts: expected a number <= 3, got 4',
        'cloudfront.defaultCacheBehavior.cachePolicy.defaultTTL: expected at least minTTL',
        'cloudfront.cacheBehaviors[1].pathPattern: expected a unique pattern, "/a/*" is used twice',
        'cloudfront.customErrorResponses[0].errorCode: expected one of the codes CloudFront customises (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)',
        'cloudfront.customErrorResponses[1].responseCode: expected 200 or one of 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504',
        'cloudfront.customErrorResponses[2].errorCode: expected a unique code, 502 is used twice',
        'cloudfront.customErrorResponses[1].responsePagePath: expected a page path with responseCode (CloudFront needs both)',
        'cloudfront.errorPages: expected the S3 bucket that serves customErrorResponses[0].responsePagePath',
      ]),
    );
    expect(problems.some((p) => p.startsWith('cloudfront.cacheBehaviors[0].cachePolicy'))).toBe(true);
  });

  test('traffic through CloudFront needs a distribution', () => {
    expect(problemsOf(`${MINIMAL}traffic: [{ path: /, rate: 1, via: cloudfront }]\n`)).toEqual([
      'traffic[0].via: expected "alb" when the scenario has no cloudfront section',
    ]);
    expect(parseScenario(`${MINIMAL}traffic: [{ path: /, rate: 1 }]\n`).traffic[0]!.via).toBe('alb');
  });
});
