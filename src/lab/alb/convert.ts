/**
 * HTTP <-> ALB Lambda event <-> ALB Lambda response, as pure functions.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html
 */

/** ALB limits for Lambda targets (same page): request body and response JSON, 1 MB each. */
export const AlbLambdaLimits = {
  maxRequestBodyBytes: 1_048_576,
  maxResponseBytes: 1_048_576,
} as const;

export interface AlbEvent {
  requestContext: { elb: { targetGroupArn: string } };
  httpMethod: string;
  path: string;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

export interface EventInput {
  method: string;
  /** Request target as received: path plus optional `?query`. */
  url: string;
  /** Node's rawHeaders: [name, value, name, value, ...], names as sent. */
  rawHeaders: readonly string[];
  /**
   * The names in `rawHeaders` are lower case already, and `contentType` / `contentEncoding` are
   * the last values of those headers (the ALB front finds them on its own pass).
   */
  namesLowerCase?: boolean;
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  body: Buffer;
  targetGroupArn: string;
  multiValueHeaders: boolean;
}

/** Splits the request target into path and raw query (without `?`). */
export function splitUrl(url: string): { path: string; query: string | undefined } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: undefined } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/**
 * Query parameters as the ALB passes them: not URL-decoded ("If the query parameters are
 * URL-encoded, the load balancer does not decode them"), a key without `=` has the value "".
 */
export function queryPairs(query: string | undefined): [string, string][] {
  if (!query) return [];
  const out: [string, string][] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return out;
}

const TEXT_TYPES =
  /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded|graphql)\b|application\/[^;]*\+(json|xml)\b)/i;

/**
 * Whether the body goes to the function as text (else base64 with isBase64Encoded: true): text
 * media types without a content-encoding whose bytes are valid UTF-8. Everything else is treated
 * as binary.
 */
export function bodyIsText(
  contentType: string | undefined,
  contentEncoding: string | undefined,
  body: Buffer,
): boolean {
  if (body.length === 0) return true;
  if (contentEncoding && contentEncoding.toLowerCase() !== 'identity') return false;
  if (!contentType || !TEXT_TYPES.test(contentType.trim())) return false;
  return isUtf8(body);
}

export function isUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/** The event the ALB sends: lowercase header names; single values keep the last one sent. */
export function buildAlbEvent(input: EventInput): AlbEvent {
  const { path, query } = splitUrl(input.url);
  const raw = input.rawHeaders;
  const lower = input.namesLowerCase === true;
  let contentType: string | undefined;
  let contentEncoding: string | undefined;
  if (lower) {
    contentType = input.contentType;
    contentEncoding = input.contentEncoding;
  } else {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (name === 'content-type') contentType = raw[i + 1];
      else if (name === 'content-encoding') contentEncoding = raw[i + 1];
    }
  }
  const text = bodyIsText(contentType, contentEncoding, input.body);
  const body =
    input.body.length === 0 ? '' : text ? input.body.toString('utf8') : input.body.toString('base64');
  const requestContext = { elb: { targetGroupArn: input.targetGroupArn } };
  if (input.multiValueHeaders) {
    const q: Record<string, string[]> = {};
    if (query) {
      for (const [k, v] of queryPairs(query)) {
        const list = q[k];
        if (list) list.push(v);
        else q[k] = [v];
      }
    }
    const h: Record<string, string[]> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = lower ? raw[i]! : raw[i]!.toLowerCase();
      const list = h[name];
      if (list) list.push(raw[i + 1]!);
      else h[name] = [raw[i + 1]!];
    }
    return {
      requestContext,
      httpMethod: input.method,
      path,
      multiValueQueryStringParameters: q,
      multiValueHeaders: h,
      body,
      isBase64Encoded: !text,
    };
  }
  const q: Record<string, string> = {};
  if (query) for (const [k, v] of queryPairs(query)) q[k] = v;
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) h[lower ? raw[i]! : raw[i]!.toLowerCase()] = raw[i + 1]!;
  return {
    requestContext,
    httpMethod: input.method,
    path,
    queryStringParameters: q,
    headers: h,
    body,
    isBase64Encoded: !text,
  };
}

export interface AlbHttpResponse {
  statusCode: number;
  /** Reason phrase from statusDescription (`200 OK` -> `OK`), when given. */
  statusMessage: string | undefined;
  /** Header name -> values, in the order given. */
  headers: [string, string[]][];
  body: Buffer;
}

export type ResponseCheck = { ok: true; response: AlbHttpResponse } | { ok: false; problem: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; no CR/LF/NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/;
/** Hop-by-hop and framing headers the load balancer sets itself. */
const DROP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

/**
 * Validates a function's return value as the ALB does: an object with an integer `statusCode`,
 * optional string `statusDescription`, string-valued `headers` / string-array `multiValueHeaders`,
 * string `body` and boolean `isBase64Encoded`. With multi-value headers enabled on the target
 * group, `multiValueHeaders` is used (falling back to `headers`); otherwise only `headers`.
 */
export function checkAlbResponse(value: unknown, multiValue: boolean): ResponseCheck {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: 'the response is not a JSON object' };
  }
  const r = value as Record<string, unknown>;
  const sc = r.statusCode;
  if (typeof sc !== 'number' || !Number.isInteger(sc) || sc < 100 || sc > 599) {
    return { ok: false, problem: 'statusCode is missing or not an integer status code' };
  }
  if (
    r.statusDescription !== undefined &&
    r.statusDescription !== null &&
    typeof r.statusDescription !== 'string'
  ) {
    return { ok: false, problem: 'statusDescription is not a string' };
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
    return { ok: false, problem: 'body is not a string' };
  }
  if (
    r.isBase64Encoded !== undefined &&
    r.isBase64Encoded !== null &&
    typeof r.isBase64Encoded !== 'boolean'
  ) {
    return { ok: false, problem: 'isBase64Encoded is not a boolean' };
  }
  const headers: [string, string[]][] = [];
  const single = r.headers;
  const multi = r.multiValueHeaders;
  if (single !== undefined && single !== null && (typeof single !== 'object' || Array.isArray(single))) {
    return { ok: false, problem: 'headers is not an object' };
  }
  if (multi !== undefined && multi !== null && (typeof multi !== 'object' || Array.isArray(multi))) {
    return { ok: false, problem: 'multiValueHeaders is not an object' };
  }
  if (multiValue && multi) {
    for (const [k, v] of Object.entries(multi as Record<string, unknown>)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
        return { ok: false, problem: `multiValueHeaders.${k} is not a list of strings` };
      }
      headers.push([k, v as string[]]);
    }
  } else if (single) {
    for (const [k, v] of Object.entries(single as Record<string, unknown>)) {
      if (typeof v !== 'string') return { ok: false, problem: `headers.${k} is not a string` };
      headers.push([k, [v]]);
    }
  }
  const kept: [string, string[]][] = [];
  for (const [k, vs] of headers) {
    if (!TOKEN.test(k)) return { ok: false, problem: `header name ${JSON.stringify(k)} is not valid` };
    for (const v of vs) {
      if (!FIELD_VALUE.test(v))
        return { ok: false, problem: `header ${k} has a value with control characters` };
    }
    if (!DROP.has(k.toLowerCase())) kept.push([k, vs]);
  }
  const bodyText = typeof r.body === 'string' ? r.body : '';
  let body: Buffer;
  if (r.isBase64Encoded === true) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(bodyText.replace(/\s+/g, ''))) {
      return { ok: false, problem: 'body is marked isBase64Encoded but is not base64' };
    }
    body = Buffer.from(bodyText, 'base64');
  } else body = Buffer.from(bodyText, 'utf8');
  const desc = typeof r.statusDescription === 'string' ? r.statusDescription : undefined;
  const m = desc ? /^\d{3}\s+(.*)$/.exec(desc) : null;
  const statusMessage =
    desc === undefined ? undefined : (m ? m[1] : desc)?.replace(/[^\t\x20-\x7e]/g, '') || undefined;
  return { ok: true, response: { statusCode: sc, statusMessage, headers: kept, body } };
}
