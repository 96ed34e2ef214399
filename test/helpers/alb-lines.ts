import { formatAlbLine } from '../../src/logs/format-line.js';
import { albRecord } from '../../src/logs/record.js';

export const TG_API = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/73e2d6bc24d8a067';
export const TG_WEB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0a1b2c3d4e5f6789';

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
