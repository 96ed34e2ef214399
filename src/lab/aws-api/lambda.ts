/**
 * The Lambda API subset, on its real wire protocol (REST-JSON): errors carry their type in the
 * `x-amzn-ErrorType` header and `{"Type", "message"}` in the body, as Lambda sends them.
 */
import { createHash } from 'node:crypto';
import type { LabBackend, LabFunctionInfo, LabInvokeResult } from '../backend.js';
import {
  type AwsRequest,
  type AwsResponse,
  decodePathComponent,
  decodeToken,
  encodeToken,
  header,
} from './http.js';

/** Path prefixes (API versions) that belong to Lambda's REST API. */
export const LAMBDA_PATH =
  /^\/(2014-11-13|2015-03-31|2016-08-19|2017-03-31|2017-10-31|2018-10-31|2019-09-25|2019-09-30|2020-04-22|2020-06-30|2021-10-31)(\/|$)/;

/** Largest synchronous Invoke payload AWS accepts. */
export const MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024;

const DEFAULT_PAGE = 50;
const MAX_PAGE = 10_000;

export class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = type;
  }
}

export function lambdaError(req: AwsRequest, err: LambdaApiError): AwsResponse {
  const body = { Type: err.status >= 500 ? 'Service' : 'User', message: err.message, ...err.extra };
  return json(req, err.status, body, { 'x-amzn-ErrorType': err.type });
}

function json(
  req: AwsRequest,
  status: number,
  body: unknown,
  headers: Record<string, string | number | undefined> = {},
): AwsResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json', 'x-amzn-RequestId': req.requestId, ...headers },
    body: status === 204 ? undefined : JSON.stringify(body),
  };
}

function functionArn(backend: LabBackend, name: string): string {
  return `arn:aws:lambda:${backend.region}:${backend.accountId}:function:${name}`;
}

function notFound(backend: LabBackend, name: string, qualifier?: string): LambdaApiError {
  const arn = functionArn(backend, name) + (qualifier ? `:${qualifier}` : '');
  return new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
}

/** A name, `name:qualifier`, a partial ARN `account:function:name`, or a full ARN. */
export function parseFunctionName(raw: string): { name: string; qualifier?: string | undefined } {
  const parts = raw.split(':');
  let rest: string[];
  if (parts[0] === 'arn' && parts.length >= 7 && parts[5] === 'function') rest = parts.slice(6);
  else if (parts.length >= 3 && parts[1] === 'function') rest = parts.slice(2);
  else rest = parts;
  return { name: rest[0] ?? '', qualifier: rest[1] };
}

function resolveFunction(backend: LabBackend, raw: string, qualifierParam?: string | null): LabFunctionInfo {
  const { name, qualifier: fromName } = parseFunctionName(raw);
  const qualifier = fromName ?? qualifierParam ?? undefined;
  const fn = name ? backend.lambda.getFunction(name) : undefined;
  if (!fn) throw notFound(backend, name || raw, qualifier);
  // The lab has no published versions or aliases: only $LATEST exists.
  if (qualifier !== undefined && qualifier !== '$LATEST') throw notFound(backend, fn.name, qualifier);
  return fn;
}

function configuration(backend: LabBackend, fn: LabFunctionInfo): Record<string, unknown> {
  const digest = createHash('sha256').update(`${fn.name}\0${fn.handler}\0${fn.lastModified}`).digest();
  const hex = digest.toString('hex');
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime: fn.runtime,
    Role: `arn:aws:iam::${backend.accountId}:role/${fn.name}-lab-role`,
    Handler: fn.handler,
    CodeSize: 0,
    Description: 'throttlescope lab function',
    Timeout: fn.timeoutSec,
    MemorySize: fn.memoryMb,
    LastModified: fn.lastModified,
    CodeSha256: digest.toString('base64'),
    Version: '$LATEST',
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  };
}

function parsePositiveInt(value: string | null, field: string, max: number): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new LambdaApiError(
      400,
      'InvalidParameterValueException',
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    );
  }
  return n;
}

function listFunctions(backend: LabBackend, req: AwsRequest): AwsResponse {
  const max = parsePositiveInt(req.query.get('MaxItems'), 'maxItems', MAX_PAGE) ?? DEFAULT_PAGE;
  const all = [...backend.lambda.listFunctions()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  let start = 0;
  const marker = req.query.get('Marker');
  if (marker) {
    const decoded = decodeToken(marker) as { after?: unknown } | undefined;
    if (!decoded || typeof decoded.after !== 'string') {
      throw new LambdaApiError(400, 'InvalidParameterValueException', `Invalid marker: ${marker}`);
    }
    const after = decoded.after;
    start = all.findIndex((f) => f.name > after);
    if (start < 0) start = all.length;
  }
  const page = all.slice(start, start + max);
  const more = start + max < all.length;
  return json(req, 200, {
    Functions: page.map((f) => configuration(backend, f)),
    ...(more ? { NextMarker: encodeToken({ after: page[page.length - 1]!.name }) } : {}),
  });
}

function accountSettings(backend: LabBackend, req: AwsRequest): AwsResponse {
  const acct = backend.lambda.account();
  return json(req, 200, {
    AccountLimit: {
      TotalCodeSize: 80_530_636_800,
      CodeSizeUnzipped: 262_144_000,
      CodeSizeZipped: 52_428_800,
      ConcurrentExecutions: acct.concurrentExecutionsLimit,
      UnreservedConcurrentExecutions: acct.unreservedConcurrentExecutions,
    },
    AccountUsage: { TotalCodeSize: 0, FunctionCount: acct.functionCount },
  });
}

function parseJsonBody(req: AwsRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const v = JSON.parse(req.body.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new LambdaApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
}

/** Maps an error the backend threw to Lambda's shape (PoolConfigError carries `awsCode`). */
function backendError(err: unknown): LambdaApiError {
  if (err instanceof LambdaApiError) return err;
  const awsCode = (err as { awsCode?: unknown } | null)?.awsCode;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof awsCode === 'string') {
    const status =
      awsCode === 'ResourceNotFoundException'
        ? 404
        : awsCode === 'TooManyRequestsException'
          ? 429
          : awsCode === 'ResourceConflictException'
            ? 409
            : awsCode.startsWith('Service') || awsCode.endsWith('Fault')
              ? 500
              : 400;
    return new LambdaApiError(status, awsCode, message);
  }
  return new LambdaApiError(500, 'ServiceException', message);
}

function putConcurrency(backend: LabBackend, req: AwsRequest, fn: LabFunctionInfo): AwsResponse {
  const body = parseJsonBody(req);
  const value = body.ReservedConcurrentExecutions;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new LambdaApiError(
      400,
      'InvalidParameterValueException',
      value === undefined
        ? 'ReservedConcurrentExecutions is required.'
        : `1 validation error detected: Value '${String(value)}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0`,
    );
  }
  try {
    backend.lambda.putReserved(fn.name, value);
  } catch (err) {
    throw backendError(err);
  }
  return json(req, 200, { ReservedConcurrentExecutions: value });
}

async function invoke(backend: LabBackend, req: AwsRequest, fn: LabFunctionInfo): Promise<AwsResponse> {
  const typeHeader = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (typeHeader !== 'RequestResponse' && typeHeader !== 'Event' && typeHeader !== 'DryRun') {
    throw new LambdaApiError(
      400,
      'InvalidParameterValueException',
      `1 validation error detected: Value '${typeHeader}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
    );
  }
  const limit = typeHeader === 'Event' ? 256 * 1024 : MAX_INVOKE_PAYLOAD;
  if (req.body.length > limit) {
    throw new LambdaApiError(
      413,
      'RequestTooLargeException',
      typeHeader === 'Event'
        ? 'Request must be smaller than 262144 bytes for the InvokeAsync operation'
        : 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    );
  }
  let result: LabInvokeResult;
  try {
    result = await backend.lambda.invoke(fn.name, req.body, typeHeader);
  } catch (err) {
    throw backendError(err);
  }
  if (result.statusCode >= 400) {
    const type =
      result.error?.type ?? (result.statusCode === 429 ? 'TooManyRequestsException' : 'ServiceException');
    const message =
      result.error?.message ?? (result.statusCode === 429 ? 'Rate Exceeded.' : 'Internal error');
    const extra: Record<string, unknown> = {};
    if (result.error?.reason !== undefined) extra.Reason = result.error.reason;
    const headers: Record<string, string | number> = {};
    if (result.statusCode === 429) {
      const retry = (result.error as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
      const seconds = typeof retry === 'number' ? retry : 1;
      extra.retryAfterSeconds = seconds;
      headers['Retry-After'] = seconds;
    }
    const err = new LambdaApiError(result.statusCode, type, message, extra);
    const res = lambdaError(req, err);
    return { ...res, headers: { ...res.headers, ...headers } };
  }
  const headers: Record<string, string | number | undefined> = {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': req.requestId,
    'X-Amz-Executed-Version':
      result.executedVersion ?? (typeHeader === 'RequestResponse' ? '$LATEST' : undefined),
    'X-Amz-Function-Error': result.functionError,
  };
  const status = result.statusCode;
  return { status, headers, body: status === 204 ? undefined : result.payload };
}

/** Names of Lambda operations the lab does not serve, to say which one was asked for. */
const UNSUPPORTED: [string, RegExp, string][] = [
  ['POST', /^\/2015-03-31\/functions\/?$/, 'CreateFunction'],
  ['DELETE', /^\/2015-03-31\/functions\/[^/]+\/?$/, 'DeleteFunction'],
  ['PUT', /^\/2015-03-31\/functions\/[^/]+\/configuration\/?$/, 'UpdateFunctionConfiguration'],
  ['PUT', /^\/2015-03-31\/functions\/[^/]+\/code\/?$/, 'UpdateFunctionCode'],
  ['GET', /^\/2015-03-31\/functions\/[^/]+\/versions\/?$/, 'ListVersionsByFunction'],
  ['POST', /^\/2015-03-31\/functions\/[^/]+\/versions\/?$/, 'PublishVersion'],
  ['GET', /^\/2015-03-31\/functions\/[^/]+\/aliases\/?$/, 'ListAliases'],
  ['GET', /^\/2015-03-31\/functions\/[^/]+\/aliases\/[^/]+$/, 'GetAlias'],
  ['GET', /^\/2015-03-31\/functions\/[^/]+\/policy\/?$/, 'GetPolicy'],
  ['POST', /^\/2015-03-31\/functions\/[^/]+\/policy\/?$/, 'AddPermission'],
  ['GET', /^\/2015-03-31\/event-source-mappings\/?$/, 'ListEventSourceMappings'],
  ['GET', /^\/2017-03-31\/tags\/.+$/, 'ListTags'],
  ['GET', /^\/2019-09-30\/functions\/[^/]+\/provisioned-concurrency\/?$/, 'GetProvisionedConcurrencyConfig'],
  ['PUT', /^\/2019-09-30\/functions\/[^/]+\/provisioned-concurrency\/?$/, 'PutProvisionedConcurrencyConfig'],
  ['POST', /^\/2014-11-13\/functions\/[^/]+\/invoke-async\/?$/, 'InvokeAsync'],
  ['POST', /^\/2021-11-15\/functions\/[^/]+\/response-streaming-invocations$/, 'InvokeWithResponseStream'],
];

/** Handles one request already routed to Lambda. */
export async function handleLambda(backend: LabBackend, req: AwsRequest): Promise<AwsResponse> {
  try {
    return await route(backend, req);
  } catch (err) {
    return lambdaError(req, backendError(err));
  }
}

async function route(backend: LabBackend, req: AwsRequest): Promise<AwsResponse> {
  const { method, rawPath } = req;
  const segs = rawPath.split('/').slice(1);
  if (segs.length > 1 && segs[segs.length - 1] === '') segs.pop();
  const [version, collection, rawName, sub, ...more] = segs;
  const name = rawName === undefined ? undefined : decodePathComponent(rawName);
  if (rawName !== undefined && name === undefined) {
    throw new LambdaApiError(
      400,
      'InvalidParameterValueException',
      `Malformed function name in path ${rawPath}`,
    );
  }
  if (more.length === 0) {
    if (
      version === '2016-08-19' &&
      collection === 'account-settings' &&
      rawName === undefined &&
      method === 'GET'
    ) {
      return accountSettings(backend, req);
    }
    if (collection === 'functions') {
      if (version === '2015-03-31' && rawName === undefined && method === 'GET')
        return listFunctions(backend, req);
      if (name !== undefined) {
        if (version === '2015-03-31' && sub === undefined && method === 'GET') {
          const fn = resolveFunction(backend, name, req.query.get('Qualifier'));
          const reserved = fn.reserved;
          return json(req, 200, {
            Configuration: configuration(backend, fn),
            Code: {
              RepositoryType: 'S3',
              Location: `https://awslambda-${backend.region}-tasks.s3.amazonaws.com/lab/${fn.name}`,
            },
            ...(reserved !== undefined ? { Concurrency: { ReservedConcurrentExecutions: reserved } } : {}),
          });
        }
        if (version === '2015-03-31' && sub === 'configuration' && method === 'GET') {
          return json(
            req,
            200,
            configuration(backend, resolveFunction(backend, name, req.query.get('Qualifier'))),
          );
        }
        if (version === '2015-03-31' && sub === 'invocations' && method === 'POST') {
          return invoke(backend, req, resolveFunction(backend, name, req.query.get('Qualifier')));
        }
        if (sub === 'concurrency') {
          if (version === '2019-09-30' && method === 'GET') {
            const fn = resolveFunction(backend, name);
            return json(
              req,
              200,
              fn.reserved === undefined ? {} : { ReservedConcurrentExecutions: fn.reserved },
            );
          }
          if (version === '2017-10-31' && method === 'PUT')
            return putConcurrency(backend, req, resolveFunction(backend, name));
          if (version === '2017-10-31' && method === 'DELETE') {
            const fn = resolveFunction(backend, name);
            try {
              backend.lambda.deleteReserved(fn.name);
            } catch (err) {
              throw backendError(err);
            }
            return json(req, 204, undefined);
          }
        }
      }
    }
  }
  const known = UNSUPPORTED.find(([m, re]) => m === method && re.test(rawPath));
  const what = known ? `${known[2]} (${method} ${rawPath})` : `${method} ${rawPath}`;
  throw new LambdaApiError(
    404,
    'UnknownOperationException',
    `Unknown operation: the lab's Lambda API does not support ${what}`,
  );
}
