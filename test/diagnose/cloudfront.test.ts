/** CloudFront findings from constructed evidence: viewer and ALB 5xx joined by minute, config read as documented. */
import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import { describe, expect, it } from 'vitest';
import {
  CACHING_DISABLED_POLICY_ID,
  type CloudFrontConfigEvidence,
  type CloudFrontEvidence,
  cloudFrontFindings,
  cloudFrontGaps,
  edgeMinutes,
  errorCachingFix,
  errorCachingTtl,
  withViewerFailures,
} from '../../src/diagnose/cloudfront.js';
import { configEvidenceFrom } from '../../src/diagnose/gather-cloudfront.js';
import { diagnose } from '../../src/diagnose/rules.js';
import { LogAggregator, type LogSummary } from '../../src/logs/aggregate.js';
import { parseCloudFrontLine } from '../../src/logs/cloudfront/index.js';
import { CloudFrontAggregator, type CloudFrontSummary } from '../../src/logs/cloudfront/summary.js';
import { parseAlbLine } from '../../src/logs/parse-line.js';
import { lambdaLine } from '../helpers/alb-lines.js';
import { cloudFrontLine } from '../helpers/cloudfront-lines.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');

/** The ALB answered `throttled` 502 LambdaThrottling per minute (and 20 200s). */
function albSummary(throttledPerMinute: number[]): LogSummary {
  const agg = new LogAggregator();
  throttledPerMinute.forEach((n, m) => {
    for (let i = 0; i < 20; i++) agg.add(parseAlbLine(lambdaLine(T0 + m * 60_000 + i * 100)));
    for (let i = 0; i < n; i++)
      agg.add(
        parseAlbLine(
          lambdaLine(T0 + m * 60_000 + 5_000 + i, { reason: 'LambdaThrottling', path: '/api/cart' }),
        ),
      );
  });
  return agg.summary({ lines: 0, malformed: 0, files: 1 });
}

/** Viewers got `origin` 502s (Error) and `own` 504s (OriginCommError) per minute, and 30 200s. */
function viewerSummary(perMinute: { origin: number; own?: number }[], status = 502): CloudFrontSummary {
  const agg = new CloudFrontAggregator();
  perMinute.forEach((m, k) => {
    const at = T0 + k * 60_000;
    for (let i = 0; i < 30; i++) agg.add(parseCloudFrontLine(cloudFrontLine(at + i * 100)));
    for (let i = 0; i < m.origin; i++)
      agg.add(parseCloudFrontLine(cloudFrontLine(at + 5_000 + i * 10, { status })));
    for (let i = 0; i < (m.own ?? 0); i++)
      agg.add(
        parseCloudFrontLine(cloudFrontLine(at + 9_000 + i, { status: 504, detail: 'OriginCommError' })),
      );
  });
  return agg.summary({ lines: 0, malformed: 0, files: 1 });
}

const defaults = (over: Partial<CloudFrontConfigEvidence> = {}): CloudFrontConfigEvidence => ({
  distributionId: 'E2QWRUHAPOMQZL',
  customErrorResponses: [],
  behaviors: [{ pathPattern: '*', cachePolicyId: null, cachingDisabled: false }],
  ...over,
});

describe('edgeMinutes', () => {
  it('joins viewer 5xx and ALB 5xx by minute; replays are the origin errors the ALB did not answer', () => {
    const cf: CloudFrontEvidence = {
      logs: viewerSummary([{ origin: 38, own: 2 }, { origin: 0 }, { origin: 3 }]),
    };
    const minutes = edgeMinutes(cf, albSummary([4, 1, 3]));
    expect(minutes).toEqual([
      { minuteMs: T0, viewer5xx: 40, viewerOrigin5xx: 38, alb5xx: 4, replayed: 34 },
      { minuteMs: T0 + 60_000, viewer5xx: 0, viewerOrigin5xx: 0, alb5xx: 1, replayed: 0 },
      { minuteMs: T0 + 120_000, viewer5xx: 3, viewerOrigin5xx: 3, alb5xx: 3, replayed: 0 },
    ]);
  });

  it('reads the viewer side from AWS/CloudFront metrics (Requests x 5xxErrorRate) without logs', () => {
    const cf: CloudFrontEvidence = {
      metrics: {
        distributionId: 'E2QWRUHAPOMQZL',
        periodSec: 60,
        requests: { timestampsMs: [T0, T0 + 60_000], values: [200, 100] },
        errorRate5xx: { timestampsMs: [T0, T0 + 60_000], values: [25, 0] },
      },
    };
    expect(edgeMinutes(cf, albSummary([10]))).toEqual([
      { minuteMs: T0, viewer5xx: 50, viewerOrigin5xx: 50, alb5xx: 10, replayed: 40 },
    ]);
  });
});

describe('cloudfront-error-caching', () => {
  const cf = (config?: CloudFrontConfigEvidence): CloudFrontEvidence => ({
    logs: viewerSummary([{ origin: 38, own: 2 }, { origin: 12 }]),
    config,
  });

  it('says how many viewer 5xx were replays, with the TTL and what the ALB answered, and the fix as IaC', () => {
    const [f] = cloudFrontFindings(cf(defaults()), albSummary([4, 2]));
    expect(f?.code).toBe('cloudfront-error-caching');
    expect(f?.title).toBe(
      '44 of 52 viewer 5xx were cached replays of an origin error (ErrorCachingMinTTL 10 s); the ALB answered 6',
    );
    expect(f?.confidence).toBe(0.9);
    expect(f?.evidence.map((e) => e.text).join('\n')).toContain(
      "distribution E2QWRUHAPOMQZL: 502 is cached for 10 s (AWS's default ErrorCachingMinTTL)",
    );
    expect(f?.evidence.find((e) => e.timeMs === T0)?.text).toBe(
      '10:00 UTC: viewers got 40 5xx while the ALB answered 4: 34 replayed from the edge cache',
    );
    expect(f?.fix?.cloudformation).toContain('  - ErrorCode: 502\n    ErrorCachingMinTTL: 0');
    expect(f?.fix?.cloudformation).toContain(
      `CachePolicyId: ${CACHING_DISABLED_POLICY_ID} # Managed-CachingDisabled`,
    );
    expect(f?.fix?.cloudformation).toContain('PathPattern: "/api/*"');
    expect(f?.fix?.terraform).toContain('error_code            = 502\n  error_caching_min_ttl = 0');
    expect(f?.fix?.terraform).toContain(`cache_policy_id = "${CACHING_DISABLED_POLICY_ID}"`);
  });

  it('uses the configured ErrorCachingMinTTL and keeps an existing custom page in the fix', () => {
    const config = defaults({
      customErrorResponses: [
        { errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502, errorCachingMinTtl: 30 },
      ],
    });
    const [f] = cloudFrontFindings(cf(config), albSummary([4, 2]));
    expect(f?.title).toContain('(ErrorCachingMinTTL 30 s)');
    expect(f?.fix?.cloudformation).toContain('ResponsePagePath: "/errors/502.html"');
    expect(f?.fix?.terraform).toContain('response_page_path    = "/errors/502.html"');
  });

  it('is not raised when the distribution caches none of these errors', () => {
    const ttl0 = defaults({
      customErrorResponses: [502, 504].map((errorCode) => ({
        errorCode,
        responsePagePath: null,
        responseCode: null,
        errorCachingMinTtl: 0,
      })),
    });
    expect(cloudFrontFindings(cf(ttl0), albSummary([4, 2]))).toEqual([]);
    const disabled = defaults({
      behaviors: [{ pathPattern: '*', cachePolicyId: CACHING_DISABLED_POLICY_ID, cachingDisabled: true }],
    });
    expect(cloudFrontFindings(cf(disabled), albSummary([4, 2]))).toEqual([]);
  });

  it('joins with the ALB 5xx that came through CloudFront when the logs tell them (user agent Amazon CloudFront)', () => {
    // The ALB also answered clients that reach it directly: 38 and 12 5xx, of which 4 and 2 via CloudFront.
    const evidence = {
      ...cf(defaults()),
      alb5xxViaCloudFront: new Map([
        [T0, 4],
        [T0 + 60_000, 2],
      ]),
    };
    const [f] = cloudFrontFindings(evidence, albSummary([38, 12]));
    expect(f?.title).toBe(
      '44 of 52 viewer 5xx were cached replays of an origin error (ErrorCachingMinTTL 10 s); the ALB answered 6',
    );
    expect(f?.evidence[1]?.text).toContain(
      'to requests that came through CloudFront (user agent Amazon CloudFront)',
    );
    // No entry through CloudFront (the viewer's user agent forwarded): every ALB 5xx is the origin side.
    expect(
      cloudFrontFindings({ ...cf(defaults()), alb5xxViaCloudFront: new Map() }, albSummary([38, 12])),
    ).toEqual([]);
  });

  it('is not raised when the ALB answered every origin error the viewers got', () => {
    expect(cloudFrontFindings(cf(defaults()), albSummary([38, 12]))).toEqual([]);
  });

  it('without the config, assumes the documented default at lower confidence and says so', () => {
    const [f] = cloudFrontFindings(cf(), albSummary([4, 2]));
    expect(f?.confidence).toBe(0.7);
    expect(f?.evidence.at(-1)?.text).toContain(
      "the distribution's configuration was not read (--distribution ID)",
    );
    expect(cloudFrontGaps(cf(), albSummary([4, 2]))).toEqual([
      'CloudFront configuration not read (--distribution ID): error caching TTLs and custom error pages assumed AWS defaults',
    ]);
  });

  it('without ALB logs there is nothing to compare: a gap, not a finding', () => {
    expect(cloudFrontFindings(cf(defaults()), undefined)).toEqual([]);
    expect(cloudFrontGaps(cf(defaults()), undefined)[0]).toContain('CloudFront error caching not measured');
  });

  it('a failing path at the root is the default behaviour in the fix; the custom error pages are never a target', () => {
    const agg = new LogAggregator();
    for (const path of ['/', '/api/orders'])
      agg.add(parseAlbLine(lambdaLine(T0 + 5_000, { reason: 'LambdaThrottling', path })));
    const alb = agg.summary({ lines: 0, malformed: 0, files: 1 });
    const config = defaults({
      customErrorResponses: [
        { errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502, errorCachingMinTtl: null },
      ],
      behaviors: [
        { pathPattern: '/errors/*', cachePolicyId: null, cachingDisabled: false },
        { pathPattern: '*', cachePolicyId: null, cachingDisabled: false },
      ],
    });
    const [f] = cloudFrontFindings({ logs: viewerSummary([{ origin: 20 }]), config }, alb);
    expect(f?.fix?.cloudformation).toContain('PathPattern: "/api/*"');
    expect(f?.fix?.cloudformation).toContain(
      `DefaultCacheBehavior:\n  CachePolicyId: ${CACHING_DISABLED_POLICY_ID}`,
    );
    expect(f?.fix?.terraform).toContain('default_cache_behavior {');
    expect(f?.fix?.cloudformation).not.toContain('/errors/*');
    expect(f?.fix?.summary).toContain('(the default behaviour, /api/*)');
  });

  it('the snippets quote path patterns, so a hostile path cannot break them', () => {
    const fix = errorCachingFix([502], ['/x"\n  evil: 1'], undefined);
    expect(fix.cloudformation).toContain('PathPattern: "/x\\"\\n  evil: 1"');
    expect(fix.terraform).not.toMatch(/\n {2}evil/);
  });
});

describe('cloudfront-masked-origin', () => {
  it('viewers got the custom page while the ALB answered 502 LambdaThrottling', () => {
    const config = defaults({
      customErrorResponses: [
        { errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502, errorCachingMinTtl: null },
      ],
    });
    const findings = cloudFrontFindings({ logs: viewerSummary([{ origin: 5 }]), config }, albSummary([5]));
    expect(findings.map((f) => f.code)).toEqual(['cloudfront-masked-origin']);
    expect(findings[0]?.title).toBe(
      'viewers saw the custom error page /errors/502.html (status 502) while the origin answered 502 LambdaThrottling (5 in the ALB logs)',
    );
    expect(findings[0]?.evidence.at(-1)?.text).toContain('probe the ALB directly');
  });

  it('a page served as 200 hides the failures from the status too, and is said so', () => {
    const config = defaults({
      customErrorResponses: [
        { errorCode: 502, responsePagePath: '/sorry.html', responseCode: 200, errorCachingMinTtl: 0 },
      ],
    });
    const [f] = cloudFrontFindings({ logs: viewerSummary([{ origin: 0 }]), config }, albSummary([5]));
    expect(f?.title).toContain('custom error page /sorry.html (status 200)');
    expect(f?.evidence.map((e) => e.text)).toContain(
      "viewers got the page with status 200: the origin's failures do not even show as errors in the viewers' status codes",
    );
  });

  it('needs a custom page for 502 in the config', () => {
    expect(
      cloudFrontFindings({ logs: viewerSummary([{ origin: 5 }]), config: defaults() }, albSummary([5])),
    ).toEqual([]);
  });
});

describe('errorCachingTtl', () => {
  it('follows the documented defaults: 10 s for 404, 414, 500-504; other codes not cached', () => {
    const c = defaults();
    expect([404, 414, 500, 501, 502, 503, 504, 403, 400].map((s) => errorCachingTtl(c, s))).toEqual([
      10, 10, 10, 10, 10, 10, 10, 0, 0,
    ]);
    expect(errorCachingTtl(undefined, 502)).toBeUndefined();
  });
});

describe('withViewerFailures', () => {
  // The verdict the rules give evidence with no failures, as the diagnosis hands it on.
  const healthy = diagnose({ window: { startMs: 0, endMs: 60_000 }, gaps: [] });
  it('never reads healthy while viewers got 5xx: unexplained, with what the viewers got', () => {
    expect(healthy.rootCause).toBe('healthy');
    const d = withViewerFailures(healthy, { logs: viewerSummary([{ origin: 7, own: 3 }]) }, undefined);
    expect(d.rootCause).toBe('unexplained');
    expect(d.headline).toBe('unexplained: 10 5xx CloudFront sent to viewers match no known cause');
    expect(d.confidence).toBe(0.5);
    expect(d.findings.at(-1)?.evidence.map((e) => e.text)).toEqual([
      'CloudFront logs: 10 5xx sent to viewers, by x-edge-detailed-result-type: Error x7, OriginCommError x3',
      '3 of them CloudFront made itself (it could not reach, or read in time, the origin, or refused the request): probe the origin directly',
      'no ALB access logs: whether the origin answered these 5xx, and why, is unknown (--logs)',
    ]);
    expect(withViewerFailures(healthy, { logs: viewerSummary([{ origin: 0 }]) }, undefined)).toBe(healthy);
  });
});

describe('configEvidenceFrom (GetDistributionConfig)', () => {
  it('reads custom error responses (ResponseCode is a string in the API) and cache behaviours', () => {
    const config = {
      CallerReference: 'x',
      Comment: '',
      Enabled: true,
      Origins: { Quantity: 0, Items: [] },
      DefaultCacheBehavior: {
        TargetOriginId: 'alb',
        ViewerProtocolPolicy: 'redirect-to-https',
        CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
      },
      CacheBehaviors: {
        Quantity: 2,
        Items: [
          {
            PathPattern: '/api/*',
            TargetOriginId: 'alb',
            ViewerProtocolPolicy: 'https-only',
            CachePolicyId: CACHING_DISABLED_POLICY_ID,
          },
          {
            PathPattern: '/legacy/*',
            TargetOriginId: 'alb',
            ViewerProtocolPolicy: 'https-only',
            MinTTL: 0,
            DefaultTTL: 0,
            MaxTTL: 0,
          },
        ],
      },
      CustomErrorResponses: {
        Quantity: 2,
        Items: [
          {
            ErrorCode: 502,
            ResponsePagePath: '/errors/502.html',
            ResponseCode: '502',
            ErrorCachingMinTTL: 10,
          },
          { ErrorCode: 504, ErrorCachingMinTTL: 0 },
        ],
      },
    } as unknown as DistributionConfig;
    expect(configEvidenceFrom('E2QWRUHAPOMQZL', config)).toEqual({
      distributionId: 'E2QWRUHAPOMQZL',
      customErrorResponses: [
        { errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502, errorCachingMinTtl: 10 },
        { errorCode: 504, responsePagePath: null, responseCode: null, errorCachingMinTtl: 0 },
      ],
      behaviors: [
        { pathPattern: '/api/*', cachePolicyId: CACHING_DISABLED_POLICY_ID, cachingDisabled: true },
        { pathPattern: '/legacy/*', cachePolicyId: null, cachingDisabled: true },
        { pathPattern: '*', cachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6', cachingDisabled: false },
      ],
    });
  });
});
