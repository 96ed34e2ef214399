import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runProbe } from '../../src/probe/runner.js';
import { fixed, scenarioWith, type TestLab, testLab } from '../lab/helpers.js';

const PAGE = '<!doctype html><title>Shop</title><p>Sorry, something went wrong.</p>';

/** `busy` is throttled on every call: the ALB answers 502 LambdaThrottling. Lab time runs 10x. */
function scenario(customPage: boolean) {
  return scenarioWith([fixed('ok', 10), fixed('busy', 10, { reservedConcurrency: 0 })], {
    timeScale: 10,
    cloudfront: customPage
      ? {
          defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } },
          customErrorResponses: [{ errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502 }],
          errorPages: { bucket: 'shop-error-pages', objects: { 'errors/502.html': PAGE } },
        }
      : { defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } } },
  });
}

describe('probe hop attribution through the lab CloudFront edge', () => {
  let plain: TestLab;
  let masked: TestLab;
  beforeAll(async () => {
    plain = await testLab(scenario(false));
    masked = await testLab(scenario(true));
  });
  afterAll(async () => {
    await plain?.close();
    await masked?.close();
  });

  test("an origin 502 passed through is the ALB's, via CloudFront; replays of the cached error are counted per URL", async () => {
    const albBefore = plain.snapshot().alb.requests;
    // 40 requests in about 2 s of wall time = 20 s of lab time: two error-caching periods of 10 s.
    const { summary } = await runProbe({
      urls: [`${plain.cloudfront!.url}/busy`, `${plain.cloudfront!.url}/ok`],
      rate: 20,
      count: 40,
      durationMs: 20_000,
    });
    const busy = summary.urls[0]!;
    expect(busy.failed).toBe(40);
    expect(busy.byOrigin.alb).toBe(40);
    expect(busy.byCloudFront).toEqual({ 'passed-through': 40, 'custom-error-page': 0, generated: 0 });
    const albAsked = plain.snapshot().alb.requests - albBefore - 40; // the /ok requests are never cached here
    expect(busy.cachedErrors).toBe(40 - albAsked);
    expect(busy.cachedErrors).toBeGreaterThan(30);
    expect(summary.urls[1]!.cachedErrors).toBe(0);
    expect(summary.cachedErrors).toBe(busy.cachedErrors);
    expect(summary.findings.join('\n')).toMatch(
      /40 failure\(s\) were the origin's own error passed through CloudFront/,
    );
    expect(summary.findings.join('\n')).toMatch(
      new RegExp(`${busy.cachedErrors} of 40 failure\\(s\\) were replays of a cached error`),
    );
  });

  test('a custom error page is CloudFront hiding the origin: the summary says so and says to probe the ALB directly', async () => {
    const through = await runProbe({
      urls: [`${masked.cloudfront!.url}/busy`],
      rate: 20,
      count: 10,
      durationMs: 20_000,
    });
    expect(through.summary.byOrigin.cloudfront).toBe(10);
    expect(through.summary.byOrigin.alb).toBe(0);
    expect(through.summary.byCloudFront['custom-error-page']).toBe(10);
    const findings = through.summary.findings.join('\n');
    expect(findings).toMatch(/CloudFront's custom error page: CloudFront hides the origin's answer/);
    expect(findings).toMatch(/probe the origin \(the ALB\) directly/);

    const direct = await runProbe({
      urls: [`${masked.albUrl}/busy`],
      rate: 20,
      count: 10,
      durationMs: 20_000,
    });
    expect(direct.summary.byOrigin.alb).toBe(10);
    expect(direct.summary.byCloudFront).toEqual({
      'passed-through': 0,
      'custom-error-page': 0,
      generated: 0,
    });
    expect(direct.summary.cachedErrors).toBe(0);
  });
});
