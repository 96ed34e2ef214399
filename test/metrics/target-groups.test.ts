/**
 * Target group → Lambda function mapping with the real ELBv2 client over HTTP: against the lab
 * itself (its ALB's groups, as its access logs name them) and against the in-memory backend for
 * what the lab never does on its own (missing groups, refusals).
 */
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { builtinScenario, type Lab, startLab } from '../../src/lab/index.js';
import {
  functionNameOf,
  mapTargetGroupsToFunctions,
  mapTargetGroupsWithConnection,
  parseTargetGroupRef,
} from '../../src/metrics/index.js';
import {
  createBackendWithTargetGroups,
  createMemoryBackend,
  type MemoryBackend,
  NO_AWS_CONFIG_ENV,
  REGION,
  targetGroupArn,
} from '../helpers/memory-backend.js';

function client(endpoint: AwsEndpoint, region = REGION): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({
    endpoint: endpoint.url,
    region,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

describe('parsing what the logs give', () => {
  it('takes dimensions and ARNs, ignores `-` and anything else', () => {
    expect(parseTargetGroupRef('targetgroup/api-tg/0123abcd')).toEqual({
      dimension: 'targetgroup/api-tg/0123abcd',
      name: 'api-tg',
      arn: undefined,
    });
    const arn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api-tg/0123abcd';
    expect(parseTargetGroupRef(arn)).toEqual({
      dimension: 'targetgroup/api-tg/0123abcd',
      name: 'api-tg',
      arn,
    });
    expect(parseTargetGroupRef('-')).toBeUndefined();
    expect(parseTargetGroupRef('app/shop-alb/1234')).toBeUndefined();
  });

  it('names a function by its ARN, qualified or not', () => {
    expect(functionNameOf('arn:aws:lambda:eu-west-1:123456789012:function:api')).toBe('api');
    expect(functionNameOf('arn:aws:lambda:eu-west-1:123456789012:function:api:live')).toBe('api');
    expect(functionNameOf('i-0abc')).toBe('i-0abc');
  });
});

describe('against the lab (noisy-neighbour)', { timeout: 30_000 }, () => {
  let lab: Lab;
  let endpoint: AwsEndpoint;

  beforeAll(async () => {
    lab = await startLab(builtinScenario('noisy-neighbour')!, { sources: false });
    endpoint = await startAwsEndpoint(lab.backend, { port: 0 });
  });

  afterAll(async () => {
    await endpoint?.close();
    await lab?.close();
  });

  it('maps each of the ALB target groups, by dimension and by ARN, to its function', async () => {
    const groups = [...lab.targetGroups.values()];
    expect(groups.length).toBeGreaterThanOrEqual(2);
    const elb = client(endpoint, lab.scenario.account.region);
    try {
      const byDimension = await mapTargetGroupsToFunctions(elb, [...groups.map((g) => g.dimension), '-']);
      expect(byDimension.gaps).toEqual([]);
      expect(Object.fromEntries(byDimension.functionsByTargetGroup)).toEqual(
        Object.fromEntries(groups.map((g) => [g.dimension, [g.function]])),
      );
      const byArn = await mapTargetGroupsToFunctions(
        elb,
        groups.map((g) => g.arn),
      );
      expect(byArn.functionsByTargetGroup).toEqual(byDimension.functionsByTargetGroup);
    } finally {
      elb.destroy();
    }
    // The functions behind the built-in ALB are the ones the docs name.
    const names = [...lab.targetGroups.values()].map((g) => g.function).sort();
    expect(names).toEqual(['api', 'web']);
  });

  it('builds its client from a connection, as the other AWS clients do (--endpoint-url, no credentials)', async () => {
    const { dimension, function: fn } = [...lab.targetGroups.values()][0]!;
    const out = await mapTargetGroupsWithConnection(
      { endpointUrl: endpoint.url, region: lab.scenario.account.region, env: NO_AWS_CONFIG_ENV },
      [dimension],
    );
    expect(out).toEqual({ functionsByTargetGroup: new Map([[dimension, [fn]]]), gaps: [] });
  });
});

describe('what cannot be mapped becomes a gap', () => {
  let backend: MemoryBackend;
  let endpoint: AwsEndpoint;
  let elb: ElasticLoadBalancingV2Client;

  beforeAll(async () => {
    backend = createBackendWithTargetGroups();
    endpoint = await startAwsEndpoint(backend, { port: 0 });
    elb = client(endpoint);
  });

  afterAll(async () => {
    elb.destroy();
    await endpoint.close();
  });

  const dimension = (name: string) => {
    const arn = targetGroupArn(name);
    return arn.slice(arn.indexOf('targetgroup/'));
  };

  it('a group that no longer exists does not stop the others from being mapped', async () => {
    const out = await mapTargetGroupsToFunctions(elb, [
      dimension('api-tg'),
      dimension('gone-tg'),
      targetGroupArn('web-tg'),
      targetGroupArn('also-gone-tg'),
    ]);
    expect(Object.fromEntries(out.functionsByTargetGroup)).toEqual({
      [dimension('api-tg')]: ['api'],
      [dimension('web-tg')]: ['web'],
    });
    expect(out.gaps).toHaveLength(2);
    expect(out.gaps[0]).toMatch(
      /^target group targetgroup\/gone-tg\/[0-9a-f]+ \(in the logs\) was not found/,
    );
    expect(out.gaps[1]).toContain('targetgroup/also-gone-tg/');
  });

  it('a group of the same name but another id (recreated since) is not a match', async () => {
    const out = await mapTargetGroupsToFunctions(elb, ['targetgroup/api-tg/00000000deadbeef']);
    expect(out.functionsByTargetGroup.size).toBe(0);
    expect(out.gaps).toEqual([
      expect.stringContaining('target group targetgroup/api-tg/00000000deadbeef (in the logs) was not found'),
    ]);
  });

  it('access denied is one gap naming the missing permission, not an error', async () => {
    const denied = createMemoryBackend();
    denied.addTargetGroup('api-tg', ['api']);
    denied.denyElbv2();
    const deniedEndpoint = await startAwsEndpoint(denied, { port: 0 });
    const deniedClient = client(deniedEndpoint);
    try {
      const out = await mapTargetGroupsToFunctions(deniedClient, [dimension('api-tg')]);
      expect(out.functionsByTargetGroup.size).toBe(0);
      expect(out.gaps).toHaveLength(1);
      expect(out.gaps[0]).toMatch(
        /^target groups not mapped to Lambda functions: ELBv2 DescribeTargetGroups: the caller lacks elasticloadbalancing:DescribeTargetGroups \(AccessDenied: /,
      );
    } finally {
      deniedClient.destroy();
      await deniedEndpoint.close();
    }
  });

  it('an unreachable endpoint is a gap too', async () => {
    const closed = await startAwsEndpoint(createMemoryBackend(), { port: 0 });
    await closed.close();
    const out = await mapTargetGroupsWithConnection(
      { endpointUrl: closed.url, region: REGION, env: NO_AWS_CONFIG_ENV },
      [dimension('api-tg')],
    );
    expect(out.functionsByTargetGroup.size).toBe(0);
    expect(out.gaps[0]).toMatch(/^target groups not mapped to Lambda functions: .*cannot reach the endpoint/);
  });

  it('no target groups: no call, no gap', async () => {
    const out = await mapTargetGroupsToFunctions(elb, ['-']);
    expect(out).toEqual({ functionsByTargetGroup: new Map(), gaps: [] });
  });
});
