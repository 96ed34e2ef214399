/**
 * The lab's Athena driven by Debian's aws CLI (package awscli, /usr/bin/aws; botocore's own
 * Athena model): start, poll, page results, stop, errors. Skipped when the CLI is missing, unless
 * THROTTLESCOPE_REQUIRE_TOOLS=1 (CI), where a missing CLI fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { albAthenaDdl } from '../../../src/logs/athena/ddl.js';
import { albLogDayPrefix } from '../../../src/logs/s3-key.js';
import { lambdaLine } from '../../helpers/alb-lines.js';
import {
  type AwsCliRun,
  awsCliAvailable,
  awsCliOk,
  describeAwsCliPresence,
  runAwsCli,
} from '../../helpers/aws-cli.js';
import {
  ACCOUNT,
  albLogsRoot,
  createMemoryBackend,
  type MemoryBackend,
  REGION,
} from '../../helpers/memory-backend.js';

const ROOT = albLogsRoot('alb-logs');
const OUTPUT = 's3://athena-results/cli/';
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let home: string;

function aws(...args: string[]): Promise<AwsCliRun> {
  return runAwsCli(endpoint.url, home, REGION, args);
}

const ok = awsCliOk;

async function start(sql: string, database = 'alb'): Promise<string> {
  const out = JSON.parse(
    ok(
      await aws(
        'athena',
        'start-query-execution',
        '--query-string',
        sql,
        '--query-execution-context',
        `Database=${database}`,
        '--result-configuration',
        `OutputLocation=${OUTPUT}`,
      ),
    ),
  );
  return out.QueryExecutionId as string;
}

async function state(id: string): Promise<{ State: string; StateChangeReason?: string }> {
  for (let i = 0; i < 100; i++) {
    const out = JSON.parse(ok(await aws('athena', 'get-query-execution', '--query-execution-id', id)));
    const status = out.QueryExecution.Status;
    if (status.State !== 'QUEUED' && status.State !== 'RUNNING') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('query did not finish');
}

describeAwsCliPresence();

describe.runIf(awsCliAvailable)('aws athena against the lab endpoint', { timeout: 90_000 }, () => {
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'throttlescope-awscli-athena-'));
    backend = createMemoryBackend();
    const lines = Array.from({ length: 30 }, (_, i) =>
      lambdaLine(T0 + i * 1000, { reason: i % 3 === 0 ? 'LambdaThrottling' : null }),
    );
    backend.addObject(
      'alb-logs',
      `${albLogDayPrefix('', ACCOUNT, REGION, T0)}x.log`,
      `${lines.join('\n')}\n`,
    );
    endpoint = await startAwsEndpoint(backend, { port: 0 });
    for (const sql of albAthenaDdl({ location: ROOT, database: 'alb', table: 'logs' })) {
      expect((await state(await start(sql, 'default'))).State).toBe('SUCCEEDED');
    }
  });

  afterAll(async () => {
    await endpoint?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('start, poll and read a grouped query', async () => {
    const id = await start(
      `SELECT coalesce(lambda_error_reason, '?') AS reason, count(*) AS n FROM logs WHERE day = '2024/05/01' GROUP BY 1 ORDER BY 1`,
    );
    expect((await state(id)).State).toBe('SUCCEEDED');
    const out = JSON.parse(ok(await aws('athena', 'get-query-results', '--query-execution-id', id)));
    expect(
      out.ResultSet.Rows.map((r: { Data: { VarCharValue: string }[] }) => r.Data.map((d) => d.VarCharValue)),
    ).toEqual([
      ['reason', 'n'],
      ['-', '20'],
      ['LambdaThrottling', '10'],
    ]);
    expect(out.ResultSet.ResultSetMetadata.ColumnInfo.map((c: { Type: string }) => c.Type)).toEqual([
      'varchar',
      'bigint',
    ]);
  });

  it('pages results: the CLI follows NextToken with a small page size', async () => {
    const id = await start(`SELECT time FROM logs ORDER BY time`);
    await state(id);
    const out = JSON.parse(
      ok(await aws('athena', 'get-query-results', '--query-execution-id', id, '--page-size', '7')),
    );
    expect(out.ResultSet.Rows.length).toBe(31);
    expect(out.ResultSet.Rows[0].Data[0].VarCharValue).toBe('time');
    const firstPage = JSON.parse(
      ok(await aws('athena', 'get-query-results', '--query-execution-id', id, '--max-items', '5')),
    );
    expect(firstPage.ResultSet.Rows.length).toBe(5);
    expect(firstPage.NextToken).toBeDefined();
  });

  it('stop-query-execution cancels a running query', async () => {
    const id = await start('SELECT count(*) FROM range(100000000000) a');
    ok(await aws('athena', 'stop-query-execution', '--query-execution-id', id));
    const s = await state(id);
    expect(s.State).toBe('CANCELLED');
  });

  it('errors: a failed query reports its reason; unknown ids and unsupported statements are InvalidRequestException', async () => {
    const id = await start('SELECT missing_column FROM logs');
    const s = await state(id);
    expect(s.State).toBe('FAILED');
    expect(s.StateChangeReason).toMatch(/missing_column/);
    const results = await aws('athena', 'get-query-results', '--query-execution-id', id);
    expect(results.code).not.toBe(0);
    expect(results.stderr).toMatch(/InvalidRequestException/);
    const unknown = await aws('athena', 'get-query-execution', '--query-execution-id', 'no-such-id');
    expect(unknown.code).toBe(254);
    expect(unknown.stderr).toMatch(
      /\(InvalidRequestException\) when calling the GetQueryExecution operation( \(reached max retries: \d+\))?: QueryExecution no-such-id was not found/,
    );
    const unsupported = await aws(
      'athena',
      'start-query-execution',
      '--query-string',
      'MSCK REPAIR TABLE logs',
      '--result-configuration',
      `OutputLocation=${OUTPUT}`,
    );
    expect(unsupported.stderr).toMatch(/InvalidRequestException.*not supported by this test double/);
  });
});
