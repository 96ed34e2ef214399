/**
 * Shared AWS SDK v3 client configuration and error mapping. Every command that talks to AWS (or to
 * an AWS-compatible endpoint such as the lab's) builds its clients from `awsClientConfig` and turns
 * SDK failures into one-line `ThrottlescopeError`s with `toRemoteError`.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ErrorCode, ThrottlescopeError } from './errors.js';

export interface AwsConnection {
  /** --region: wins over AWS_REGION, AWS_DEFAULT_REGION and the profile's region. */
  region?: string | undefined;
  /** --profile: a named profile of ~/.aws/config and ~/.aws/credentials (as AWS_PROFILE). */
  profile?: string | undefined;
  /** An AWS-compatible endpoint (the lab's, LocalStack, MinIO); implies path-style S3. */
  endpointUrl?: string | undefined;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
  expiration?: Date | undefined;
}

/** Config shared by every SDK v3 client: default credential chain, region, optional endpoint. */
export interface AwsClientConfig {
  region: string;
  profile?: string;
  endpoint?: string;
  /** Unset: the SDK's default chain. Set only for endpoint overrides (see awsClientConfig). */
  credentials?: AwsCredentials | (() => Promise<AwsCredentials>);
  maxAttempts: number;
}

/**
 * The lab accepts any credentials; these are used only with an endpoint override and nothing else
 * found. A fresh object each time: the SDK annotates the credentials object it is given.
 */
export function placeholderCredentials(): AwsCredentials {
  return { accessKeyId: 'throttlescope', secretAccessKey: 'throttlescope' };
}

/**
 * The one rule for "are AWS credentials likely to be found": where the SDK's default chain could
 * find them without a network round trip (IMDS is not tried). Used to decide whether to read
 * CloudWatch at all (diagnose) and whether an endpoint override needs placeholder keys.
 */
export function credentialSourcesPresent(env: NodeJS.ProcessEnv, profile: string | undefined): boolean {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true;
  if (profile || env.AWS_PROFILE) return true;
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true;
  const home = env.HOME ?? homedir();
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'),
    env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'),
  ];
  return files.some((f) => existsSync(f));
}

/** The region a profile names in ~/.aws/config, read by the SDK's own loader. */
async function profileRegion(profile: string | undefined): Promise<string | undefined> {
  try {
    const { LambdaClient } = await import('@aws-sdk/client-lambda');
    const probe = new LambdaClient(profile ? { profile } : {});
    try {
      return await probe.config.region();
    } finally {
      probe.destroy();
    }
  } catch {
    return undefined;
  }
}

/** The SDK's default credential chain, as a client would resolve it, falling back to placeholders. */
function chainOrPlaceholder(region: string, profile: string | undefined): () => Promise<AwsCredentials> {
  let resolved: Promise<AwsCredentials> | undefined;
  return () => {
    resolved ??= (async () => {
      try {
        const { LambdaClient } = await import('@aws-sdk/client-lambda');
        const probe = new LambdaClient(profile ? { region, profile } : { region });
        try {
          const provider = probe.config.credentials as unknown as () => Promise<AwsCredentials>;
          return await provider();
        } finally {
          probe.destroy();
        }
      } catch {
        return placeholderCredentials();
      }
    })();
    return resolved;
  };
}

/**
 * Builds the config for an SDK v3 client.
 * - Region: `conn.region` > AWS_REGION > AWS_DEFAULT_REGION > the profile's `region` > (only with an
 *   endpoint override) us-east-1; otherwise a TS_AWS_NO_REGION error.
 * - Credentials: the SDK's default chain (env, SSO, ini/profile, process, web identity, ECS, IMDS)
 *   with `profile` honoured. With an endpoint override (`conn.endpointUrl` or AWS_ENDPOINT_URL) and no
 *   credentials found, placeholder keys, so `--endpoint-url` works on a machine with no AWS setup.
 */
export async function awsClientConfig(
  conn: AwsConnection,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AwsClientConfig> {
  const profile = conn.profile || undefined;
  const endpoint = conn.endpointUrl || env.AWS_ENDPOINT_URL || undefined;
  let region = conn.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  if (!region && (profile || env.AWS_PROFILE || credentialSourcesPresent(env, profile))) {
    region = await profileRegion(profile);
  }
  if (!region) {
    if (!endpoint) {
      throw new ThrottlescopeError(
        'TS_AWS_NO_REGION',
        `no AWS region: pass --region, set AWS_REGION, or set a region in the ${profile ? `"${profile}"` : 'default'} profile`,
      );
    }
    region = 'us-east-1';
  }
  const config: AwsClientConfig = { region, maxAttempts: 3 };
  if (profile) config.profile = profile;
  if (endpoint) {
    config.endpoint = endpoint;
    if (!(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)) {
      config.credentials = credentialSourcesPresent(env, profile)
        ? chainOrPlaceholder(region, profile)
        : placeholderCredentials();
    }
  }
  return config;
}

/** The IAM action behind each API operation, to name it when access is denied. */
const PERMISSION_HINTS: Record<string, string> = {
  ListObjectsV2: 's3:ListBucket',
  GetObject: 's3:GetObject',
  GetMetricData: 'cloudwatch:GetMetricData',
  ListMetrics: 'cloudwatch:ListMetrics',
  ListFunctions: 'lambda:ListFunctions',
  GetAccountSettings: 'lambda:GetAccountSettings',
  GetFunctionConcurrency: 'lambda:GetFunctionConcurrency',
  PutFunctionConcurrency: 'lambda:PutFunctionConcurrency',
  DeleteFunctionConcurrency: 'lambda:DeleteFunctionConcurrency',
  DescribeTargetGroups: 'elasticloadbalancing:DescribeTargetGroups',
  DescribeTargetHealth: 'elasticloadbalancing:DescribeTargetHealth',
  GetDistributionConfig: 'cloudfront:GetDistributionConfig',
  StartQueryExecution: 'athena:StartQueryExecution',
  GetQueryExecution: 'athena:GetQueryExecution',
  GetQueryResults: 'athena:GetQueryResults',
  StopQueryExecution: 'athena:StopQueryExecution',
  GetTableMetadata: 'athena:GetTableMetadata',
};

/** The IAM permission an operation needs (`cloudwatch:GetMetricData`), if known. */
export function permissionFor(operation: string): string | undefined {
  const op = Object.keys(PERMISSION_HINTS).find((k) => new RegExp(`\\b${k}\\b`).test(operation));
  return op ? PERMISSION_HINTS[op] : undefined;
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

const ACCESS_DENIED =
  /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|Forbidden|UnauthorizedException)$/;
const BAD_CREDENTIALS =
  /^(InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|InvalidAccessKeyId|InvalidSignatureException|ExpiredToken|ExpiredTokenException|IncompleteSignature|AuthFailure)$/;
const THROTTLED = /^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded|SlowDown)$/;
const NETWORK =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+)$/;

/**
 * Turns an SDK error into a one-line ThrottlescopeError (exit 4) naming the operation and AWS's
 * reason. Codes: TS_AWS_NO_CREDENTIALS, TS_AWS_BAD_CREDENTIALS, TS_AWS_ACCESS_DENIED (names the
 * missing permission), TS_AWS_NO_REGION, TS_AWS_THROTTLED, TS_AWS_UNREACHABLE, TS_AWS_ERROR.
 */
export function toRemoteError(error: unknown, operation: string): ThrottlescopeError {
  if (error instanceof ThrottlescopeError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: string;
    message?: string;
    code?: string;
    Code?: string;
    cause?: { code?: string; message?: string };
    $metadata?: { httpStatusCode?: number };
  };
  const name = e.Code ?? e.name ?? 'Error';
  const message = oneLine(e.message ?? String(error));
  const status = e.$metadata?.httpStatusCode;
  const make = (code: ErrorCode, text: string) => new ThrottlescopeError(code, text, { cause: error });

  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return make(
      'TS_AWS_NO_CREDENTIALS',
      `${operation}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pass --profile, or --endpoint-url for the lab)`,
    );
  }
  if (/Region is missing/i.test(message)) {
    return make('TS_AWS_NO_REGION', `${operation}: no AWS region: pass --region or set AWS_REGION`);
  }
  if (BAD_CREDENTIALS.test(name)) {
    return make('TS_AWS_BAD_CREDENTIALS', `${operation}: AWS rejected the credentials (${name}: ${message})`);
  }
  if (ACCESS_DENIED.test(name) || status === 403) {
    const permission = permissionFor(operation);
    const hint = permission ? `the caller lacks ${permission}` : 'access denied';
    return make('TS_AWS_ACCESS_DENIED', `${operation}: ${hint} (${name}: ${message})`);
  }
  if (THROTTLED.test(name) || status === 429) {
    return make(
      'TS_AWS_THROTTLED',
      `${operation}: AWS throttled the request after retries (${name}: ${message})`,
    );
  }
  const netCode = e.code ?? e.cause?.code ?? '';
  if (NETWORK.test(netCode) || NETWORK.test(name) || /ECONNREFUSED|ENOTFOUND|getaddrinfo/.test(message)) {
    const detail = message && (!netCode || message.includes(netCode)) ? message : `${netCode}: ${message}`;
    return make(
      'TS_AWS_UNREACHABLE',
      `${operation}: cannot reach the endpoint (${detail || netCode || name})`,
    );
  }
  return make('TS_AWS_ERROR', `${operation}: ${name}: ${message}`);
}
