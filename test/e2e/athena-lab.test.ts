/**
 * Acceptance of the Athena path on the built-in lab: a minute of lab time of the noisy neighbour
 * with a probe, then, through the CLI, `logs athena-table ... --apply` and
 * `logs athena://db.table` against the lab's endpoint give the summary `logs` gives on the
 * lab's files; and `diagnose --logs athena://...` the root cause and culprit of `--logs s3://...`.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runDiagnosis } from '../../src/diagnose/run.js';
import { type AwsEndpoint, startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { builtinScenario } from '../../src/lab/builtin.js';
import { startLab } from '../../src/lab/index.js';
import type { Scenario } from '../../src/lab/scenario.js';
import { runProbe } from '../../src/probe/runner.js';
import { fakeCli } from '../helpers/cli.js';
import { NO_AWS_CONFIG_ENV } from '../helpers/memory-backend.js';

const scenario = builtinScenario('noisy-neighbour') as Scenario;
const { accessLogs } = scenario.loadBalancer;
const ROOT = `s3://${accessLogs.bucket}/${accessLogs.prefix ? `${accessLogs.prefix}/` : ''}AWSLogs/${scenario.account.id}/elasticloadbalancing/${scenario.account.region}/`;
const OUTPUT = 's3://athena-results/throttlescope/';

let lab: Awaited<ReturnType<typeof startLab>>;
let endpoint: AwsEndpoint;
let probeDir: string;
let window: { sinceMs: number; untilMs: number };
let timeMap: (wall: number) => number;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { out, err, ctx } = fakeCli({ env: { ...NO_AWS_CONFIG_ENV } });
  const code = await main(
    [...argv, '--endpoint-url', endpoint.url, '--region', scenario.account.region],
    ctx,
  );
  return { code, out: out.join(''), err: err.join('') };
}

beforeAll(async () => {
  lab = await startLab(scenario, { albPort: 0 });
  endpoint = await startAwsEndpoint(lab.backend, { port: 0 });
  const wallRef = Date.now();
  const labRef = lab.clock.now();
  timeMap = (wall) => labRef + (wall - wallRef) * scenario.timeScale;
  await sleep(2500);
  probeDir = await mkdtemp(join(tmpdir(), 'ts-athena-e2e-'));
  const start = lab.clock.now();
  // 6 s of wall time is a minute of lab time (timeScale 10).
  await runProbe({
    urls: [`${lab.albUrl}/api/cart`, `${lab.albUrl}/`],
    rate: 5,
    durationMs: 6000,
    outDir: probeDir,
    seed: 11,
    timeoutMs: 5000,
  });
  const end = lab.clock.now();
  await lab.flush();
  // An entry is written as its response completes: one may land just after the flush.
  await sleep(500);
  await lab.flush();
  window = { sinceMs: start - 60_000, untilMs: end + 60_000 };
}, 60_000);

afterAll(async () => {
  await endpoint?.close();
  await lab?.close();
});

describe('Athena on the built-in lab', { timeout: 90_000 }, () => {
  it('athena-table is a dry run by default, prints the AWS table, and --apply creates it', async () => {
    const dry = await cli('logs', 'athena-table', ROOT, '--database', 'lab', '--table', 'alb_logs');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS lab.alb_logs');
    expect(dry.out).toContain(`"storage.location.template" = "${ROOT}\${day}"`);
    expect(dry.err).toMatch(/dry run/);
    const before = await cli('logs', 'athena://lab.alb_logs', '--output', OUTPUT, '--json');
    expect(before.code).toBe(4);
    expect(before.err).toMatch(/TS_ATHENA_QUERY_FAILED/);
    const applied = await cli(
      'logs',
      'athena-table',
      ROOT,
      '--database',
      'lab',
      '--table',
      'alb_logs',
      '--apply',
      '--output',
      OUTPUT,
    );
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(
      /CREATE EXTERNAL TABLE IF NOT EXISTS lab.alb_logs: SUCCEEDED \(query [0-9a-f-]{36}\)/,
    );
  });

  it('logs athena://lab.alb_logs --json equals logs on the lab files', async () => {
    // Both read the same objects: the local read before and after the Athena one must agree.
    let athena = await cli('logs', 'athena://lab.alb_logs', '--output', OUTPUT, '--json');
    let local = await cli('logs', ROOT, '--json');
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = local.out;
      athena = await cli('logs', 'athena://lab.alb_logs', '--output', OUTPUT, '--json');
      local = await cli('logs', ROOT, '--json');
      if (local.out === before) break;
    }
    expect(athena.code).toBe(0);
    expect(athena.err).toMatch(
      /^athena: 1 query \([0-9a-f-]{36}\), scanned \d+\.\d{3} MB, about \$\d+\.\d+ at \$5\/TB/m,
    );
    expect(local.code).toBe(0);
    const a = JSON.parse(athena.out);
    const l = JSON.parse(local.out);
    expect(l.lines).toBeGreaterThan(100);
    expect(l.byErrorReason.LambdaThrottling).toBeGreaterThan(0);
    for (const key of ['lines', 'byElbStatus', 'byErrorReason', 'byTargetGroup'])
      expect(a[key]).toEqual(l[key]);
    // Beyond the acceptance keys: the whole document.
    expect(a).toEqual(l);
  });

  it('--max-scan refuses before querying when the window holds more', async () => {
    const r = await cli(
      'logs',
      'athena://lab.alb_logs',
      '--output',
      OUTPUT,
      '--max-scan',
      '0.000000001',
      '--since',
      new Date(window.sinceMs).toISOString(),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /--max-scan: the logs under the window's partitions hold .* GB .*TS_ATHENA_SCAN_LIMIT/,
    );
  });

  it('diagnose --logs athena:// finds the root cause and culprit --logs s3:// finds', async () => {
    const common = {
      probeDir,
      endpointUrl: endpoint.url,
      region: scenario.account.region,
      ...window,
      probeTimeMap: timeMap,
      env: { ...NO_AWS_CONFIG_ENV },
    };
    const viaS3 = await runDiagnosis({ ...common, logs: [ROOT] });
    const viaAthena = await runDiagnosis({ ...common, logs: [`athena://lab.alb_logs?output=${OUTPUT}`] });
    expect(viaS3.diagnosis.rootCause).toBe('account-concurrency-exhausted');
    expect(viaAthena.diagnosis.rootCause).toBe(viaS3.diagnosis.rootCause);
    expect(viaAthena.diagnosis.culprit).toBe(viaS3.diagnosis.culprit);
    expect(viaAthena.diagnosis.victims).toEqual(viaS3.diagnosis.victims);
    const found = (d: typeof viaS3) =>
      /ALB logs: (\d+) of (\d+) probe failures found by trace id/.exec(
        d.diagnosis.findings[0]?.evidence.map((e) => e.text).join('\n') ?? '',
      );
    expect(found(viaAthena)?.[1]).toBe(found(viaS3)?.[1]);
    expect(Number(found(viaAthena)?.[1])).toBeGreaterThan(0);
    expect(viaAthena.evidence.logs?.summary.byErrorReason).toEqual(
      viaS3.evidence.logs?.summary.byErrorReason,
    );
  });
});
