import { formatAlbLine } from '../../src/logs/format-line.js';
import { albRecord } from '../../src/logs/record.js';
import { albLogKey } from '../../src/logs/s3-key.js';

export const TG_API = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/73e2d6bc24d8a067';
export const TG_WEB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0a1b2c3d4e5f6789';

/** The key AWS gives the `shop` load balancer's log file delivered at `endMs` (eu-west-1). */
export function shopLogKey(prefix: string, endMs: number, random: string): string {
  return albLogKey({
    prefix,
    accountId: '123456789012',
    region: 'eu-west-1',
    loadBalancerName: 'shop',
    loadBalancerId: '50dc6c495c0c9188',
    endMs,
    nodeIp: '10.0.1.17',
    random,
  });
}

/** One realistic Lambda-target entry at `ms`; throttled entries look as the ALB writes them. */
export function lambdaLine(
  ms: number,
  opts: {
    path?: string;
    tg?: string;
    reason?: string | null;
    status?: number;
    ua?: string;
    trace?: string;
  } = {},
): string {
  const failed = opts.reason !== undefined && opts.reason !== null;
  const status = opts.status ?? (failed ? 502 : 200);
  const iso = (t: number) => new Date(t).toISOString().replace('Z', '123Z');
  return formatAlbLine(
    albRecord({
      type: 'https',
      time: iso(ms),
      elb: 'app/shop/50dc6c495c0c9188',
      client: '203.0.113.7',
      clientPort: 40000 + (ms % 20000),
      requestProcessingTime: 0,
      targetProcessingTime: failed ? null : 0.012,
      responseProcessingTime: failed ? null : 0,
      elbStatusCode: status,
      targetStatusCode: failed ? null : status,
      receivedBytes: 310,
      sentBytes: failed ? 277 : 1024,
      request: `GET https://shop.example.com:443${opts.path ?? '/api/cart'} HTTP/1.1`,
      userAgent: opts.ua ?? 'curl/8.5.0',
      sslCipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      sslProtocol: 'TLSv1.2',
      targetGroupArn: opts.tg ?? TG_API,
      traceId:
        opts.trace ??
        `Root=1-${Math.floor(ms / 1000).toString(16)}-${(ms % 1e12).toString(16).padStart(24, '0')}`,
      domainName: 'shop.example.com',
      matchedRulePriority: 1,
      requestCreationTime: iso(ms - 12),
      actionsExecuted: 'forward',
      errorReason: opts.reason ?? null,
      connTraceId: 'TID_0123456789abcdef0123456789abcdef',
    }),
  );
}

// Entries from the AWS documentation's examples (access-log-entry-examples), joined onto one line.
export const DOC_LAMBDA_OK =
  'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-"';
export const DOC_LAMBDA_FAILED =
  'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"';
export const DOC_HTTPS =
  'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-"';
// The current layout: a throttled Lambda invoke (no target, -1 times), with conn_trace_id and transform fields.
export const THROTTLED_NEW =
  'https 2026-11-24T10:15:02.512003Z app/shop/50dc6c495c0c9188 2001:db8::7:51234 - 0.001 -1 -1 502 - 310 277 "GET https://shop.example.com:443/api/cart?id=7 HTTP/1.1" "Mozilla/5.0 \\"quoted\\" ua" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/cart/73e2d6bc24d8a067 "Root=1-6742fd26-0123456789abcdef01234567" "shop.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 3 2026-11-24T10:15:02.510112Z "forward" "-" "LambdaThrottling" "-" "-" "-" "-" TID_0123456789abcdef0123456789abcdef "-" "-" "-"';
/**
 * The documented HTTPS example as an authenticate action writes it when the action fails: no
 * target (`-`), `-1` times, no target group, and `matched_rule_priority` `-1` ("If an error occurs
 * during rules evaluation, it is set to -1": ALB-LOGS field table, aws-facts.md §1.2 row 21). Load
 * balancers write these for OIDC callbacks without the nonce cookie (AuthMissingAWSALBAuthNonce)
 * or with a wrong one (AuthInvalidAWSALBAuthNonce), as 401.
 */
export function docAuthFailure(reason: string, status = 401, type = 'h2'): string {
  return `${type} 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 ${status} - 4956 616 "GET https://example.com:443/oauth2/idpresponse?code=XXXXX HTTP/2.0" "curl/7.46.0" TLS_AES_128_GCM_SHA256 TLSv1.3 - "Root=1-58337281-1d84f3d73c47ec4e58577259" "example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" -1 2018-07-02T22:22:48.364000Z "authenticate" "-" "${reason}" "-" "-" "-" "-"`;
}
export const DOC_AUTH_NONCE_MISSING = docAuthFailure('AuthMissingAWSALBAuthNonce');
export const DOC_AUTH_NONCE_INVALID = docAuthFailure('AuthInvalidAWSALBAuthNonce');
/** An authentication error the ELBAuthError metric counts: a 500 with priority -1. */
export const DOC_AUTH_TOKEN_TIMEOUT = docAuthFailure('AuthTokenEpRequestTimeout', 500, 'https');
