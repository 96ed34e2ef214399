/**
 * What the ALB answers itself when it cannot give the client the function's response: the status
 * and `error_reason` for each Lambda failure the lab can produce, and the load balancer's HTML
 * error page with `Server: awselb/2.0`.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#error-reason-codes
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html
 */
export const AlbLambdaError = {
  /** The function was throttled (account pool, its reservation, or the scaling rate). */
  throttled: { status: 502, reason: 'LambdaThrottling' },
  /** The function threw, timed out, ran out of memory or its runtime exited. */
  unhandled: { status: 502, reason: 'LambdaUnhandled' },
  /** The function's response is malformed or misses required fields. */
  invalidResponse: { status: 502, reason: 'LambdaInvalidResponse' },
  /** The response JSON exceeded 1 MB. */
  responseTooLarge: { status: 502, reason: 'LambdaResponseTooLarge' },
  /** The request body exceeded 1 MB. */
  requestTooLarge: { status: 413, reason: 'LambdaRequestTooLarge' },
  /** The registered function does not exist. */
  resourceNotFound: { status: 502, reason: 'LambdaResourceNotFound' },
  /** Request headers that are not UTF-8. */
  badRequest: { status: 400, reason: 'LambdaBadRequest' },
} as const;
export type AlbLambdaErrorKind = keyof typeof AlbLambdaError;

const STATUS_LINE: Record<number, string> = {
  400: '400 Bad Request',
  413: '413 Request Entity Too Large',
  460: '460',
  500: '500 Internal Server Error',
  502: '502 Bad Gateway',
  503: '503 Service Temporarily Unavailable',
  504: '504 Gateway Time-out',
};

/** The load balancer's error page, byte for byte. */
export function albErrorPage(status: number): string {
  const title = STATUS_LINE[status] ?? String(status);
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

export const ALB_SERVER_HEADER = 'awselb/2.0';
