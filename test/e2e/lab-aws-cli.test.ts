/** Debian's `aws` CLI against the running lab (not a fake): live concurrency changes and real access logs. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { builtinScenario } from '../../src/lab/builtin.js';
import { startLab } from '../../src/lab/index.js';
import type { Scenario } from '../../src/lab/scenario.js';

const AWS = '/usr/bin/aws';
const run = promisify(execFile);
const available = existsSync(AWS);
const requireTools = process.env.THROTTLESCOPE_REQUIRE_TOOLS === '1';

/** The CLI pointed at the lab endpoint, with no AWS configuration of the machine's in the way. */
function awsCli(endpointUrl: string, region: string) {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: 'lab',
    AWS_SECRET_ACCESS_KEY: 'lab',
    AWS_DEFAULT_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  };
  return (...args: string[]) =>
    run(AWS, ['--endpoint-url', endpointUrl, '--output', 'json', ...args], { env, timeout: 20_000 });
}

describe.runIf(available || requireTools)('aws CLI against the lab', { timeout: 60_000 }, () => {
  it('reads the account, refuses what AWS refuses, applies a cap live, and lists real access logs', async () => {
    expect(existsSync(AWS), `${AWS} is required (THROTTLESCOPE_REQUIRE_TOOLS=1)`).toBe(true);
    const scenario = builtinScenario('noisy-neighbour') as Scenario;
    const lab = await startLab(scenario, { albPort: 0 });
    const endpoint = await startAwsEndpoint(lab.backend, { port: 0 });
    const aws = awsCli(endpoint.url, scenario.account.region);
    try {
      const settings = JSON.parse((await aws('lambda', 'get-account-settings')).stdout);
      expect(settings.AccountLimit.ConcurrentExecutions).toBe(20);
      // 19 would leave 1 unreserved, below the scaled minimum of 2.
      await expect(
        aws(
          'lambda',
          'put-function-concurrency',
          '--function-name',
          'reports-worker',
          '--reserved-concurrent-executions',
          '19',
        ),
      ).rejects.toMatchObject({
        stderr: expect.stringMatching(/InvalidParameterValueException[\s\S]*minimum value of \[2\]/),
      });
      await aws(
        'lambda',
        'put-function-concurrency',
        '--function-name',
        'reports-worker',
        '--reserved-concurrent-executions',
        '4',
      );
      expect(lab.pool.reservedOf('reports-worker')).toBe(4);
      const got = JSON.parse(
        (await aws('lambda', 'get-function-concurrency', '--function-name', 'reports-worker')).stdout,
      );
      expect(got.ReservedConcurrentExecutions).toBe(4);
      await sleep(1000);
      await lab.flush();
      const listing = JSON.parse((await aws('s3api', 'list-objects-v2', '--bucket', 'shop-alb-logs')).stdout);
      expect(listing.Contents.length).toBeGreaterThan(0);
      expect(listing.Contents[0].Key).toMatch(
        /^AWSLogs\/123456789012\/elasticloadbalancing\/us-east-1\/\d{4}\/\d\d\/\d\d\/123456789012_elasticloadbalancing_us-east-1_app\.shop-alb\.[0-9a-f]+_\d{8}T\d{4}Z_[\d.]+_\w+\.log\.gz$/,
      );
    } finally {
      await endpoint.close();
      await lab.close();
    }
  });

  it("elbv2: the lab ALB's target groups and the function behind each", async () => {
    expect(existsSync(AWS), `${AWS} is required (THROTTLESCOPE_REQUIRE_TOOLS=1)`).toBe(true);
    const scenario = builtinScenario('noisy-neighbour') as Scenario;
    const lab = await startLab(scenario, { sources: false });
    const endpoint = await startAwsEndpoint(lab.backend, { port: 0 });
    const aws = awsCli(endpoint.url, scenario.account.region);
    try {
      const groups = JSON.parse(
        (await aws('elbv2', 'describe-target-groups', '--load-balancer-arn', lab.loadBalancer.arn)).stdout,
      ) as {
        TargetGroups: { TargetGroupName: string; TargetGroupArn: string; LoadBalancerArns: string[] }[];
      };
      expect(groups.TargetGroups.map((tg) => tg.TargetGroupName)).toEqual(['api-tg', 'web-tg']);
      expect(groups.TargetGroups[0]!.LoadBalancerArns).toEqual([lab.loadBalancer.arn]);
      expect(groups.TargetGroups[0]!.TargetGroupArn).toBe(lab.targetGroups.get('api-tg')!.arn);
      const health = JSON.parse(
        (
          await aws(
            'elbv2',
            'describe-target-health',
            '--target-group-arn',
            groups.TargetGroups[1]!.TargetGroupArn,
          )
        ).stdout,
      ) as { TargetHealthDescriptions: { Target: { Id: string } }[] };
      expect(health.TargetHealthDescriptions.map((d) => d.Target.Id)).toEqual([
        `arn:aws:lambda:${scenario.account.region}:${scenario.account.id}:function:web`,
      ]);
    } finally {
      await endpoint.close();
      await lab.close();
    }
  });
});
