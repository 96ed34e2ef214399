/**
 * CloudFront standard (legacy) access-log fields, as the single source of truth for the parser,
 * the writer, the docs and the lab. Order and meanings follow
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
 * (the "Log file fields" list; ../shared/reference/cloudfront-athena-facts.md §A1.3). The layout
 * has grown by appending fields (24 in the 2014 examples, 26 with the fle-* fields, 33 today), and
 * each file names its columns in a `#Fields:` header, so a reader maps columns by that header.
 */

export type CloudFrontFieldKind =
  /** `YYYY-MM-DD`, UTC. */
  | 'date'
  /** `HH:MM:SS`, UTC. */
  | 'time'
  /** Text, URL-encoded as documented; `-` = absent. */
  | 'text'
  /** Non-negative integer; `-` = absent. */
  | 'integer'
  /** Seconds with millisecond precision (`0.001`); `-` = absent. */
  | 'seconds'
  /** Three-digit HTTP status; `000` = the viewer closed before the response began. */
  | 'status';

export interface CloudFrontField {
  /** Name as AWS documents it and as the `#Fields:` header writes it. */
  name: string;
  /** Property of `CloudFrontLogRecord` that holds it. */
  key: string;
  kind: CloudFrontFieldKind;
  /** The layout that introduced it. */
  since: string;
  meaning: string;
}

const f = (
  name: string,
  key: string,
  kind: CloudFrontFieldKind,
  since: string,
  meaning: string,
): CloudFrontField => ({ name, key, kind, since, meaning });

export const CLOUDFRONT_FIELDS: readonly CloudFrontField[] = [
  f(
    'date',
    'date',
    'date',
    '2014',
    'UTC date the request finished (for WebSockets, when the connection closed)',
  ),
  f('time', 'time', 'time', '2014', 'UTC time the server finished responding, to the second'),
  f(
    'x-edge-location',
    'edgeLocation',
    'text',
    '2014',
    'edge location (POP) that served the request, e.g. DFW3, SEA19-C1',
  ),
  f('sc-bytes', 'scBytes', 'integer', '2014', 'bytes sent to the viewer, headers included'),
  f('c-ip', 'clientIp', 'text', '2014', "viewer IP (a proxy's IP when one was used)"),
  f('cs-method', 'method', 'text', '2014', 'request method'),
  f(
    'cs(Host)',
    'host',
    'text',
    '2014',
    "the distribution's CloudFront domain name, even when a CNAME was used",
  ),
  f('cs-uri-stem', 'uriStem', 'text', '2014', 'path, without the query string'),
  f(
    'sc-status',
    'status',
    'status',
    '2014',
    'status sent to the viewer; 000 when the viewer closed before the response began',
  ),
  f('cs(Referer)', 'referer', 'text', '2014', 'Referer header'),
  f('cs(User-Agent)', 'userAgent', 'text', '2014', 'User-Agent header'),
  f('cs-uri-query', 'uriQuery', 'text', '2014', 'query string, or -'),
  f('cs(Cookie)', 'cookie', 'text', '2014', 'Cookie header when cookie logging is on, else -'),
  f(
    'x-edge-result-type',
    'resultType',
    'text',
    '2014',
    'Hit, RefreshHit, Miss, LimitExceeded, CapacityExceeded, Error, Redirect, ...',
  ),
  f(
    'x-edge-request-id',
    'requestId',
    'text',
    '2014',
    'request id, the same as the x-amz-cf-id response header',
  ),
  f(
    'x-host-header',
    'hostHeader',
    'text',
    '2014',
    'Host header the viewer sent (the CNAME when one was used)',
  ),
  f('cs-protocol', 'protocol', 'text', '2014', 'http, https, grpcs, ws or wss'),
  f('cs-bytes', 'csBytes', 'integer', '2014', 'bytes received from the viewer, headers included'),
  f(
    'time-taken',
    'timeTaken',
    'seconds',
    '2014',
    'seconds from request received to the last byte written to the output queue',
  ),
  f(
    'x-forwarded-for',
    'forwardedFor',
    'text',
    '2014',
    'viewer IP(s) when c-ip is a proxy, comma-separated; else -',
  ),
  f('ssl-protocol', 'sslProtocol', 'text', '2014', 'TLS protocol, e.g. TLSv1.2; - for http'),
  f('ssl-cipher', 'sslCipher', 'text', '2014', 'TLS cipher; - for http'),
  f(
    'x-edge-response-result-type',
    'responseResultType',
    'text',
    '2014',
    'classification just before the response was returned',
  ),
  f(
    'cs-protocol-version',
    'protocolVersion',
    'text',
    '2014',
    'HTTP/0.9, HTTP/1.0, HTTP/1.1, HTTP/2.0, HTTP/3.0',
  ),
  f('fle-status', 'fleStatus', 'text', '2017', 'field-level encryption outcome, else -'),
  f(
    'fle-encrypted-fields',
    'fleEncryptedFields',
    'integer',
    '2017',
    'count of field-level-encrypted fields, else -',
  ),
  f('c-port', 'clientPort', 'integer', '2019', "viewer's source port"),
  f(
    'time-to-first-byte',
    'timeToFirstByte',
    'seconds',
    '2019',
    'seconds from request received to the first response byte written',
  ),
  f(
    'x-edge-detailed-result-type',
    'detailedResultType',
    'text',
    '2019',
    'as x-edge-result-type, detailed for errors (OriginCommError, OriginDnsError, ...)',
  ),
  f('sc-content-type', 'contentType', 'text', '2019', 'Content-Type of the response'),
  f('sc-content-len', 'contentLength', 'integer', '2019', 'Content-Length of the response'),
  f('sc-range-start', 'rangeStart', 'integer', '2019', 'Content-Range start, else -'),
  f('sc-range-end', 'rangeEnd', 'integer', '2019', 'Content-Range end, else -'),
  f(
    'distribution-tenant-id',
    'distributionTenantId',
    'text',
    '2025',
    'tenant id of a multi-tenant distribution (current text only)',
  ),
  f(
    'connection-id',
    'connectionId',
    'text',
    '2025',
    'TLS connection id, with viewer mTLS (current text only)',
  ),
];

/**
 * Fields CloudFront writes in a standard log file today: the 33 of the documented example's
 * `#Fields:` line. The reference lists two more (multi-tenant, mTLS) without showing them in a
 * file, so the writer leaves them out unless asked.
 */
export const STANDARD_FIELD_COUNT = 33;

/** The oldest documented layout (2014 examples) stops after cs-protocol-version. */
export const MIN_FIELD_COUNT = CLOUDFRONT_FIELDS.findIndex((x) => x.name === 'cs-protocol-version') + 1;

const BY_NAME = new Map(CLOUDFRONT_FIELDS.map((x) => [x.name, x]));

/** The documented field with that header name, or undefined. */
export const cloudFrontField = (name: string): CloudFrontField | undefined => BY_NAME.get(name);

/** The columns of one file, in order, from its `#Fields:` header. */
export interface CloudFrontLayout {
  /** Header names, in column order. */
  names: readonly string[];
  /** The documented field of each column; undefined for a name we do not know (kept verbatim). */
  fields: readonly (CloudFrontField | undefined)[];
  /** Columns are the documented fields in documented order (a prefix of CLOUDFRONT_FIELDS). */
  standard: boolean;
}

export function cloudFrontLayout(names: readonly string[]): CloudFrontLayout {
  const fields = names.map((n) => BY_NAME.get(n));
  const standard = names.every((n, i) => CLOUDFRONT_FIELDS[i]?.name === n);
  return { names, fields, standard };
}

/** The layout of the first `count` documented fields (33: a file CloudFront writes today). */
export function standardLayout(count = STANDARD_FIELD_COUNT): CloudFrontLayout {
  return cloudFrontLayout(CLOUDFRONT_FIELDS.slice(0, count).map((x) => x.name));
}

export const VERSION_HEADER = '#Version: 1.0';
const FIELDS_PREFIX = '#Fields:';

/** The two header lines that open every file, each ending in a newline. */
export function cloudFrontFileHeader(layout: CloudFrontLayout = standardLayout()): string {
  return `${VERSION_HEADER}\n${FIELDS_PREFIX} ${layout.names.join(' ')}\n`;
}

/** The layout a `#Fields: a b c` line names, or undefined when the line is not a `#Fields:` header. */
export function parseFieldsHeader(line: string): CloudFrontLayout | undefined {
  if (!line.startsWith(FIELDS_PREFIX)) return undefined;
  const names = line
    .slice(FIELDS_PREFIX.length)
    .trim()
    .split(/\s+/)
    .filter((n) => n.length > 0);
  if (names.length === 0) return undefined;
  return cloudFrontLayout(names);
}
