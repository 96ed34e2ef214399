/**
 * The CloudFront API subset against a lab with a distribution: the AWS SDK for JavaScript v3
 * (@aws-sdk/client-cloudfront, REST-XML) and Debian's aws CLI (/usr/bin/aws; skipped when missing
 * unless THROTTLESCOPE_REQUIRE_TOOLS=1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFrontClient,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  NoSuchDistribution,
} from '@aws-sdk/client-cloudfront';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { builtinScenario, type Lab, startLab } from '../../../src/lab/index.js';
import { awsCliAvailable, describeAwsCliPresence, runAwsCli } from '../../helpers/aws-cli.js';

let lab: Lab;
let endpoint: AwsEndpoint;
let client: CloudFrontClient;

beforeAll(async () => {
  lab = await startLab(builtinScenario('noisy-neighbour')!, { sources: false });
  endpoint = await startAwsEndpoint(lab.backend, { port: 0 });
  client = new CloudFrontClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await endpoint?.close();
  await lab?.close();
});

describe('CloudFront API with the SDK v3 client', () => {
  it('GetDistributionConfig returns the scenario as CloudFront describes it, with an ETag', async () => {
    const id = lab.cloudfront!.ids.id;
    const out = await client.send(new GetDistributionConfigCommand({ Id: id }));
    expect(out.ETag).toMatch(/^E[A-Z0-9]{13}$/);
    const c = out.DistributionConfig!;
    expect(c.Enabled).toBe(true);
    const alb = c.Origins!.Items![0]!;
    expect(alb.DomainName).toMatch(/^shop-alb-\d{10}\.us-east-1\.elb\.amazonaws\.com$/);
    expect(alb.CustomOriginConfig).toMatchObject({
      OriginProtocolPolicy: 'http-only',
      OriginReadTimeout: 30,
      OriginKeepaliveTimeout: 5,
    });
    expect(c.Origins!.Items![1]!.DomainName).toBe('shop-error-pages.s3.us-east-1.amazonaws.com');
    expect(c.DefaultCacheBehavior).toMatchObject({ MinTTL: 0, DefaultTTL: 0, MaxTTL: 31_536_000 });
    expect(c.DefaultCacheBehavior!.AllowedMethods!.CachedMethods!.Items).toEqual(['HEAD', 'GET']);
    // The error pages' path goes to their S3 bucket, as AWS advises.
    expect(c.CacheBehaviors!.Items!.map((b) => [b.PathPattern, b.TargetOriginId, b.CachePolicyId])).toEqual([
      ['/errors/*', 'S3-shop-error-pages', '658327ea-f89d-4fab-a63d-7e88639e58f6'],
    ]);
    expect(c.CustomErrorResponses).toEqual({
      Quantity: 1,
      Items: [{ ErrorCode: 502, ResponsePagePath: '/errors/502.html', ResponseCode: '502' }],
    });
    expect(c.Logging).toEqual({
      Enabled: true,
      IncludeCookies: false,
      Bucket: 'shop-cloudfront-logs.s3.amazonaws.com',
      Prefix: 'cloudfront',
    });
  });

  it('GetDistribution and ListDistributions describe the same distribution', async () => {
    const id = lab.cloudfront!.ids.id;
    const d = await client.send(new GetDistributionCommand({ Id: id }));
    expect(d.Distribution).toMatchObject({
      Id: id,
      ARN: `arn:aws:cloudfront::123456789012:distribution/${id}`,
      Status: 'Deployed',
      DomainName: lab.cloudfront!.ids.domainName,
    });
    expect(d.Distribution!.LastModifiedTime).toBeInstanceOf(Date);
    const list = await client.send(new ListDistributionsCommand({}));
    expect(list.DistributionList).toMatchObject({ Quantity: 1, IsTruncated: false });
    const summary = list.DistributionList!.Items![0]!;
    expect(summary.Id).toBe(id);
    expect(summary.Origins!.Items![0]!.DomainName).toMatch(/elb\.amazonaws\.com$/);
    expect(summary.CustomErrorResponses!.Items![0]!.ErrorCode).toBe(502);
  });

  it('an unknown id is NoSuchDistribution (404)', async () => {
    const err = await client.send(new GetDistributionConfigCommand({ Id: 'E000000000000' })).catch((e) => e);
    expect(err).toBeInstanceOf(NoSuchDistribution);
    expect(err.$metadata.httpStatusCode).toBe(404);
  });
});

describe('AWS/CloudFront metrics through the CloudWatch API', () => {
  it('Requests (Sum) and the error rates (Average, percent) count viewer responses, cached replays included', async () => {
    // No traffic or background sources: these are the only viewer requests. With api's reserved
    // concurrency at 0 every /api/orders is throttled: a 502, then its cached replay.
    const cf = lab.cloudfront!.url;
    const statuses: number[] = [];
    const ages: (string | null)[] = [];
    lab.backend.lambda.putReserved('api', 0);
    try {
      for (const path of ['/', '/api/orders', '/', '/api/orders']) {
        const r = await fetch(`${cf}${path}`);
        await r.arrayBuffer();
        statuses.push(r.status);
        ages.push(r.headers.get('age'));
      }
    } finally {
      lab.backend.lambda.deleteReserved('api');
    }
    expect(statuses).toEqual([200, 502, 200, 502]);
    expect(ages[3]).not.toBeNull();
    await lab.flush();
    const cw = new CloudWatchClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
      maxAttempts: 1,
    });
    try {
      const dims = [
        { Name: 'DistributionId', Value: lab.cloudfront!.ids.id },
        { Name: 'Region', Value: 'Global' },
      ];
      const now = lab.clock.now();
      const out = await cw.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 3_600_000),
          EndTime: new Date(now + 60_000),
          MetricDataQueries: [
            {
              Id: 'requests',
              MetricStat: {
                Metric: { Namespace: 'AWS/CloudFront', MetricName: 'Requests', Dimensions: dims },
                Period: 3600,
                Stat: 'Sum',
              },
            },
            {
              Id: 'rate5xx',
              MetricStat: {
                Metric: { Namespace: 'AWS/CloudFront', MetricName: '5xxErrorRate', Dimensions: dims },
                Period: 3600,
                Stat: 'Average',
              },
            },
          ],
        }),
      );
      const sum = (id: string) =>
        (out.MetricDataResults ?? []).find((r) => r.Id === id)!.Values!.reduce((a, b) => a + b, 0);
      expect(sum('requests')).toBe(4);
      const fivexx = statuses.filter((s) => s >= 500).length;
      const rates = (out.MetricDataResults ?? []).find((r) => r.Id === 'rate5xx')!;
      // One period (or two, across an hour boundary): the request-weighted average is the share.
      expect(rates.Values!.length).toBeGreaterThan(0);
      if (rates.Values!.length === 1) expect(rates.Values![0]).toBeCloseTo((100 * fivexx) / 4, 6);
      expect(fivexx).toBe(2);
    } finally {
      cw.destroy();
    }
  });
});

describeAwsCliPresence();

describe.runIf(awsCliAvailable)('aws cloudfront against the lab', { timeout: 60_000 }, () => {
  it('get-distribution-config', async () => {
    const home = mkdtempSync(join(tmpdir(), 'throttlescope-awscli-'));
    try {
      const out = await runAwsCli(endpoint.url, home, 'us-east-1', [
        'cloudfront',
        'get-distribution-config',
        '--id',
        lab.cloudfront!.ids.id,
      ]);
      expect(out.code, out.stderr).toBe(0);
      const doc = JSON.parse(out.stdout);
      expect(doc.ETag).toMatch(/^E[A-Z0-9]{13}$/);
      expect(doc.DistributionConfig.CustomErrorResponses.Items[0]).toEqual({
        ErrorCode: 502,
        ResponsePagePath: '/errors/502.html',
        ResponseCode: '502',
      });
      expect(doc.DistributionConfig.Origins.Items[0].CustomOriginConfig.OriginReadTimeout).toBe(30);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
