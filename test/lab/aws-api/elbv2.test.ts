/**
 * The lab's Elastic Load Balancing v2 subset driven by the real AWS SDK v3 client over HTTP, plus
 * the raw Query wire format (what the SDK and the aws CLI both send) for what the SDK hides.
 */
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, routeService, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import {
  ACCOUNT,
  caught,
  createBackendWithTargetGroups,
  loadBalancerArn,
  type MemoryBackend,
  REGION,
  targetGroupArn,
} from '../../helpers/memory-backend.js';

const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

let backend: MemoryBackend;
let endpoint: AwsEndpoint;
let elb: ElasticLoadBalancingV2Client;

beforeAll(async () => {
  backend = createBackendWithTargetGroups();
  backend.addTargetGroup('spare-tg', ['spare'], null);
  endpoint = await startAwsEndpoint(backend, { port: 0 });
  elb = new ElasticLoadBalancingV2Client({
    endpoint: endpoint.url,
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  elb.destroy();
  await endpoint.close();
});

describe('DescribeTargetGroups (SDK v3)', () => {
  it('describes every target group unfiltered, as Lambda target groups', async () => {
    const out = await elb.send(new DescribeTargetGroupsCommand({}));
    expect(out.TargetGroups?.map((tg) => tg.TargetGroupName)).toEqual(['api-tg', 'web-tg', 'spare-tg']);
    const api = out.TargetGroups?.[0];
    expect(api).toMatchObject({
      TargetGroupArn: targetGroupArn('api-tg'),
      TargetGroupName: 'api-tg',
      TargetType: 'lambda',
      HealthCheckEnabled: false,
      LoadBalancerArns: [loadBalancerArn('lab-alb')],
      Matcher: { HttpCode: '200' },
    });
    expect(api?.Port).toBeUndefined();
    expect(out.TargetGroups?.[2]?.LoadBalancerArns).toEqual([]);
    expect(out.NextMarker).toBeUndefined();
  });

  it('filters by TargetGroupArns, in the order asked', async () => {
    const out = await elb.send(
      new DescribeTargetGroupsCommand({
        TargetGroupArns: [targetGroupArn('web-tg'), targetGroupArn('api-tg')],
      }),
    );
    expect(out.TargetGroups?.map((tg) => tg.TargetGroupName)).toEqual(['web-tg', 'api-tg']);
  });

  it('filters by Names', async () => {
    const out = await elb.send(new DescribeTargetGroupsCommand({ Names: ['spare-tg'] }));
    expect(out.TargetGroups?.map((tg) => tg.TargetGroupArn)).toEqual([targetGroupArn('spare-tg')]);
  });

  it('filters by LoadBalancerArn: only the groups that load balancer routes to', async () => {
    const out = await elb.send(
      new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn('lab-alb') }),
    );
    expect(out.TargetGroups?.map((tg) => tg.TargetGroupName)).toEqual(['api-tg', 'web-tg']);
    const err = await caught(
      elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn('other') })),
    );
    expect(err.name).toBe('LoadBalancerNotFoundException');
  });

  it('an unknown name or ARN fails the whole call with TargetGroupNotFound (400)', async () => {
    const byName = await caught(elb.send(new DescribeTargetGroupsCommand({ Names: ['api-tg', 'gone'] })));
    expect(byName.name).toBe('TargetGroupNotFoundException');
    expect(byName.message).toBe('One or more target groups not found');
    expect((byName.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
    const byArn = await caught(
      elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn('gone')] })),
    );
    expect(byArn.name).toBe('TargetGroupNotFoundException');
  });

  it('refuses two filters at once and a malformed ARN (ValidationError)', async () => {
    const both = await caught(
      elb.send(
        new DescribeTargetGroupsCommand({ Names: ['api-tg'], TargetGroupArns: [targetGroupArn('api-tg')] }),
      ),
    );
    expect(both.name).toBe('ValidationError');
    const bad = await caught(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: ['not-an-arn'] })));
    expect(bad.name).toBe('ValidationError');
    expect(bad.message).toContain("'not-an-arn' is not a valid target group ARN");
  });

  it('pages with PageSize and Marker (the SDK paginator follows NextMarker)', async () => {
    const first = await elb.send(new DescribeTargetGroupsCommand({ PageSize: 2 }));
    expect(first.TargetGroups).toHaveLength(2);
    expect(first.NextMarker).toEqual(expect.any(String));
    const names: string[] = [];
    for await (const page of paginateDescribeTargetGroups({ client: elb, pageSize: 1 }, {}))
      names.push(...(page.TargetGroups ?? []).map((tg) => tg.TargetGroupName ?? ''));
    expect(names).toEqual(['api-tg', 'web-tg', 'spare-tg']);
    const tooBig = await caught(elb.send(new DescribeTargetGroupsCommand({ PageSize: 401 })));
    expect(tooBig.name).toBe('ValidationError');
  });
});

describe('DescribeTargetHealth (SDK v3)', () => {
  it('lists the function registered in a group, health checks disabled as on AWS', async () => {
    const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn('api-tg') }));
    expect(out.TargetHealthDescriptions).toEqual([
      {
        Target: { Id: fn('api') },
        TargetHealth: {
          State: 'unavailable',
          Reason: 'Target.HealthCheckDisabled',
          Description: 'Health checks disabled',
        },
      },
    ]);
  });

  it('answers for the Targets asked: a function not registered is unused', async () => {
    const out = await elb.send(
      new DescribeTargetHealthCommand({
        TargetGroupArn: targetGroupArn('web-tg'),
        Targets: [{ Id: fn('api') }, { Id: fn('web') }],
      }),
    );
    expect(
      out.TargetHealthDescriptions?.map((d) => [d.Target?.Id, d.TargetHealth?.State, d.TargetHealth?.Reason]),
    ).toEqual([
      [fn('api'), 'unused', 'Target.NotRegistered'],
      [fn('web'), 'unavailable', 'Target.HealthCheckDisabled'],
    ]);
  });

  it('an unknown group is TargetGroupNotFound', async () => {
    const err = await caught(
      elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn('gone') })),
    );
    expect(err.name).toBe('TargetGroupNotFoundException');
    expect((err.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
  });
});

describe('the Query wire format', () => {
  async function post(
    form: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string }> {
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
      body: form,
    });
    return { status: res.status, text: await res.text() };
  }

  it('answers XML in the ELBv2 namespace, to unsigned requests too (routed by Version)', async () => {
    const r = await post(`Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=api-tg`);
    expect(r.status).toBe(200);
    expect(r.text).toContain(
      '<DescribeTargetGroupsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">',
    );
    expect(r.text).toContain(`<TargetGroupArn>${targetGroupArn('api-tg')}</TargetGroupArn>`);
    expect(r.text).toContain('<TargetType>lambda</TargetType>');
  });

  it('errors are an ErrorResponse with the Query code', async () => {
    const r = await post(`Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=gone`);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(
      /<ErrorResponse xmlns="http:\/\/elasticloadbalancing\.amazonaws\.com\/doc\/2015-12-01\/"><Error><Type>Sender<\/Type><Code>TargetGroupNotFound<\/Code>/,
    );
  });

  it('an action the lab does not serve is InvalidAction, naming it', async () => {
    const r = await post(`Action=CreateTargetGroup&Version=2015-12-01&Name=x`);
    expect(r.status).toBe(400);
    expect(r.text).toContain('<Code>InvalidAction</Code>');
    expect(r.text).toContain('CreateTargetGroup');
  });

  it('routes a signed request by its credential scope, and CloudWatch Query forms stay CloudWatch', () => {
    const req = (body: string, auth?: string) => ({
      method: 'POST',
      rawPath: '/',
      query: new URLSearchParams(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth ? { authorization: auth } : {}),
      },
      body: Buffer.from(body),
      hostname: '127.0.0.1',
      requestId: 'r',
    });
    const scope = (service: string) =>
      `AWS4-HMAC-SHA256 Credential=x/20240501/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
    expect(routeService(req('Action=DescribeTargetGroups', scope('elasticloadbalancing')))).toBe('elbv2');
    expect(routeService(req('Action=DescribeTargetGroups&Version=2015-12-01'))).toBe('elbv2');
    expect(routeService(req('Action=ListMetrics&Version=2010-08-01'))).toBe('cloudwatch');
  });
});
