import { ExitCode, ThrottlescopeError } from './errors.js';

export interface AwsConnection {
  region?: string | undefined;
  profile?: string | undefined;
  /** An AWS-compatible endpoint (the lab's, LocalStack, MinIO); implies path-style S3. */
  endpointUrl?: string | undefined;
}

/** Config shared by every SDK v3 client: default credential chain, region, optional endpoint. */
export interface AwsClientConfig {
  region: string;
  profile?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

/**
 * Resolves region (flag > AWS_REGION > AWS_DEFAULT_REGION > us-east-1) and credentials: the SDK's
 * default chain, except that an endpoint override with no credentials in the environment gets
 * placeholder keys (the lab accepts any), so `--endpoint-url` works on a machine with no AWS setup.
 */
export async function awsClientConfig(
  conn: AwsConnection,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AwsClientConfig> {
  const region = conn.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const config: AwsClientConfig = { region, maxAttempts: 3 };
  if (conn.profile) config.profile = conn.profile;
  if (conn.endpointUrl) {
    config.endpoint = conn.endpointUrl;
    const hasEnvKeys = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
    if (!hasEnvKeys && !conn.profile && !env.AWS_PROFILE) {
      config.credentials = { accessKeyId: 'throttlescope', secretAccessKey: 'throttlescope' };
    }
  }
  return config;
}

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
};

/** Turns an SDK error into a one-line ThrottlescopeError naming the operation and AWS's reason. */
export function toRemoteError(error: unknown, operation: string): ThrottlescopeError {
  if (error instanceof ThrottlescopeError) return error;
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e.name ?? 'Error';
  const message = e.message ?? String(error);
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new ThrottlescopeError(
      'TS_AWS_NO_CREDENTIALS',
      `${operation}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or pass --profile, or --endpoint-url for the lab)`,
      { exitCode: ExitCode.remote, cause: error },
    );
  }
  if (/AccessDenied|UnauthorizedOperation|Forbidden/i.test(name) || e.$metadata?.httpStatusCode === 403) {
    const op = Object.keys(PERMISSION_HINTS).find((k) => operation.includes(k));
    const hint = op ? ` (the caller needs ${PERMISSION_HINTS[op]})` : '';
    return new ThrottlescopeError('TS_AWS_ACCESS_DENIED', `${operation}: access denied${hint}: ${message}`, {
      exitCode: ExitCode.remote,
      cause: error,
    });
  }
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return new ThrottlescopeError(
      'TS_AWS_UNREACHABLE',
      `${operation}: endpoint refused the connection (${message})`,
      {
        exitCode: ExitCode.remote,
        cause: error,
      },
    );
  }
  return new ThrottlescopeError('TS_AWS_ERROR', `${operation}: ${name}: ${message}`, {
    exitCode: ExitCode.remote,
    cause: error,
  });
}
