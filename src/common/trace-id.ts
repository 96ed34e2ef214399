import { randomBytes } from 'node:crypto';

/**
 * X-Amzn-Trace-Id, as the ALB reads, creates and logs it.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html
 * Root=1-<8 hex digits: epoch seconds>-<24 hex digits>
 */
export const TRACE_HEADER = 'x-amzn-trace-id';

const ROOT = /(?:^|;)\s*Root=(1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24})\s*(?:;|$)/;

export function newTraceRoot(nowMs: number = Date.now(), random: Buffer = randomBytes(12)): string {
  const seconds = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0');
  return `1-${seconds}-${random.toString('hex')}`;
}

/** The Root of a trace header value, or undefined when there is none (or it is malformed). */
export function traceRootOf(headerValue: string | undefined): string | undefined {
  if (!headerValue) return undefined;
  return ROOT.exec(headerValue)?.[1];
}
