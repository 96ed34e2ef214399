import { ALB_FIELDS } from './fields.js';

/**
 * One ALB access-log entry, typed. Absent values (`-`, and `-1` for the processing times) are
 * `null`, never zero, so that "the Lambda never answered" cannot be mistaken for "answered in 0 s".
 */
export interface AlbLogRecord {
  type: string;
  /** ISO-8601 as written (microseconds, `Z`); `timeMs` is the same instant in epoch milliseconds. */
  time: string;
  timeMs: number;
  elb: string;
  client: string | null;
  clientPort: number | null;
  target: string | null;
  targetPort: number | null;
  requestProcessingTime: number | null;
  targetProcessingTime: number | null;
  responseProcessingTime: number | null;
  elbStatusCode: number | null;
  targetStatusCode: number | null;
  receivedBytes: number | null;
  sentBytes: number | null;
  request: string | null;
  userAgent: string | null;
  sslCipher: string | null;
  sslProtocol: string | null;
  targetGroupArn: string | null;
  traceId: string | null;
  domainName: string | null;
  chosenCertArn: string | null;
  matchedRulePriority: number | null;
  requestCreationTime: string | null;
  actionsExecuted: string | null;
  redirectUrl: string | null;
  errorReason: string | null;
  targetPortList: string | null;
  targetStatusCodeList: string | null;
  classification: string | null;
  classificationReason: string | null;
  connTraceId: string | null;
  transformedHost: string | null;
  transformedUri: string | null;
  requestTransformStatus: string | null;
  /** How many documented fields the line carried (older layouts stop earlier). */
  fieldCount: number;
  /** Fields after the last documented one, verbatim (AWS may append fields at any time). */
  extra?: string[] | undefined;
  /**
   * Field text that the canonical writer would not reproduce (e.g. `0.0001` seconds, an unusual
   * escape), by field name, so that format(parse(line)) == line holds for every line we accept.
   */
  verbatim?: Record<string, string> | undefined;
}

/** The fields a caller must give to write a line; everything else defaults to absent. */
export type AlbLogRecordInit = Partial<AlbLogRecord> & Pick<AlbLogRecord, 'type' | 'time' | 'elb'>;

export interface RequestLineParts {
  method: string | null;
  url: string | null;
  /** Path without the query string; null when the request line could not be parsed. */
  path: string | null;
  query: string | null;
  host: string | null;
  protocol: string | null;
}

const ABSENT_REQUEST: RequestLineParts = {
  method: null,
  url: null,
  path: null,
  query: null,
  host: null,
  protocol: null,
};

/** Splits `GET https://host:443/p?q HTTP/1.1` into its parts; the ALB writes `- - - ` when it could not parse it. */
export function requestLineParts(request: string | null): RequestLineParts {
  if (request === null) return ABSENT_REQUEST;
  const first = request.indexOf(' ');
  const last = request.lastIndexOf(' ');
  if (first < 0 || last <= first) return ABSENT_REQUEST;
  const method = request.slice(0, first);
  const url = request.slice(first + 1, last);
  const protocol = request.slice(last + 1);
  let path: string | null = null;
  let query: string | null = null;
  let host: string | null = null;
  const scheme = url.indexOf('://');
  if (scheme > 0) {
    const slash = url.indexOf('/', scheme + 3);
    host = url.slice(scheme + 3, slash < 0 ? url.length : slash);
    const rest = slash < 0 ? '/' : url.slice(slash);
    const q = rest.indexOf('?');
    path = q < 0 ? rest : rest.slice(0, q);
    query = q < 0 ? null : rest.slice(q + 1);
  } else if (url.startsWith('/')) {
    const q = url.indexOf('?');
    path = q < 0 ? url : url.slice(0, q);
    query = q < 0 ? null : url.slice(q + 1);
  }
  return {
    method: method === '-' ? null : method,
    url: url === '-' ? null : url,
    path,
    query,
    host,
    protocol: protocol === '-' || protocol === '' ? null : protocol,
  };
}

/** A record with every optional field absent, for writers (the lab, tests) to fill in. */
export function albRecord(init: AlbLogRecordInit): AlbLogRecord {
  return {
    timeMs: Date.parse(init.time),
    client: null,
    clientPort: null,
    target: null,
    targetPort: null,
    requestProcessingTime: null,
    targetProcessingTime: null,
    responseProcessingTime: null,
    elbStatusCode: null,
    targetStatusCode: null,
    receivedBytes: 0,
    sentBytes: 0,
    request: null,
    userAgent: null,
    sslCipher: null,
    sslProtocol: null,
    targetGroupArn: null,
    traceId: null,
    domainName: null,
    chosenCertArn: null,
    matchedRulePriority: null,
    requestCreationTime: null,
    actionsExecuted: null,
    redirectUrl: null,
    errorReason: null,
    targetPortList: null,
    targetStatusCodeList: null,
    classification: null,
    classificationReason: null,
    connTraceId: null,
    transformedHost: null,
    transformedUri: null,
    requestTransformStatus: null,
    fieldCount: ALB_FIELDS.length,
    ...init,
  };
}
