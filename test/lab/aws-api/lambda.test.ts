import {
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  PutFunctionConcurrencyCommand,
  paginateListFunctions,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import {
  ACCOUNT,
  caught,
  createMemoryBackend,
  type MemoryBackend,
  REGION,
} from '../../helpers/memory-backend.js';

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let lambda: LambdaClient;

beforeAll(async () => {
  backend = createMemoryBackend();
  for (const n of ['api', 'web', 'noisy', 'worker', 'zeta']) backend.addFunction(n);
  backend.addFunction('reserved-fn', 5);
  backend.addFunction('zero', 0);
  endpoint = await startAwsEndpoint(backend, { port: 0 });
  lambda = new LambdaClient({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  lambda.destroy();
  await endpoint.close();
});

describe('Lambda API', () => {
  it('lists functions in pages with Marker/MaxItems', async () => {
    const first = await lambda.send(new ListFunctionsCommand({ MaxItems: 3 }));
    expect(first.Functions?.map((f) => f.FunctionName)).toEqual(['api', 'noisy', 'reserved-fn']);
    expect(first.NextMarker).toBeTruthy();
    const names: string[] = [];
    for await (const page of paginateListFunctions({ client: lambda, pageSize: 2 }, {})) {
      expect(page.Functions!.length).toBeLessThanOrEqual(2);
      names.push(...page.Functions!.map((f) => f.FunctionName!));
    }
    expect(names).toEqual(['api', 'noisy', 'reserved-fn', 'web', 'worker', 'zero', 'zeta']);
    const all = await lambda.send(new ListFunctionsCommand({}));
    expect(all.Functions).toHaveLength(7);
    expect(all.NextMarker).toBeUndefined();
    const f = all.Functions![0]!;
    expect(f.FunctionArn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:api`);
    expect(f).toMatchObject({
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 30,
      Version: '$LATEST',
    });
  });

  it('refuses a malformed marker', async () => {
    const err = await caught(lambda.send(new ListFunctionsCommand({ Marker: 'garbage' })));
    expect(err.name).toBe('InvalidParameterValueException');
  });

  it('gets a function by name and by ARN, with its reserved concurrency', async () => {
    const byName = await lambda.send(new GetFunctionCommand({ FunctionName: 'reserved-fn' }));
    expect(byName.Configuration?.FunctionName).toBe('reserved-fn');
    expect(byName.Concurrency?.ReservedConcurrentExecutions).toBe(5);
    expect(byName.Code?.RepositoryType).toBe('S3');
    const byArn = await lambda.send(
      new GetFunctionCommand({ FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:api` }),
    );
    expect(byArn.Configuration?.FunctionName).toBe('api');
    expect(byArn.Concurrency).toBeUndefined();
  });

  it('answers ResourceNotFoundException (404) for an unknown function', async () => {
    const err = await caught(lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })));
    expect(err.name).toBe('ResourceNotFoundException');
    expect(err.message).toBe(`Function not found: arn:aws:lambda:${REGION}:${ACCOUNT}:function:nope`);
    expect((err.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(404);
    const q = await caught(lambda.send(new GetFunctionCommand({ FunctionName: 'api', Qualifier: '7' })));
    expect(q.name).toBe('ResourceNotFoundException');
  });

  it('reports account settings', async () => {
    const s = await lambda.send(new GetAccountSettingsCommand({}));
    expect(s.AccountLimit?.ConcurrentExecutions).toBe(50);
    expect(s.AccountLimit?.UnreservedConcurrentExecutions).toBe(45);
    expect(s.AccountUsage?.FunctionCount).toBe(7);
    expect(s.AccountUsage?.TotalCodeSize).toBe(0);
  });

  it('gets, puts and deletes reserved concurrency', async () => {
    expect(
      (await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'web' })))
        .ReservedConcurrentExecutions,
    ).toBeUndefined();
    const put = await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'web', ReservedConcurrentExecutions: 7 }),
    );
    expect(put.ReservedConcurrentExecutions).toBe(7);
    expect(backend.pool.reservedOf('web')).toBe(7);
    const got = await lambda.send(
      new GetFunctionConcurrencyCommand({ FunctionName: `${ACCOUNT}:function:web` }),
    );
    expect(got.ReservedConcurrentExecutions).toBe(7);
    const del = await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'web' }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect(backend.pool.reservedOf('web')).toBeUndefined();
  });

  it('refuses a reservation that leaves less than the unreserved minimum, as AWS does', async () => {
    // 50 - 10 minimum - 5 (reserved-fn) - 0 (zero) = 35 reservable.
    const err = await caught(
      lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'web', ReservedConcurrentExecutions: 36 }),
      ),
    );
    expect(err.name).toBe('InvalidParameterValueException');
    expect(err.message).toBe(
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [10].",
    );
    expect((err.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
    expect(err.Type).toBe('User');
    expect(backend.pool.reservedOf('web')).toBeUndefined();
    const ok = await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'web', ReservedConcurrentExecutions: 35 }),
    );
    expect(ok.ReservedConcurrentExecutions).toBe(35);
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'web' }));
  });

  it('refuses concurrency changes for unknown functions with 404', async () => {
    const err = await caught(
      lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'ghost', ReservedConcurrentExecutions: 1 }),
      ),
    );
    expect(err.name).toBe('ResourceNotFoundException');
  });

  it('invokes synchronously, asynchronously and as a dry run', async () => {
    const sync = await lambda.send(
      new InvokeCommand({ FunctionName: 'api', Payload: Buffer.from(JSON.stringify({ hello: 'world' })) }),
    );
    expect(sync.StatusCode).toBe(200);
    expect(sync.ExecutedVersion).toBe('$LATEST');
    expect(sync.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(sync.Payload!).toString('utf8'))).toEqual({ echo: { hello: 'world' } });

    const failed = await lambda.send(
      new InvokeCommand({ FunctionName: 'api', Payload: Buffer.from('{"fail":true}') }),
    );
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(failed.Payload!).toString('utf8')).errorMessage).toBe('boom');

    const ev = await lambda.send(
      new InvokeCommand({ FunctionName: 'api', InvocationType: 'Event', Payload: Buffer.from('{}') }),
    );
    expect(ev.StatusCode).toBe(202);
    const dry = await lambda.send(new InvokeCommand({ FunctionName: 'api', InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    expect(backend.invocations.map((i) => i.type)).toEqual([
      'RequestResponse',
      'RequestResponse',
      'Event',
      'DryRun',
    ]);
  });

  it('answers a throttled invoke with 429 TooManyRequestsException, as AWS does', async () => {
    const err = await caught(
      lambda.send(new InvokeCommand({ FunctionName: 'zero', Payload: Buffer.from('{}') })),
    );
    expect(err.name).toBe('TooManyRequestsException');
    expect(err.message).toBe('Rate Exceeded.');
    expect(err.Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(err.Type).toBe('User');
    expect((err.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(429);

    const raw = await fetch(`${endpoint.url}/2015-03-31/functions/zero/invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(await raw.json()).toEqual({
      Type: 'User',
      message: 'Rate Exceeded.',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      retryAfterSeconds: 1,
    });
  });

  it('names an unsupported operation in its error', async () => {
    const res = await fetch(`${endpoint.url}/2015-03-31/functions/api/versions`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const body = (await res.json()) as { message: string; Type: string };
    expect(body.Type).toBe('User');
    expect(body.message).toContain('ListVersionsByFunction');
  });

  it('accepts a URL-encoded ARN in the path', async () => {
    const arn = encodeURIComponent(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:worker`);
    const res = await fetch(`${endpoint.url}/2019-09-30/functions/${arn}/concurrency`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });
});
