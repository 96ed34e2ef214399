import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** One parsed request, as every service handler sees it. */
export interface AwsRequest {
  method: string;
  /** The raw (still percent-encoded) path, without the query string. */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Host header without the port, lower-cased. */
  hostname: string;
  requestId: string;
}

export interface AwsResponse {
  status: number;
  headers?: Record<string, string | number | undefined> | undefined;
  body?: Buffer | string | undefined;
}

/** Largest body the endpoint reads (Lambda's synchronous payload limit is 6 MB; keep some slack). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body exceeds ${MAX_BODY_BYTES} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

export function parseRequest(req: IncomingMessage, body: Buffer): AwsRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  let rawPath = q < 0 ? url : url.slice(0, q);
  // Absolute-form request targets (through a proxy): keep only the path.
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(rawPath);
  if (abs) rawPath = rawPath.slice(abs[0].length) || '/';
  const host = (req.headers.host ?? '').toLowerCase();
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    rawPath,
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers: req.headers,
    body,
    hostname: stripPort(host),
    requestId: randomUUID(),
  };
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

export function header(req: AwsRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Decodes one percent-encoded path component; undefined when it is malformed. */
export function decodePathComponent(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export function writeResponse(res: ServerResponse, method: string, r: AwsResponse): void {
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  const headers: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) headers[k] = v;
  const hasLength = Object.keys(headers).some((k) => k.toLowerCase() === 'content-length');
  if (!hasLength && r.status !== 204 && r.status !== 304) headers['Content-Length'] = body?.length ?? 0;
  res.writeHead(r.status, headers);
  if (method === 'HEAD' || body === undefined || r.status === 204 || r.status === 304) res.end();
  else res.end(body);
}

/** What the Authorization header (or a presigned URL) says about the target: `.../<region>/<service>/aws4_request`. */
export function credentialScope(req: AwsRequest): { region: string; service: string } | undefined {
  const auth = header(req, 'authorization');
  let cred: string | undefined;
  if (auth) cred = /Credential=([^,\s]+)/.exec(auth)?.[1];
  cred ??= req.query.get('X-Amz-Credential') ?? undefined;
  if (!cred) return undefined;
  const parts = cred.split('/');
  // <key>/<date>/<region>/<service>/aws4_request
  if (parts.length < 5 || parts[parts.length - 1] !== 'aws4_request') return undefined;
  return { region: parts[parts.length - 3]!, service: parts[parts.length - 2]! };
}

/** RFC 7231 date, as S3's Last-Modified and Lambda's headers use. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** ISO 8601 with milliseconds, as the XML protocols write timestamps. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
