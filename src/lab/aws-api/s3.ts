/**
 * The S3 API subset, on its real wire protocol (REST-XML), path-style (`/bucket/key`) and
 * virtual-host style (`bucket.localhost`). Read-only: the lab itself writes the objects.
 */
import type { LabBackend, StoredObject } from '../backend.js';
import {
  type AwsRequest,
  type AwsResponse,
  decodePathComponent,
  decodeToken,
  encodeToken,
  header,
  httpDate,
  isoDate,
} from './http.js';
import { el, elAttrs, toXml, type XmlNode } from './xml.js';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_KEYS = 1000;

export class S3ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

function commonHeaders(req: AwsRequest): Record<string, string> {
  return { 'x-amz-request-id': req.requestId, 'x-amz-id-2': Buffer.from(req.requestId).toString('base64') };
}

export function s3Error(req: AwsRequest, err: S3ApiError): AwsResponse {
  const body = toXml(
    el(
      'Error',
      el('Code', err.code),
      el('Message', err.message),
      Object.entries(err.extra).map(([k, v]) => el(k, v)),
      el('RequestId', req.requestId),
      el('HostId', Buffer.from(req.requestId).toString('base64')),
    ),
  );
  return { status: err.status, headers: { ...commonHeaders(req), 'Content-Type': 'application/xml' }, body };
}

function xml(req: AwsRequest, root: XmlNode, status = 200): AwsResponse {
  return { status, headers: { ...commonHeaders(req), 'Content-Type': 'application/xml' }, body: toXml(root) };
}

/** S3 orders keys by their UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `encoding-type=url`: S3 percent-encodes keys but leaves '/' readable. */
function urlEncodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/');
}

/** The bucket a virtual-hosted request names, from a Host of the form `<bucket>.localhost`. */
export function virtualHostBucket(hostname: string): string | undefined {
  const suffix = '.localhost';
  if (hostname.endsWith(suffix) && hostname.length > suffix.length) return hostname.slice(0, -suffix.length);
  return undefined;
}

/** Bucket and key a request addresses (key undefined = a bucket operation; bucket undefined = service). */
function target(req: AwsRequest): { bucket?: string | undefined; key?: string | undefined } {
  const vhost = virtualHostBucket(req.hostname);
  const path = req.rawPath.startsWith('/') ? req.rawPath.slice(1) : req.rawPath;
  const bad = () => new S3ApiError(400, 'InvalidURI', `Couldn't parse the specified URI: ${req.rawPath}`);
  if (vhost !== undefined) {
    if (path === '') return { bucket: vhost };
    const key = decodePathComponent(path);
    if (key === undefined) throw bad();
    return { bucket: vhost, key };
  }
  if (path === '') return {};
  const slash = path.indexOf('/');
  const rawBucket = slash < 0 ? path : path.slice(0, slash);
  const rawKey = slash < 0 ? '' : path.slice(slash + 1);
  const bucket = decodePathComponent(rawBucket);
  const key = decodePathComponent(rawKey);
  if (bucket === undefined || key === undefined) throw bad();
  return { bucket, key: rawKey === '' ? undefined : key };
}

/** Query parameters that are arguments, not sub-resources. */
const PLAIN_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
  'x-id',
  'max-buckets',
  'bucket-region',
  'range',
  'partNumber',
  'versionId',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
]);

function subresource(req: AwsRequest): string | undefined {
  for (const k of req.query.keys()) {
    if (!PLAIN_PARAMS.has(k) && !k.toLowerCase().startsWith('x-amz-')) return k;
  }
  return undefined;
}

function capitalize(s: string): string {
  return s
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** Best-effort name of an S3 operation the lab does not serve. */
function operationName(req: AwsRequest, bucket: string | undefined, key: string | undefined): string {
  const sub = subresource(req);
  const verb =
    req.method === 'GET' || req.method === 'HEAD'
      ? 'Get'
      : req.method === 'PUT'
        ? 'Put'
        : req.method === 'DELETE'
          ? 'Delete'
          : 'Post';
  if (bucket === undefined) return `${req.method} /`;
  if (key === undefined) {
    if (sub === 'delete' && req.method === 'POST') return 'DeleteObjects';
    if (sub === 'versions') return 'ListObjectVersions';
    if (sub === 'uploads') return 'ListMultipartUploads';
    if (sub) return `${verb}Bucket${capitalize(sub)}`;
    if (req.method === 'PUT') return 'CreateBucket';
    if (req.method === 'DELETE') return 'DeleteBucket';
    return `${req.method} bucket`;
  }
  if (sub === 'uploads' && req.method === 'POST') return 'CreateMultipartUpload';
  if (sub === 'uploadId')
    return req.method === 'PUT'
      ? 'UploadPart'
      : req.method === 'POST'
        ? 'CompleteMultipartUpload'
        : req.method === 'DELETE'
          ? 'AbortMultipartUpload'
          : 'ListParts';
  if (sub) return `${verb}Object${capitalize(sub)}`;
  if (req.method === 'PUT') return header(req, 'x-amz-copy-source') ? 'CopyObject' : 'PutObject';
  if (req.method === 'DELETE') return 'DeleteObject';
  return `${req.method} object`;
}

function requireBucket(backend: LabBackend, bucket: string): void {
  if (!backend.s3.hasBucket(bucket)) {
    throw new S3ApiError(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  }
}

function parseMaxKeys(value: string | null, name: string): number {
  if (value === null) return MAX_KEYS;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new S3ApiError(400, 'InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: value,
    });
  }
  return Math.min(n, MAX_KEYS);
}

interface ListPage {
  contents: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Last key or common prefix returned: where the next page starts. */
  last: string | undefined;
}

/** One page of a listing, after `marker` (a key or a common prefix), as S3 rolls it up. */
function listPage(
  objects: StoredObject[],
  prefix: string,
  delimiter: string,
  marker: string | undefined,
  maxKeys: number,
): ListPage {
  const page: ListPage = { contents: [], commonPrefixes: [], truncated: false, last: undefined };
  let count = 0;
  for (const obj of objects) {
    if (!obj.key.startsWith(prefix)) continue;
    if (marker !== undefined && compareUtf8(obj.key, marker) <= 0) continue;
    let rolled: string | undefined;
    if (delimiter !== '') {
      const at = obj.key.indexOf(delimiter, prefix.length);
      if (at >= 0) rolled = obj.key.slice(0, at + delimiter.length);
    }
    if (rolled !== undefined) {
      if (marker !== undefined && (compareUtf8(rolled, marker) <= 0 || marker.startsWith(rolled))) continue;
      if (page.commonPrefixes[page.commonPrefixes.length - 1] === rolled) continue;
    }
    if (count >= maxKeys) {
      page.truncated = true;
      break;
    }
    if (rolled !== undefined) {
      page.commonPrefixes.push(rolled);
      page.last = rolled;
    } else {
      page.contents.push(obj);
      page.last = obj.key;
    }
    count += 1;
  }
  return page;
}

function contentsXml(
  backend: LabBackend,
  obj: StoredObject,
  enc: (s: string) => string,
  owner: boolean,
): XmlNode {
  return el(
    'Contents',
    el('Key', enc(obj.key)),
    el('LastModified', isoDate(obj.lastModifiedMs)),
    el('ETag', obj.etag),
    el('Size', obj.body.length),
    owner ? el('Owner', el('ID', backend.accountId), el('DisplayName', 'lab')) : undefined,
    el('StorageClass', 'STANDARD'),
  );
}

function encoder(req: AwsRequest): { enc: (s: string) => string; type: string | undefined } {
  const type = req.query.get('encoding-type') ?? undefined;
  if (type !== undefined && type !== 'url') {
    throw new S3ApiError(400, 'InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: type,
    });
  }
  return { enc: type === 'url' ? urlEncodeKey : (s) => s, type };
}

function listObjectsV2(backend: LabBackend, req: AwsRequest, bucket: string): AwsResponse {
  const q = req.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = parseMaxKeys(q.get('max-keys'), 'max-keys');
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after') ?? undefined;
  const { enc, type } = encoder(req);
  let marker = startAfter;
  if (token !== null) {
    const decoded = decodeToken(token) as { m?: unknown } | undefined;
    if (!decoded || typeof decoded.m !== 'string') {
      throw new S3ApiError(400, 'InvalidArgument', 'The continuation token provided is incorrect', {
        ArgumentName: 'continuation-token',
        ArgumentValue: token,
      });
    }
    marker = decoded.m;
  }
  const page = listPage(backend.s3.list(bucket, prefix), prefix, delimiter, marker, maxKeys);
  const owner = q.get('fetch-owner') === 'true';
  return xml(
    req,
    elAttrs(
      'ListBucketResult',
      { xmlns: S3_NS },
      el('Name', bucket),
      el('Prefix', enc(prefix)),
      delimiter !== '' ? el('Delimiter', enc(delimiter)) : undefined,
      el('MaxKeys', maxKeys),
      type !== undefined ? el('EncodingType', type) : undefined,
      el('KeyCount', page.contents.length + page.commonPrefixes.length),
      el('IsTruncated', page.truncated),
      token !== null ? el('ContinuationToken', token) : undefined,
      page.truncated && page.last !== undefined
        ? el('NextContinuationToken', encodeToken({ m: page.last }))
        : undefined,
      startAfter !== undefined ? el('StartAfter', enc(startAfter)) : undefined,
      page.contents.map((o) => contentsXml(backend, o, enc, owner)),
      page.commonPrefixes.map((p) => el('CommonPrefixes', el('Prefix', enc(p)))),
    ),
  );
}

function listObjectsV1(backend: LabBackend, req: AwsRequest, bucket: string): AwsResponse {
  const q = req.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = parseMaxKeys(q.get('max-keys'), 'max-keys');
  const marker = q.get('marker') ?? undefined;
  const { enc, type } = encoder(req);
  const page = listPage(backend.s3.list(bucket, prefix), prefix, delimiter, marker, maxKeys);
  return xml(
    req,
    elAttrs(
      'ListBucketResult',
      { xmlns: S3_NS },
      el('Name', bucket),
      el('Prefix', enc(prefix)),
      el('Marker', enc(marker ?? '')),
      // S3 sends NextMarker only with a delimiter; without one, clients continue from the last key.
      page.truncated && delimiter !== '' && page.last !== undefined
        ? el('NextMarker', enc(page.last))
        : undefined,
      delimiter !== '' ? el('Delimiter', enc(delimiter)) : undefined,
      el('MaxKeys', maxKeys),
      type !== undefined ? el('EncodingType', type) : undefined,
      el('IsTruncated', page.truncated),
      page.contents.map((o) => contentsXml(backend, o, enc, true)),
      page.commonPrefixes.map((p) => el('CommonPrefixes', el('Prefix', enc(p)))),
    ),
  );
}

function listBuckets(backend: LabBackend, req: AwsRequest): AwsResponse {
  const q = req.query;
  const prefix = q.get('prefix') ?? '';
  const max =
    q.get('max-buckets') === null
      ? Number.POSITIVE_INFINITY
      : parseMaxKeys(q.get('max-buckets'), 'max-buckets');
  const region = q.get('bucket-region');
  if (region !== null && region !== backend.region) {
    return xml(req, elAttrs('ListAllMyBucketsResult', { xmlns: S3_NS }, el('Buckets'), owner(backend)));
  }
  const token = q.get('continuation-token');
  let after: string | undefined;
  if (token !== null) {
    const decoded = decodeToken(token) as { b?: unknown } | undefined;
    if (!decoded || typeof decoded.b !== 'string') {
      throw new S3ApiError(400, 'InvalidArgument', 'The continuation token provided is incorrect');
    }
    after = decoded.b;
  }
  const all = backend.s3
    .buckets()
    .filter((b) => b.name.startsWith(prefix) && (after === undefined || b.name > after))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = all.slice(0, max);
  const more = all.length > page.length;
  return xml(
    req,
    elAttrs(
      'ListAllMyBucketsResult',
      { xmlns: S3_NS },
      el(
        'Buckets',
        page.map((b) =>
          el(
            'Bucket',
            el('Name', b.name),
            el('CreationDate', isoDate(b.createdMs)),
            el('BucketRegion', backend.region),
          ),
        ),
      ),
      owner(backend),
      more ? el('ContinuationToken', encodeToken({ b: page[page.length - 1]!.name })) : undefined,
      q.get('prefix') !== null ? el('Prefix', prefix) : undefined,
    ),
  );
}

function owner(backend: LabBackend): XmlNode {
  return el('Owner', el('ID', backend.accountId), el('DisplayName', 'lab'));
}

/** A single `bytes=` range, resolved against `size`; undefined = whole object; 'invalid' = unsatisfiable. */
export function parseRange(
  value: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  // Multiple ranges and malformed values: S3 ignores the header and sends the whole object.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    if (size === 0) return 'invalid';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'invalid';
  return { start, end };
}

function getObject(backend: LabBackend, req: AwsRequest, bucket: string, key: string): AwsResponse {
  requireBucket(backend, bucket);
  const obj = backend.s3.get(bucket, key);
  if (!obj) throw new S3ApiError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
  const size = obj.body.length;
  const lastModified = httpDate(obj.lastModifiedMs);
  const base: Record<string, string | number | undefined> = {
    ...commonHeaders(req),
    ETag: obj.etag,
    'Last-Modified': lastModified,
    'Accept-Ranges': 'bytes',
    'Content-Type': req.query.get('response-content-type') ?? obj.contentType ?? 'binary/octet-stream',
    'Content-Language': req.query.get('response-content-language') ?? undefined,
    'Content-Disposition': req.query.get('response-content-disposition') ?? undefined,
    'Content-Encoding': req.query.get('response-content-encoding') ?? undefined,
    'Cache-Control': req.query.get('response-cache-control') ?? undefined,
    Expires: req.query.get('response-expires') ?? undefined,
  };
  // Conditional requests, in the precedence RFC 7232 gives them.
  const ifMatch = header(req, 'if-match');
  const ifUnmodified = header(req, 'if-unmodified-since');
  if (ifMatch !== undefined && !etagMatches(ifMatch, obj.etag)) {
    throw new S3ApiError(
      412,
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      {
        Condition: 'If-Match',
      },
    );
  }
  if (ifMatch === undefined && ifUnmodified !== undefined && modifiedSince(obj, ifUnmodified)) {
    throw new S3ApiError(
      412,
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      {
        Condition: 'If-Unmodified-Since',
      },
    );
  }
  const ifNoneMatch = header(req, 'if-none-match');
  const ifModified = header(req, 'if-modified-since');
  if (
    (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, obj.etag)) ||
    (ifNoneMatch === undefined && ifModified !== undefined && !modifiedSince(obj, ifModified))
  ) {
    return { status: 304, headers: { ...commonHeaders(req), ETag: obj.etag, 'Last-Modified': lastModified } };
  }
  const range = parseRange(req.query.get('range') ?? header(req, 'range'), size);
  if (range === 'invalid') {
    throw new S3ApiError(416, 'InvalidRange', 'The requested range is not satisfiable', {
      RangeRequested: header(req, 'range') ?? '',
      ActualObjectSize: String(size),
    });
  }
  if (range) {
    const body = obj.body.subarray(range.start, range.end + 1);
    return {
      status: 206,
      headers: {
        ...base,
        'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
        'Content-Length': body.length,
      },
      body,
    };
  }
  return { status: 200, headers: { ...base, 'Content-Length': size }, body: obj.body };
}

function etagMatches(condition: string, etag: string): boolean {
  return condition
    .split(',')
    .map((s) => s.trim())
    .some((c) => c === '*' || c === etag || `"${c}"` === etag || c.replace(/^W\//, '') === etag);
}

function modifiedSince(obj: StoredObject, date: string): boolean {
  const t = Date.parse(date);
  if (Number.isNaN(t)) return true;
  // HTTP dates have second resolution.
  return Math.floor(obj.lastModifiedMs / 1000) > Math.floor(t / 1000);
}

/** Handles one request already routed to S3. */
export function handleS3(backend: LabBackend, req: AwsRequest): AwsResponse {
  try {
    return route(backend, req);
  } catch (err) {
    if (err instanceof S3ApiError) return s3Error(req, err);
    const message = err instanceof Error ? err.message : String(err);
    return s3Error(req, new S3ApiError(500, 'InternalError', `We encountered an internal error: ${message}`));
  }
}

function route(backend: LabBackend, req: AwsRequest): AwsResponse {
  const { bucket, key } = target(req);
  const sub = subresource(req);
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (bucket === undefined) {
    if (req.method === 'GET' && !sub) return listBuckets(backend, req);
  } else if (key === undefined) {
    if (req.method === 'HEAD' && !sub) {
      requireBucket(backend, bucket);
      return { status: 200, headers: { ...commonHeaders(req), 'x-amz-bucket-region': backend.region } };
    }
    if (req.method === 'GET' && sub === 'location') {
      requireBucket(backend, bucket);
      return xml(
        req,
        elAttrs(
          'LocationConstraint',
          { xmlns: S3_NS },
          backend.region === 'us-east-1' ? undefined : backend.region,
        ),
      );
    }
    if (req.method === 'GET' && !sub) {
      requireBucket(backend, bucket);
      return req.query.get('list-type') === '2'
        ? listObjectsV2(backend, req, bucket)
        : listObjectsV1(backend, req, bucket);
    }
  } else if (read && !sub) {
    return getObject(backend, req, bucket, key);
  }
  const op = operationName(req, bucket, key);
  throw new S3ApiError(
    400,
    'NotImplemented',
    `The lab's S3 does not implement ${op} (${req.method} ${req.rawPath}); it serves ListBuckets, ListObjectsV2, ListObjects, GetObject, HeadObject, HeadBucket and GetBucketLocation`,
  );
}
