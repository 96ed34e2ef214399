/**
 * `throttlescope logs athena-table` and `logs athena://` through main(), against the lab's
 * endpoint: the dry run, the bad invocations (exit 2), Athena's refusals (exit 4), the text
 * report with its scan line, an interrupted run (exit 130), and `verify` over an Athena window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { albLogDayPrefix } from '../../../src/logs/s3-key.js';
import { failureCountOf } from '../../../src/verify/gather.js';
import { lambdaLine } from '../../helpers/alb-lines.js';
import { fakeCli } from '../../helpers/cli.js';
import {
  ACCOUNT,
  albLogsRoot,
  createMemoryBackend,
  NO_AWS_CONFIG_ENV,
  REGION,
} from '../../helpers/memory-backend.js';

const ROOT = albLogsRoot('cli-logs');
const OUTPUT = 's3://cli-results/q/';
const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
let endpoint: AwsEndpoint;

async function run(argv: string[], signal?: AbortSignal) {
  const { out, err, ctx } = fakeCli({ env: { ...NO_AWS_CONFIG_ENV }, signal });
  const code = await main([...argv, '--endpoint-url', endpoint.url, '--region', REGION], ctx);
  return { code, out: out.join(''), err: err.join('') };
}

beforeAll(async () => {
  const backend = createMemoryBackend();
  const lines = Array.from({ length: 40 }, (_, i) =>
    lambdaLine(T0 + i * 3000, { reason: i % 4 === 0 ? 'LambdaThrottling' : null }),
  );
  backend.addObject('cli-logs', `${albLogDayPrefix('', ACCOUNT, REGION, T0)}a.log`, `${lines.join('\n')}\n`);
  endpoint = await startAwsEndpoint(backend, { port: 0 });
  const made = await run([
    'logs',
    'athena-table',
    ROOT,
    '--database',
    'cli',
    '--table',
    'logs',
    '--apply',
    '--output',
    OUTPUT,
  ]);
  expect(made.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await endpoint.close();
});

describe('logs athena-table', () => {
  it('prints the two statements, each ending with ;, and creates nothing without --apply', async () => {
    const r = await run(['logs', 'athena-table', ROOT, '--database', 'other', '--table', 't']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^CREATE DATABASE IF NOT EXISTS other;\n\nCREATE EXTERNAL TABLE IF NOT EXISTS other\.t \(/,
    );
    expect(r.out.trimEnd()).toMatch(/"storage\.location\.template" = "[^"]+\$\{day\}"\s*\);$/);
    const q = await run(['logs', 'athena://other.t', '--output', OUTPUT]);
    expect(q.code).toBe(4);
    expect(q.err).toMatch(/SCHEMA_NOT_FOUND|does not exist/);
  });

  it('refuses a location that is not an ALB log folder, and missing names (exit 2)', async () => {
    const bad = await run([
      'logs',
      'athena-table',
      's3://cli-logs/somewhere/',
      '--database',
      'd',
      '--table',
      't',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/expected the ALB's log folder .*\[TS_USAGE\]/);
    const missing = await run(['logs', 'athena-table', ROOT, '--database', 'd']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--database and --table are required/);
  });
});

describe('logs athena://', () => {
  it('prints the text report and, on stderr, the query, bytes scanned and cost', async () => {
    const r = await run(['logs', 'athena://cli.logs', '--output', OUTPUT]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ALB access logs: 1 file\(s\), 40 entries/);
    expect(r.out).toMatch(/LambdaThrottling\s+10/);
    expect(r.err).toMatch(/^athena: 1 query \([0-9a-f-]{36}\), scanned 0\.0\d\d MB/m);
  });

  it('usage errors: other sources beside it, --records, a bad --output, --max-scan not a number', async () => {
    for (const argv of [
      ['logs', 'athena://cli.logs', ROOT, '--output', OUTPUT],
      ['logs', 'athena://cli.logs', '--records', '/tmp/x.jsonl', '--output', OUTPUT],
      ['logs', 'athena://cli.logs', '--output', 'bucket/prefix'],
      ['logs', 'athena://cli.logs', '--output', OUTPUT, '--max-scan', 'lots'],
      ['logs', 'athena://cli', '--output', OUTPUT],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(/\[TS_USAGE\]/);
    }
  });

  it('Athena refusing the query (no result location) is exit 4 with its message', async () => {
    const r = await run(['logs', 'athena://cli.logs']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/No output location provided/);
  });

  it('an interrupted run exits 130', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await run(['logs', 'athena://cli.logs', '--output', OUTPUT], ac.signal);
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/TS_INTERRUPTED/);
  });
});

describe('verify over an Athena window', () => {
  it('counts the same 5xx and requests as over the S3 objects', async () => {
    const window = `${new Date(T0).toISOString()}..${new Date(T0 + 60_000).toISOString()}`;
    const aws = { endpointUrl: endpoint.url, region: REGION };
    const viaAthena = await failureCountOf(window, { logs: [`athena://cli.logs?output=${OUTPUT}`], aws });
    const viaS3 = await failureCountOf(window, { logs: [ROOT], aws });
    expect(viaAthena.failures).toBe(5);
    expect(viaAthena.total).toBe(20);
    expect([viaAthena.failures, viaAthena.total]).toEqual([viaS3.failures, viaS3.total]);
  });
});
