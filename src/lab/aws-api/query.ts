/**
 * The AWS Query protocol, shared by the services the lab serves on it (CloudWatch for the aws
 * CLI, Elastic Load Balancing v2 for both the CLI and the SDK): a form-encoded `POST /` with
 * `Action=<Op>&Version=<date>` whose lists are flattened as `X.member.N`, answered with XML in the
 * service's namespace (`<Op>Response><Op>Result>`) or an `<ErrorResponse>`.
 */
import type { AwsRequest, AwsResponse } from './http.js';
import { el, elAttrs, toXml, type XmlChild, type XmlNode } from './xml.js';

/** A decoded Query value: a string leaf, a nested object, or a list from `member.N`. */
export type QueryValue = unknown;

/**
 * An error in a Query-protocol service's vocabulary: `Code` as its API reference lists it, HTTP
 * 400 unless said. Each service has its own subclass, so that a handler catches only its own.
 */
export class QueryApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * Turns `A.member.1.B=x&A.member.2.B=y` into `{A: [{B: 'x'}, {B: 'y'}]}`. `member.N` (and, for
 * maps, `entry.N`) become arrays ordered by N; an empty value for a list name is an empty list.
 */
export function parseQueryParams(params: URLSearchParams): Record<string, QueryValue> {
  const root: Record<string, QueryValue> = {};
  for (const [key, value] of params) {
    const parts = key.split('.');
    let node: Record<string, QueryValue> = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1) {
        if (typeof node[part] !== 'object' || node[part] === null) node[part] = value;
      } else {
        let next = node[part];
        if (typeof next !== 'object' || next === null) {
          next = {};
          node[part] = next;
        }
        node = next as Record<string, QueryValue>;
      }
    }
  }
  return normalize(root) as Record<string, QueryValue>;
}

function normalize(v: QueryValue): QueryValue {
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, QueryValue>;
  const keys = Object.keys(o);
  if (keys.length === 1 && (keys[0] === 'member' || keys[0] === 'entry')) {
    const members = o[keys[0]!];
    if (typeof members === 'object' && members !== null) {
      return Object.entries(members as Record<string, QueryValue>)
        .filter(([k]) => /^\d+$/.test(k))
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, m]) => normalize(m));
    }
  }
  const out: Record<string, QueryValue> = {};
  for (const k of keys) out[k] = normalize(o[k]);
  return out;
}

/**
 * The action and its input from a Query request: the form body of a POST, plus any parameter
 * only given in the URL's query string (both are valid on the Query protocol).
 */
export function readQueryRequest(req: AwsRequest): { action: string; input: Record<string, QueryValue> } {
  const params = new URLSearchParams(req.method === 'POST' ? req.body.toString('utf8') : '');
  for (const [k, v] of req.query) if (!params.has(k)) params.append(k, v);
  const input = parseQueryParams(params);
  const action = typeof input.Action === 'string' ? input.Action : '';
  delete input.Action;
  delete input.Version;
  return { action, input };
}

/** True for a form-encoded Query `POST /` (an `Action=` in the body), whatever the service. */
export function isQueryForm(req: AwsRequest): boolean {
  const ctype = req.headers['content-type'] ?? '';
  return (
    req.method === 'POST' &&
    req.rawPath === '/' &&
    ctype.startsWith('application/x-www-form-urlencoded') &&
    /(^|&)Action=/.test(req.body.toString('latin1'))
  );
}

/** The `Version=` a Query request names (body or query string), if any. */
export function queryVersion(req: AwsRequest): string | undefined {
  const inBody =
    req.method === 'POST' ? new URLSearchParams(req.body.toString('latin1')).get('Version') : null;
  return inBody ?? req.query.get('Version') ?? undefined;
}

/** `<name><member>…</member>…</name>`: a Query list of scalars. */
export function members(name: string, items: XmlChild[]): XmlNode {
  return el(
    name,
    items.map((i) => el('member', i)),
  );
}

/** `<name><member>…children…</member>…</name>`: a Query list of structures. */
export function memberList(name: string, groups: XmlChild[][]): XmlNode {
  return el(
    name,
    groups.map((g) => el('member', g)),
  );
}

/** A successful Query response: `<Op>Response xmlns><Op>Result>…</><ResponseMetadata>`. */
export function queryResponse(
  namespace: string,
  op: string,
  req: AwsRequest,
  result: XmlChild[],
): AwsResponse {
  const body = toXml(
    elAttrs(
      `${op}Response`,
      { xmlns: namespace },
      el(`${op}Result`, result),
      el('ResponseMetadata', el('RequestId', req.requestId)),
    ),
  );
  return { status: 200, headers: { 'Content-Type': 'text/xml', 'x-amzn-RequestId': req.requestId }, body };
}

/** A Query error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`. */
export function queryErrorResponse(
  namespace: string,
  req: AwsRequest,
  error: { code: string; message: string; status: number },
): AwsResponse {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  const body = toXml(
    elAttrs(
      'ErrorResponse',
      { xmlns: namespace },
      el('Error', el('Type', type), el('Code', error.code), el('Message', error.message)),
      el('RequestId', req.requestId),
    ),
  );
  return {
    status: error.status,
    headers: { 'Content-Type': 'text/xml', 'x-amzn-RequestId': req.requestId },
    body,
  };
}
