/**
 * The lab's Athena driven by the real AWS SDK v3 client over HTTP: the AWS-documented ALB table
 * (our generator's text) made with CREATE EXTERNAL TABLE, queried over ALB logs stored in the lab's
 * S3; states, paging, stopping, and the errors the SDK turns into its exception classes.
 */
import { gzipSync } from 'node:zlib';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  InvalidRequestException,
  paginateGetQueryResults,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAthena } from '../../../src/lab/aws-api/athena.js';
import { type AwsEndpoint, routeService, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { albAthenaDdl } from '../../../src/logs/athena/ddl.js';
import { albLogDayPrefix } from '../../../src/logs/s3-key.js';
import { DOC_LAMBDA_FAILED, lambdaLine, TG_WEB } from '../../helpers/alb-lines.js';
import {
  ACCOUNT,
  albLogsRoot,
  caught,
  createMemoryBackend,
  type MemoryBackend,
  REGION,
} from '../../helpers/memory-backend.js';

const BUCKET = 'alb-logs';
const ROOT = albLogsRoot(BUCKET);
const OUTPUT = 's3://athena-results/lab/';
const DAY1 = Date.UTC(2024, 4, 1, 12, 0, 0);
const DAY2 = Date.UTC(2024, 4, 2, 9, 30, 0);

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let athena: AthenaClient;

async function waitFor(id: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const out = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = out.QueryExecution?.Status?.State as string;
    if (state !== 'QUEUED' && state !== 'RUNNING') return state;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('query did not finish');
}

async function run(sql: string, database = 'alb'): Promise<{ id: string; state: string }> {
  const out = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      QueryExecutionContext: { Database: database },
      ResultConfiguration: { OutputLocation: OUTPUT },
    }),
  );
  const id = out.QueryExecutionId as string;
  return { id, state: await waitFor(id) };
}

async function rows(id: string): Promise<(string | undefined)[][]> {
  const all: (string | undefined)[][] = [];
  for await (const page of paginateGetQueryResults({ client: athena }, { QueryExecutionId: id })) {
    for (const r of page.ResultSet?.Rows ?? []) all.push((r.Data ?? []).map((d) => d.VarCharValue));
  }
  return all;
}

beforeAll(async () => {
  backend = createMemoryBackend();
  // Day 1: 3 entries (one throttled) in one gzip object, plus a line the AWS regex does not match.
  const day1 = [
    lambdaLine(DAY1),
    lambdaLine(DAY1 + 1000, { reason: 'LambdaThrottling' }),
    lambdaLine(DAY1 + 61_000, { tg: TG_WEB }),
    'not an ALB line',
  ].join('\n');
  backend.addObject(BUCKET, `${albLogDayPrefix('', ACCOUNT, REGION, DAY1)}a.log.gz`, gzipSync(`${day1}\n`));
  // Day 2: the AWS documentation's failed Lambda entry, plain text.
  backend.addObject(BUCKET, `${albLogDayPrefix('', ACCOUNT, REGION, DAY2)}b.log`, `${DOC_LAMBDA_FAILED}\n`);
  endpoint = await startAwsEndpoint(backend, { port: 0 });
  athena = new AthenaClient({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  for (const statement of albAthenaDdl({ location: ROOT, database: 'alb', table: 'logs' })) {
    const { state } = await run(statement, 'default');
    expect(state).toBe('SUCCEEDED');
  }
}, 60_000);

afterAll(async () => {
  athena.destroy();
  await endpoint.close();
});

describe('routing', () => {
  it('routes by the SigV4 scope and by the AmazonAthena target', () => {
    const base = {
      method: 'POST',
      rawPath: '/',
      query: new URLSearchParams(),
      body: Buffer.alloc(0),
      hostname: 'x',
      requestId: 'r',
    };
    expect(routeService({ ...base, headers: { 'x-amz-target': 'AmazonAthena.GetQueryExecution' } })).toBe(
      'athena',
    );
    expect(
      routeService({
        ...base,
        headers: {
          authorization:
            'AWS4-HMAC-SHA256 Credential=x/20240501/eu-west-1/athena/aws4_request, SignedHeaders=host, Signature=0',
        },
      }),
    ).toBe('athena');
  });
});

describe('queries over the AWS-documented table', () => {
  it('counts what the regex matches per day partition; unmatched lines are all-NULL rows', async () => {
    const { id, state } = await run(
      `SELECT day, count(*) AS n, count_if(type IS NULL) AS unmatched, count(DISTINCT "$path") AS objects FROM logs GROUP BY day ORDER BY day`,
    );
    expect(state).toBe('SUCCEEDED');
    expect(await rows(id)).toEqual([
      ['day', 'n', 'unmatched', 'objects'],
      ['2024/05/01', '4', '1', '1'],
      ['2024/05/02', '1', '0', '1'],
    ]);
  });

  it('types the columns as the DDL says and reads quoted fields', async () => {
    const { id } = await run(
      `SELECT elb_status_code, lambda_error_reason, target_group_arn, request_url, client_port FROM alb.logs WHERE day = '2024/05/02'`,
    );
    const out = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id }));
    expect(out.ResultSet?.ResultSetMetadata?.ColumnInfo?.map((c) => [c.Name, c.Type])).toEqual([
      ['elb_status_code', 'integer'],
      ['lambda_error_reason', 'varchar'],
      ['target_group_arn', 'varchar'],
      ['request_url', 'varchar'],
      ['client_port', 'integer'],
    ]);
    expect(out.ResultSet?.Rows?.[1]?.Data?.map((d) => d.VarCharValue)).toEqual([
      '502',
      'LambdaInvalidResponse',
      'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067',
      'http://www.example.com:80/',
      '2817',
    ]);
  });

  it('reads only the partitions the query names, and reports their stored size as scanned', async () => {
    const day2Bytes = backend.s3.list(BUCKET, albLogDayPrefix('', ACCOUNT, REGION, DAY2))[0]?.body.length;
    const { id } = await run(`SELECT count(*) FROM logs WHERE day BETWEEN '2024/05/02' AND '2024/05/02'`);
    const out = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    expect(out.QueryExecution?.Statistics?.DataScannedInBytes).toBe(day2Bytes);
    expect(out.QueryExecution?.StatementType).toBe('DML');
    expect(out.QueryExecution?.ResultConfiguration?.OutputLocation).toBe(`${OUTPUT}${id}.csv`);
    expect((await rows(id))[1]).toEqual(['1']);
  });

  it('provides the Trino functions throttlescope uses', async () => {
    const { id, state } = await run(
      `SELECT date_trunc('minute', from_iso8601_timestamp(time)) = from_iso8601_timestamp('2024-05-01T12:00:00Z') AS m, regexp_like(time, '^2024') AS y FROM logs WHERE day = '2024/05/01' AND type IS NOT NULL ORDER BY time LIMIT 1`,
    );
    expect(state).toBe('SUCCEEDED');
    expect((await rows(id))[1]).toEqual(['true', 'true']);
  });

  it('writes the result as CSV under the OutputLocation', async () => {
    const { id } = await run(`SELECT 'a"b' AS x, NULL AS y`);
    const csv = backend.s3.get('athena-results', `lab/${id}.csv`)?.body.toString('utf8');
    expect(csv).toBe('"x","y"\n"a""b",\n');
  });

  it('describes the table for GetTableMetadata, projection properties included', async () => {
    const out = await athena.send(
      new GetTableMetadataCommand({ CatalogName: 'AwsDataCatalog', DatabaseName: 'alb', TableName: 'logs' }),
    );
    expect(out.TableMetadata?.PartitionKeys).toEqual([{ Name: 'day', Type: 'string' }]);
    expect(out.TableMetadata?.Parameters?.['storage.location.template']).toBe(`${ROOT}\${day}`);
    expect(out.TableMetadata?.Columns?.length).toBe(34);
  });
});

describe('paging', () => {
  it('pages 2,500 rows: header first on page one only, at most 1000 rows a page, NextToken between', async () => {
    const { id } = await run(`SELECT i FROM range(2500) t(i) ORDER BY i`);
    const first = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id }));
    expect(first.ResultSet?.Rows?.length).toBe(1000);
    expect(first.ResultSet?.Rows?.[0]?.Data?.[0]?.VarCharValue).toBe('i');
    expect(first.NextToken).toBeDefined();
    const second = await athena.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: first.NextToken, MaxResults: 1000 }),
    );
    expect(second.ResultSet?.Rows?.[0]?.Data?.[0]?.VarCharValue).toBe('999');
    const all = await rows(id);
    expect(all.length).toBe(2501);
    expect(all[2500]).toEqual(['2499']);
  });

  it('refuses MaxResults over 1000', async () => {
    const { id } = await run(`SELECT 1`);
    const e = await caught(
      athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1001 })),
    );
    expect(e).toBeInstanceOf(InvalidRequestException);
  });
});

describe('states and errors', () => {
  it('a statement that fails is FAILED with its reason; its results are refused', async () => {
    const { id, state } = await run(`SELECT no_such_column FROM logs`);
    expect(state).toBe('FAILED');
    const out = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    expect(out.QueryExecution?.Status?.StateChangeReason).toMatch(/no_such_column/);
    expect(out.QueryExecution?.Status?.AthenaError?.ErrorCategory).toBe(2);
    const e = await caught(athena.send(new GetQueryResultsCommand({ QueryExecutionId: id })));
    expect(e).toBeInstanceOf(InvalidRequestException);
  });

  it('CREATE EXTERNAL TABLE with more capture groups than columns fails with the reason', async () => {
    const [, ddl] = albAthenaDdl({ location: ROOT, database: 'alb', table: 'bad' });
    const { id, state } = await run((ddl as string).replace('?(?: .*)?', '?( .*)?'));
    expect(state).toBe('FAILED');
    const out = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    expect(out.QueryExecution?.Status?.StateChangeReason).toMatch(/35 capture groups for 34 columns/);
  });

  it('statements the lab cannot run are InvalidRequestException at once', async () => {
    const e = await caught(
      athena.send(
        new StartQueryExecutionCommand({
          QueryString: `INSERT INTO logs VALUES (1)`,
          ResultConfiguration: { OutputLocation: OUTPUT },
        }),
      ),
    );
    expect(e).toBeInstanceOf(InvalidRequestException);
    expect(e.message).toMatch(/INSERT INTO LOGS .* not supported/);
  });

  it('no output location, an unknown workgroup, an unknown id: InvalidRequestException', async () => {
    const noOutput = await caught(athena.send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1' })));
    expect(noOutput).toBeInstanceOf(InvalidRequestException);
    expect(noOutput.message).toMatch(/No output location provided/);
    const group = await caught(
      athena.send(
        new StartQueryExecutionCommand({
          QueryString: 'SELECT 1',
          WorkGroup: 'nope',
          ResultConfiguration: { OutputLocation: OUTPUT },
        }),
      ),
    );
    expect(group.message).toMatch(/WorkGroup nope is not found/);
    const unknown = await caught(athena.send(new GetQueryExecutionCommand({ QueryExecutionId: 'nope' })));
    expect(unknown).toBeInstanceOf(InvalidRequestException);
    expect(unknown.message).toMatch(/nope was not found/);
  });

  it('the same ClientRequestToken starts one query', async () => {
    const token = 'throttlescope-test-token-0123456789abcdef';
    const input = {
      QueryString: 'SELECT 1',
      ClientRequestToken: token,
      ResultConfiguration: { OutputLocation: OUTPUT },
    };
    const a = await athena.send(new StartQueryExecutionCommand(input));
    const b = await athena.send(new StartQueryExecutionCommand(input));
    expect(b.QueryExecutionId).toBe(a.QueryExecutionId);
  });
});

describe('stopping and throttling', () => {
  it('StopQueryExecution cancels a running query; past the active-query limit, TooManyRequestsException', async () => {
    // A separate backend: its Athena allows one active query.
    const own = createMemoryBackend();
    labAthena(own, { maxActiveQueries: 1 });
    const ep = await startAwsEndpoint(own, { port: 0 });
    const client = new AthenaClient({
      endpoint: ep.url,
      region: REGION,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    try {
      const slow = await client.send(
        new StartQueryExecutionCommand({
          QueryString: 'SELECT count(*) FROM range(100000000000) a',
          ResultConfiguration: { OutputLocation: OUTPUT },
        }),
      );
      const busy = await caught(
        client.send(
          new StartQueryExecutionCommand({
            QueryString: 'SELECT 1',
            ResultConfiguration: { OutputLocation: OUTPUT },
          }),
        ),
      );
      expect(busy).toBeInstanceOf(TooManyRequestsException);
      expect((busy as unknown as { Reason?: string }).Reason).toBe('CONCURRENT_QUERY_LIMIT_EXCEEDED');
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: slow.QueryExecutionId }));
      const out = await client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: slow.QueryExecutionId }),
      );
      expect(out.QueryExecution?.Status?.State).toBe('CANCELLED');
      // Once the engine lets go, the slot is free again.
      let next: string | undefined;
      for (let i = 0; i < 100 && next === undefined; i++) {
        try {
          next = (
            await client.send(
              new StartQueryExecutionCommand({
                QueryString: 'SELECT 1',
                ResultConfiguration: { OutputLocation: OUTPUT },
              }),
            )
          ).QueryExecutionId;
        } catch (error) {
          if (!(error instanceof TooManyRequestsException)) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(next).toBeDefined();
    } finally {
      client.destroy();
      await ep.close();
    }
  }, 30_000);
});
