import { newTraceRoot, traceRootOf } from '../../common/trace-id.js';
import { randomChunk, randomHex } from '../random.js';

/**
 * The X-Amzn-Trace-Id value the ALB forwards (and logs as trace_id), from the client's value.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-request-tracing.html
 * - absent: `Root=<new id>`;
 * - with a valid Root: kept, and a `Self=<new id>` field is added in front (an existing Self is
 *   replaced); other fields are kept in order;
 * - present without a valid Root: a new Root is put in front of the client's other fields (a
 *   malformed Root is dropped).
 */
export function albTraceHeader(client: string | undefined, nowMs: number): string {
  if (client === undefined || client.trim() === '') {
    // The common case, once per request: newTraceRoot's format with the epoch seconds cached.
    const second = Math.floor(nowMs / 1000);
    if (second !== cachedSecond) {
      cachedSecond = second;
      cachedPrefix = `Root=1-${second.toString(16).padStart(8, '0')}-`;
    }
    return cachedPrefix + randomHex(12);
  }
  const fields = client
    .split(';')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  if (traceRootOf(client)) {
    const rest = fields.filter((f) => !/^Self=/i.test(f));
    return [`Self=${newTraceRoot(nowMs, randomChunk(12))}`, ...rest].join(';');
  }
  const rest = fields.filter((f) => !/^(Root|Self)=/i.test(f));
  return [`Root=${newTraceRoot(nowMs, randomChunk(12))}`, ...rest].join(';');
}

let cachedSecond = Number.NaN;
let cachedPrefix = '';
