/**
 * The lab endpoint driven by Debian's aws CLI (package awscli, /usr/bin/aws). The `aws` on PATH
 * may be another install, so only /usr/bin/aws is used. Skipped when it is missing, unless
 * THROTTLESCOPE_REQUIRE_TOOLS=1 (CI), where a missing CLI fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import {
  type AwsCliRun,
  awsCliAvailable,
  awsCliOk,
  describeAwsCliPresence,
  runAwsCli,
} from '../../helpers/aws-cli.js';
import {
  createMemoryBackend,
  loadBalancerArn,
  type MemoryBackend,
  REGION,
  targetGroupArn,
} from '../../helpers/memory-backend.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const THROTTLES = {
  namespace: 'AWS/Lambda',
  metricName: 'Throttles',
  dimensions: [{ name: 'FunctionName', value: 'api' }],
};

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let home: string;

function aws(...args: string[]): Promise<AwsCliRun> {
  return runAwsCli(endpoint.url, home, REGION, args);
}

const ok = awsCliOk;

describeAwsCliPresence();

describe.runIf(awsCliAvailable)('aws CLI against the lab endpoint', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'throttlescope-awscli-'));
    backend = createMemoryBackend();
    backend.addFunction('api');
    backend.addFunction('web');
    backend.addFunction('noisy');
    backend.addObject(
      'alb-logs',
      'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/a_b:c.log.gz',
      'log a\n',
    );
    backend.addObject(
      'alb-logs',
      'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/d_e:f.log.gz',
      'log d\n',
    );
    backend.addObject('alb-logs', 'other/x.txt', 'x');
    for (let m = 0; m < 5; m++) backend.addDatapoint(THROTTLES, T0 + m * 60_000, m + 1);
    backend.addTargetGroup('api-tg', ['api']);
    backend.addTargetGroup('web-tg', ['web']);
    endpoint = await startAwsEndpoint(backend, { port: 0 });
  });

  afterAll(async () => {
    await endpoint?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('lambda list-functions (paginating)', async () => {
    const out = JSON.parse(ok(await aws('lambda', 'list-functions', '--page-size', '2'))) as {
      Functions: { FunctionName: string }[];
    };
    expect(out.Functions.map((f) => f.FunctionName)).toEqual(['api', 'noisy', 'web']);
  });

  it('lambda get-account-settings', async () => {
    const out = JSON.parse(ok(await aws('lambda', 'get-account-settings'))) as {
      AccountLimit: { ConcurrentExecutions: number };
      AccountUsage: { FunctionCount: number };
    };
    expect(out.AccountLimit.ConcurrentExecutions).toBe(50);
    expect(out.AccountUsage.FunctionCount).toBe(3);
  });

  it('lambda put-function-concurrency: accepted, then refused as AWS refuses it', async () => {
    const out = JSON.parse(
      ok(
        await aws(
          'lambda',
          'put-function-concurrency',
          '--function-name',
          'api',
          '--reserved-concurrent-executions',
          '5',
        ),
      ),
    ) as { ReservedConcurrentExecutions: number };
    expect(out.ReservedConcurrentExecutions).toBe(5);
    expect(backend.pool.reservedOf('api')).toBe(5);
    const refused = await aws(
      'lambda',
      'put-function-concurrency',
      '--function-name',
      'web',
      '--reserved-concurrent-executions',
      '36',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('InvalidParameterValueException');
    expect(refused.stderr).toContain('below its minimum value of [10]');
    expect(backend.pool.reservedOf('web')).toBeUndefined();
  });

  it('s3api list-objects-v2 --prefix', async () => {
    const out = JSON.parse(
      ok(await aws('s3api', 'list-objects-v2', '--bucket', 'alb-logs', '--prefix', 'AWSLogs/123456789012/')),
    ) as { Contents: { Key: string; Size: number }[] };
    expect(out.Contents.map((c) => c.Key)).toEqual([
      'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/a_b:c.log.gz',
      'AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/d_e:f.log.gz',
    ]);
  });

  it('s3 cp s3://bucket/key -', async () => {
    const out = ok(
      await aws(
        's3',
        'cp',
        's3://alb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/05/01/d_e:f.log.gz',
        '-',
      ),
    );
    expect(out).toBe('log d\n');
  });

  it('cloudwatch get-metric-data (AWS Query protocol)', async () => {
    const queries = JSON.stringify([
      {
        Id: 't',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/Lambda',
            MetricName: 'Throttles',
            Dimensions: [{ Name: 'FunctionName', Value: 'api' }],
          },
          Period: 60,
          Stat: 'Sum',
        },
      },
    ]);
    const out = JSON.parse(
      ok(
        await aws(
          'cloudwatch',
          'get-metric-data',
          '--metric-data-queries',
          queries,
          '--start-time',
          new Date(T0).toISOString(),
          '--end-time',
          new Date(T0 + 3_600_000).toISOString(),
        ),
      ),
    ) as { MetricDataResults: { Id: string; Values: number[]; Timestamps: string[]; StatusCode: string }[] };
    const r = out.MetricDataResults[0]!;
    expect(r.Id).toBe('t');
    expect(r.StatusCode).toBe('Complete');
    expect(r.Values).toEqual([5, 4, 3, 2, 1]);
    expect(Date.parse(r.Timestamps[0]!)).toBe(T0 + 4 * 60_000);
  });

  it('cloudwatch list-metrics', async () => {
    const out = JSON.parse(ok(await aws('cloudwatch', 'list-metrics', '--namespace', 'AWS/Lambda'))) as {
      Metrics: { MetricName: string; Dimensions: { Name: string; Value: string }[] }[];
    };
    expect(out.Metrics).toEqual([
      {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: 'api' }],
      },
    ]);
  });

  it('elbv2 describe-target-groups: unfiltered, --names, --target-group-arns (AWS Query protocol)', async () => {
    type Groups = {
      TargetGroups: {
        TargetGroupName: string;
        TargetGroupArn: string;
        TargetType: string;
        LoadBalancerArns: string[];
      }[];
    };
    const all = JSON.parse(ok(await aws('elbv2', 'describe-target-groups'))) as Groups;
    expect(all.TargetGroups.map((tg) => [tg.TargetGroupName, tg.TargetType])).toEqual([
      ['api-tg', 'lambda'],
      ['web-tg', 'lambda'],
    ]);
    expect(all.TargetGroups[0]!.TargetGroupArn).toBe(targetGroupArn('api-tg'));
    expect(all.TargetGroups[0]!.LoadBalancerArns).toEqual([loadBalancerArn('lab-alb')]);
    const byName = JSON.parse(
      ok(await aws('elbv2', 'describe-target-groups', '--names', 'web-tg')),
    ) as Groups;
    expect(byName.TargetGroups.map((tg) => tg.TargetGroupArn)).toEqual([targetGroupArn('web-tg')]);
    const byArn = JSON.parse(
      ok(
        await aws(
          'elbv2',
          'describe-target-groups',
          '--target-group-arns',
          targetGroupArn('web-tg'),
          targetGroupArn('api-tg'),
        ),
      ),
    ) as Groups;
    expect(byArn.TargetGroups.map((tg) => tg.TargetGroupName)).toEqual(['web-tg', 'api-tg']);
  });

  it('elbv2 describe-target-health names the function behind a group', async () => {
    const out = JSON.parse(
      ok(await aws('elbv2', 'describe-target-health', '--target-group-arn', targetGroupArn('api-tg'))),
    ) as { TargetHealthDescriptions: { Target: { Id: string }; TargetHealth: { State: string } }[] };
    expect(out.TargetHealthDescriptions.map((d) => [d.Target.Id, d.TargetHealth.State])).toEqual([
      [`arn:aws:lambda:${REGION}:123456789012:function:api`, 'unavailable'],
    ]);
  });

  it('elbv2 describe-target-groups --names gone: TargetGroupNotFound, exit 254', async () => {
    const run = await aws('elbv2', 'describe-target-groups', '--names', 'gone');
    expect(run.code).toBe(254);
    expect(run.stderr).toContain('TargetGroupNotFound');
    expect(run.stderr).toContain('One or more target groups not found');
  });
});
