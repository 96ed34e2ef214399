import {
  cloudFrontDateTime,
  cloudFrontRecord,
  formatCloudFrontLine,
} from '../../src/logs/cloudfront/index.js';

/**
 * A CloudFront standard-log line (33 fields) for one viewer request at `ms`, shaped as AWS's
 * examples are: an origin error passed on (or replayed from cache) is `Error`/`Error`/`Error`;
 * give `detail` (e.g. OriginCommError) for an error CloudFront generated itself.
 */
export function cloudFrontLine(
  ms: number,
  opts: { status?: number; result?: string; detail?: string; edge?: string; path?: string; ua?: string } = {},
): string {
  const status = opts.status ?? 200;
  const result = opts.result ?? (status >= 400 ? 'Error' : 'Miss');
  const { date, time } = cloudFrontDateTime(ms);
  return formatCloudFrontLine(
    cloudFrontRecord({
      date,
      time,
      edgeLocation: opts.edge ?? 'FRA56-P4',
      scBytes: status >= 400 ? 915 : 1033,
      clientIp: '198.51.100.23',
      method: 'GET',
      host: 'd111111abcdef8.cloudfront.net',
      uriStem: opts.path ?? '/api/cart',
      status,
      userAgent: opts.ua ?? 'Mozilla/5.0 (X11; Linux x86_64)',
      resultType: result,
      requestId: `req${ms.toString(36)}==`,
      hostHeader: 'shop.example.com',
      protocol: 'https',
      csBytes: 310,
      timeTaken: 0.021,
      sslProtocol: 'TLSv1.3',
      sslCipher: 'TLS_AES_128_GCM_SHA256',
      responseResultType: result,
      protocolVersion: 'HTTP/2.0',
      clientPort: 40000 + (ms % 20000),
      timeToFirstByte: 0.02,
      detailedResultType: opts.detail ?? result,
      contentType: 'text/html',
      contentLength: status >= 400 ? 612 : 800,
    }),
  );
}
