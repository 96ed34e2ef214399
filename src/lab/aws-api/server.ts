/**
 * The lab's AWS-compatible endpoint: one loopback port serving the Lambda, S3, CloudWatch,
 * Elastic Load Balancing v2 and Athena subsets throttlescope needs, on their real wire protocols, so the AWS SDK for JavaScript v3
 * and the aws CLI work against it with `endpoint` / `--endpoint-url`. Any credentials are
 * accepted; SigV4 is not verified, only its credential scope is read to route by service.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LabBackend } from '../backend.js';
import { handleAthena, looksLikeAthena } from './athena.js';
import { CLOUDFRONT_PATH, handleCloudFront } from './cloudfront.js';
import { handleCloudWatch, looksLikeCloudWatch } from './cloudwatch.js';
import { handleElbv2, looksLikeElbv2 } from './elbv2.js';
import {
  type AwsRequest,
  type AwsResponse,
  BodyTooLargeError,
  credentialScope,
  header,
  parseRequest,
  readBody,
  writeResponse,
} from './http.js';
import { handleLambda, LAMBDA_PATH, LambdaApiError, lambdaError } from './lambda.js';
import { handleS3 } from './s3.js';

export interface AwsEndpointOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 (the default) picks an ephemeral port. */
  port?: number;
}

export interface AwsEndpoint {
  /** `http://host:port`, to pass as the SDK's `endpoint` or the CLI's `--endpoint-url`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export type AwsService = 'lambda' | 's3' | 'cloudwatch' | 'elbv2' | 'athena' | 'cloudfront';

/** Which service a request is for: the SigV4 credential scope if present, else its shape. */
export function routeService(req: AwsRequest): AwsService {
  const scope = credentialScope(req);
  if (scope) {
    if (scope.service === 'lambda') return 'lambda';
    if (scope.service === 'monitoring' || scope.service === 'cloudwatch') return 'cloudwatch';
    if (scope.service === 's3') return 's3';
    if (scope.service === 'elasticloadbalancing') return 'elbv2';
    if (scope.service === 'athena') return 'athena';
    if (scope.service === 'cloudfront') return 'cloudfront';
  }
  if (looksLikeAthena(req)) return 'athena';
  if (CLOUDFRONT_PATH.test(req.rawPath)) return 'cloudfront';
  // Both are Query forms; only ELBv2's names its own API version.
  if (looksLikeElbv2(req)) return 'elbv2';
  if (looksLikeCloudWatch(req)) return 'cloudwatch';
  if (LAMBDA_PATH.test(req.rawPath) && header(req, 'x-amz-target') === undefined) return 'lambda';
  return 's3';
}

/** Serves one request; never throws (a failure becomes the service's error shape). */
export async function dispatch(backend: LabBackend, req: AwsRequest): Promise<AwsResponse> {
  switch (routeService(req)) {
    case 'lambda':
      return handleLambda(backend, req);
    case 'cloudwatch':
      return handleCloudWatch(backend, req);
    case 'elbv2':
      return handleElbv2(backend, req);
    case 'athena':
      return handleAthena(backend, req);
    case 'cloudfront':
      return handleCloudFront(backend, req);
    default:
      return handleS3(backend, req);
  }
}

export async function startAwsEndpoint(
  backend: LabBackend,
  opts: AwsEndpointOptions = {},
): Promise<AwsEndpoint> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(backend, req, res).catch((err: unknown) => {
      // Only a failure to write the response itself lands here; the socket is all we can fix.
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(err instanceof Error ? err.message : String(err));
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
        // Requests in flight get a moment to finish; then their sockets go too.
        setTimeout(() => server.closeAllConnections(), 1_000).unref();
      });
      return closing;
    },
  };
}

async function handle(backend: LabBackend, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch (err) {
    const parsed = parseRequest(req, Buffer.alloc(0));
    if (err instanceof BodyTooLargeError) {
      const response =
        routeService(parsed) === 'lambda'
          ? lambdaError(parsed, new LambdaApiError(413, 'RequestTooLargeException', err.message))
          : {
              status: 413,
              headers: { 'Content-Type': 'text/plain', Connection: 'close' },
              body: err.message,
            };
      writeResponse(res, parsed.method, response);
      return;
    }
    res.destroy();
    return;
  }
  const parsed = parseRequest(req, body);
  const response = await dispatch(backend, parsed);
  writeResponse(res, parsed.method, response);
}
