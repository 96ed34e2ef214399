import { newTraceRoot, traceRootOf } from '../../common/trace-id.js';
import { randomChunk } from '../random.js';

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
  if (client === undefined || client.trim() === '') return `Root=${newTraceRoot(nowMs, randomChunk(12))}`;
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
