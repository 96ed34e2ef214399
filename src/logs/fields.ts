/**
 * The ALB access-log entry format, as the single source of truth for the parser, the writer, the
 * docs and the lab. Order, quoting and absent markers follow
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-format
 * AWS appends fields over time (`since` records when each layout appeared) and says new fields
 * may be added at the end at any time, so the parser accepts lines that stop after any field from
 * `error_reason` on, and keeps unknown trailing fields verbatim.
 */

export type FieldKind =
  /** Free text; `-` = absent. */
  | 'text'
  /** `ip:port` (IPv6 without brackets, port after the last colon); `-` = absent. */
  | 'address'
  /** Seconds with millisecond precision; `-1` = absent (request not dispatched / no response). */
  | 'seconds'
  /** Non-negative integer; `-` = absent (and `-1` where `minusOne` says what it means). */
  | 'integer'
  /** ISO-8601 UTC with microseconds; `-` = absent. */
  | 'timestamp';

export interface AlbField {
  /** Name as AWS documents it. */
  name: string;
  /** Property of `AlbLogRecord` that holds it (for `address`, the ip; the port is `<key>Port`). */
  key: string;
  kind: FieldKind;
  /** Written between double quotes, with `"` and `\` backslash-escaped. */
  quoted: boolean;
  /** The layout that introduced it, for documentation and for writing older-format lines. */
  since: string;
  meaning: string;
  /**
   * For an integer field whose documented values include `-1`: what `-1` means (AWS's words). The
   * record keeps -1 as the number -1; other negative numbers stay malformed.
   */
  minusOne?: string;
}

export const ALB_FIELDS = [
  {
    name: 'type',
    key: 'type',
    kind: 'text',
    quoted: false,
    since: '2016',
    meaning: 'request or connection type: http, https, h2, grpcs, ws, wss',
  },
  {
    name: 'time',
    key: 'time',
    kind: 'timestamp',
    quoted: false,
    since: '2016',
    meaning: 'when the load balancer generated the response (for WebSockets, when the connection closed)',
  },
  {
    name: 'elb',
    key: 'elb',
    kind: 'text',
    quoted: false,
    since: '2016',
    meaning: 'load balancer resource id, app/<name>/<id>',
  },
  {
    name: 'client:port',
    key: 'client',
    kind: 'address',
    quoted: false,
    since: '2016',
    meaning: 'client IP address and port',
  },
  {
    name: 'target:port',
    key: 'target',
    kind: 'address',
    quoted: false,
    since: '2016',
    meaning: 'target IP address and port; - for Lambda targets and requests not dispatched',
  },
  {
    name: 'request_processing_time',
    key: 'requestProcessingTime',
    kind: 'seconds',
    quoted: false,
    since: '2016',
    meaning: 'seconds from request received to sent to a target; -1 if not dispatched',
  },
  {
    name: 'target_processing_time',
    key: 'targetProcessingTime',
    kind: 'seconds',
    quoted: false,
    since: '2016',
    meaning:
      'seconds from sent to the target to the target starting its response; -1 if none (e.g. a throttled Lambda invoke)',
  },
  {
    name: 'response_processing_time',
    key: 'responseProcessingTime',
    kind: 'seconds',
    quoted: false,
    since: '2016',
    meaning: 'seconds from the target response to the response to the client; -1 if none',
  },
  {
    name: 'elb_status_code',
    key: 'elbStatusCode',
    kind: 'integer',
    quoted: false,
    since: '2016',
    meaning: 'status code of the response from the load balancer',
  },
  {
    name: 'target_status_code',
    key: 'targetStatusCode',
    kind: 'integer',
    quoted: false,
    since: '2016',
    meaning: "status code from the target (a Lambda function's statusCode); - if the target did not answer",
  },
  {
    name: 'received_bytes',
    key: 'receivedBytes',
    kind: 'integer',
    quoted: false,
    since: '2016',
    meaning: 'request size in bytes received from the client',
  },
  {
    name: 'sent_bytes',
    key: 'sentBytes',
    kind: 'integer',
    quoted: false,
    since: '2016',
    meaning: 'response size in bytes sent to the client',
  },
  {
    name: 'request',
    key: 'request',
    kind: 'text',
    quoted: true,
    since: '2016',
    meaning: 'request line: METHOD protocol://host:port/uri HTTP-version ("- - - " when unparseable)',
  },
  {
    name: 'user_agent',
    key: 'userAgent',
    kind: 'text',
    quoted: true,
    since: '2016',
    meaning: 'User-Agent of the client',
  },
  {
    name: 'ssl_cipher',
    key: 'sslCipher',
    kind: 'text',
    quoted: false,
    since: '2016',
    meaning: 'TLS cipher for HTTPS listeners, else -',
  },
  {
    name: 'ssl_protocol',
    key: 'sslProtocol',
    kind: 'text',
    quoted: false,
    since: '2016',
    meaning: 'TLS protocol for HTTPS listeners, else -',
  },
  {
    name: 'target_group_arn',
    key: 'targetGroupArn',
    kind: 'text',
    quoted: false,
    since: '2016',
    meaning: 'ARN of the target group',
  },
  {
    name: 'trace_id',
    key: 'traceId',
    kind: 'text',
    quoted: true,
    since: '2016',
    meaning: 'contents of the X-Amzn-Trace-Id header',
  },
  {
    name: 'domain_name',
    key: 'domainName',
    kind: 'text',
    quoted: true,
    since: '2017',
    meaning: 'SNI domain from the TLS handshake, else -',
  },
  {
    name: 'chosen_cert_arn',
    key: 'chosenCertArn',
    kind: 'text',
    quoted: true,
    since: '2017',
    meaning: 'ARN of the certificate presented, else - (or session-reused / invalid-certificate)',
  },
  {
    name: 'matched_rule_priority',
    key: 'matchedRulePriority',
    kind: 'integer',
    quoted: false,
    since: '2018',
    meaning:
      'priority of the rule that matched (1 to 50,000; 0 = default rule); -1 if an error occurred during rules evaluation; - for any other error',
    minusOne: 'an error occurred during rules evaluation',
  },
  {
    name: 'request_creation_time',
    key: 'requestCreationTime',
    kind: 'timestamp',
    quoted: false,
    since: '2018',
    meaning: 'when the load balancer received the request',
  },
  {
    name: 'actions_executed',
    key: 'actionsExecuted',
    kind: 'text',
    quoted: true,
    since: '2018',
    meaning: 'comma-separated actions taken (waf, forward, redirect, fixed-response, authenticate, ...)',
  },
  {
    name: 'redirect_url',
    key: 'redirectUrl',
    kind: 'text',
    quoted: true,
    since: '2018',
    meaning: 'Location of a redirect action, else -',
  },
  {
    name: 'error_reason',
    key: 'errorReason',
    kind: 'text',
    quoted: true,
    since: '2018',
    meaning: 'error reason code (see the catalogue), else -',
  },
  {
    name: 'target:port_list',
    key: 'targetPortList',
    kind: 'text',
    quoted: true,
    since: '2019',
    meaning: 'space-separated ip:port of targets that processed the request',
  },
  {
    name: 'target_status_code_list',
    key: 'targetStatusCodeList',
    kind: 'text',
    quoted: true,
    since: '2019',
    meaning: 'space-separated status codes from those targets',
  },
  {
    name: 'classification',
    key: 'classification',
    kind: 'text',
    quoted: true,
    since: '2020',
    meaning: 'desync mitigation classification: Acceptable, Ambiguous, Severe',
  },
  {
    name: 'classification_reason',
    key: 'classificationReason',
    kind: 'text',
    quoted: true,
    since: '2020',
    meaning: 'classification reason code',
  },
  {
    name: 'conn_trace_id',
    key: 'connTraceId',
    kind: 'text',
    quoted: false,
    since: '2024',
    meaning: 'connection traceability id (TID_<hex>) linking to connection logs',
  },
  {
    name: 'transformed_host',
    key: 'transformedHost',
    kind: 'text',
    quoted: true,
    since: '2025',
    meaning: 'host after a host-header rewrite transform, else -',
  },
  {
    name: 'transformed_uri',
    key: 'transformedUri',
    kind: 'text',
    quoted: true,
    since: '2025',
    meaning: 'URI after a URL rewrite transform, else -',
  },
  {
    name: 'request_transform_status',
    key: 'requestTransformStatus',
    kind: 'text',
    quoted: true,
    since: '2025',
    meaning: 'status of the rewrite transform, else -',
  },
] as const satisfies readonly AlbField[];

export type AlbFieldName = (typeof ALB_FIELDS)[number]['name'];

/** The ALB's first (2016) layout ended with `trace_id`; every later layout only appended fields. */
export const MIN_FIELD_COUNT = ALB_FIELDS.findIndex((f) => f.name === 'trace_id') + 1;

export const VALID_TYPES = ['http', 'https', 'h2', 'grpcs', 'ws', 'wss'] as const;
