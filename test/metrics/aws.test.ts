import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { awsClientConfig, permissionFor, toRemoteError } from '../../src/common/aws.js';
import { ThrottlescopeError } from '../../src/common/errors.js';

const empty = () => mkdtempSync(join(tmpdir(), 'ts-aws-'));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('awsClientConfig', () => {
  it('resolves the region: flag > AWS_REGION > AWS_DEFAULT_REGION', async () => {
    const env = { HOME: empty(), AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' };
    expect((await awsClientConfig({ region: 'ap-south-1' }, env)).region).toBe('ap-south-1');
    expect((await awsClientConfig({}, env)).region).toBe('eu-west-1');
    expect((await awsClientConfig({}, { HOME: env.HOME, AWS_DEFAULT_REGION: 'us-west-2' })).region).toBe(
      'us-west-2',
    );
  });

  it("falls back to the profile's region from the AWS config file", async () => {
    const dir = empty();
    const config = join(dir, 'config');
    writeFileSync(config, '[profile dev]\nregion = ca-central-1\n[default]\nregion = sa-east-1\n');
    vi.stubEnv('AWS_CONFIG_FILE', config);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    const env = { HOME: dir, AWS_CONFIG_FILE: config };
    const dev = await awsClientConfig({ profile: 'dev' }, env);
    expect(dev).toMatchObject({ region: 'ca-central-1', profile: 'dev' });
    expect(dev.credentials).toBeUndefined();
    expect((await awsClientConfig({}, env)).region).toBe('sa-east-1');
  });

  it('refuses to guess a region for real AWS', async () => {
    await expect(awsClientConfig({}, { HOME: empty() })).rejects.toMatchObject({
      code: 'TS_AWS_NO_REGION',
      exitCode: 2,
      message: expect.stringMatching(/pass --region/),
    });
  });

  it('uses placeholder credentials for an endpoint override when none are configured', async () => {
    const c = await awsClientConfig({ endpointUrl: 'http://127.0.0.1:4566' }, { HOME: empty() });
    expect(c).toMatchObject({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', maxAttempts: 3 });
    expect(c.credentials).toEqual({ accessKeyId: 'throttlescope', secretAccessKey: 'throttlescope' });
    const fromEnv = await awsClientConfig(
      {},
      { HOME: empty(), AWS_ENDPOINT_URL: 'http://lab:1', AWS_REGION: 'eu-west-1' },
    );
    expect(fromEnv).toMatchObject({ endpoint: 'http://lab:1', region: 'eu-west-1' });
    expect(fromEnv.credentials).toBeDefined();
  });

  it('leaves credentials to the SDK chain when keys are in the environment', async () => {
    const env = {
      HOME: empty(),
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_REGION: 'eu-west-1',
    };
    expect((await awsClientConfig({ endpointUrl: 'http://x:1' }, env)).credentials).toBeUndefined();
    expect((await awsClientConfig({}, env)).credentials).toBeUndefined();
  });

  it('tries the chain, then placeholders, for an endpoint with a profile that has no keys', async () => {
    const dir = empty();
    const config = join(dir, 'config');
    writeFileSync(config, '[profile lab]\nregion = eu-west-1\n');
    vi.stubEnv('AWS_CONFIG_FILE', config);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'));
    vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    const c = await awsClientConfig(
      { profile: 'lab', endpointUrl: 'http://x:1' },
      { HOME: dir, AWS_CONFIG_FILE: config },
    );
    expect(c.region).toBe('eu-west-1');
    expect(typeof c.credentials).toBe('function');
    const creds = await (c.credentials as () => Promise<{ accessKeyId: string }>)();
    expect(creds.accessKeyId).toBe('throttlescope');
  });
});

describe('toRemoteError', () => {
  const awsError = (name: string, message: string, status?: number) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('names the missing permission on AccessDenied', () => {
    const e = toRemoteError(
      awsError(
        'AccessDeniedException',
        'User: arn:aws:iam::1:user/x is not authorized\nto perform: cloudwatch:GetMetricData',
        403,
      ),
      'CloudWatch GetMetricData',
    );
    expect(e).toBeInstanceOf(ThrottlescopeError);
    expect(e).toMatchObject({ code: 'TS_AWS_ACCESS_DENIED', exitCode: 4 });
    expect(e.message).toMatch(
      /^CloudWatch GetMetricData: the caller lacks cloudwatch:GetMetricData \(AccessDeniedException: /,
    );
    expect(e.message).not.toContain('\n');
    expect(
      toRemoteError(awsError('AccessDenied', 'no', 403), 'Lambda GetFunctionConcurrency api').message,
    ).toContain('lambda:GetFunctionConcurrency');
    expect(permissionFor('Lambda ListFunctions')).toBe('lambda:ListFunctions');
    expect(permissionFor('S3 GetObject s3://b/k')).toBe('s3:GetObject');
    expect(permissionFor('CloudFront GetDistributionConfig E123')).toBe('cloudfront:GetDistributionConfig');
    expect(permissionFor('Athena GetQueryResults 1234')).toBe('athena:GetQueryResults');
  });

  it('tells missing, rejected and throttled credentials and unreachable endpoints apart', () => {
    expect(
      toRemoteError(
        awsError('CredentialsProviderError', 'Could not load credentials from any providers'),
        'Lambda ListFunctions',
      ),
    ).toMatchObject({
      code: 'TS_AWS_NO_CREDENTIALS',
      message: expect.stringMatching(/^Lambda ListFunctions: no AWS credentials found/),
    });
    expect(
      toRemoteError(
        awsError(
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
          403,
        ),
        'Lambda ListFunctions',
      ).code,
    ).toBe('TS_AWS_BAD_CREDENTIALS');
    expect(
      toRemoteError(awsError('ThrottlingException', 'Rate exceeded', 400), 'CloudWatch GetMetricData').code,
    ).toBe('TS_AWS_THROTTLED');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(toRemoteError(refused, 'Lambda ListFunctions')).toMatchObject({
      code: 'TS_AWS_UNREACHABLE',
      exitCode: 4,
    });
    expect(toRemoteError(new Error('Region is missing'), 'Lambda ListFunctions').code).toBe(
      'TS_AWS_NO_REGION',
    );
    expect(toRemoteError(awsError('ValidationError', 'bad'), 'CloudWatch GetMetricData')).toMatchObject({
      code: 'TS_AWS_ERROR',
      message: 'CloudWatch GetMetricData: ValidationError: bad',
    });
    const already = new ThrottlescopeError('TS_INTERNAL', 'x');
    expect(toRemoteError(already, 'op')).toBe(already);
  });
});
