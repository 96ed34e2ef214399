/**
 * Reads a CloudFront distribution for diagnose: its configuration (GetDistributionConfig: error
 * caching TTLs, custom error responses, cache behaviours) and its AWS/CloudFront metrics
 * (dimensions DistributionId and Region=Global; CloudFront publishes them in us-east-1).
 */
import type { DistributionConfig } from '@aws-sdk/client-cloudfront';
import { type AwsConnection, awsClientConfig, toRemoteError } from '../common/aws.js';
import { getMetricSeries } from '../metrics/collect.js';
import { alignDown, alignUp } from '../metrics/series.js';
import {
  CACHING_DISABLED_POLICY_ID,
  type CloudFrontBehavior,
  type CloudFrontConfigEvidence,
  type CloudFrontMetricsEvidence,
} from './cloudfront.js';

/** CloudFront is a global service: its API and its metrics live in us-east-1. */
const CLOUDFRONT_REGION = 'us-east-1';

/** The parts of a DistributionConfig diagnose reasons over. */
export function configEvidenceFrom(
  distributionId: string,
  config: DistributionConfig,
): CloudFrontConfigEvidence {
  const behavior = (
    pathPattern: string,
    b: {
      CachePolicyId?: string | undefined;
      MinTTL?: number | undefined;
      DefaultTTL?: number | undefined;
      MaxTTL?: number | undefined;
    },
  ): CloudFrontBehavior => ({
    pathPattern,
    cachePolicyId: b.CachePolicyId ?? null,
    // Without a cache policy, the legacy TTLs decide; all three 0 caches nothing.
    cachingDisabled:
      b.CachePolicyId === CACHING_DISABLED_POLICY_ID ||
      (!b.CachePolicyId && b.MinTTL === 0 && b.DefaultTTL === 0 && b.MaxTTL === 0),
  });
  const behaviors: CloudFrontBehavior[] = [];
  for (const b of config.CacheBehaviors?.Items ?? []) behaviors.push(behavior(b.PathPattern ?? '', b));
  if (config.DefaultCacheBehavior) behaviors.push(behavior('*', config.DefaultCacheBehavior));
  return {
    distributionId,
    customErrorResponses: (config.CustomErrorResponses?.Items ?? []).map((r) => ({
      errorCode: r.ErrorCode ?? 0,
      responsePagePath: r.ResponsePagePath || null,
      // ResponseCode is a string in the API model.
      responseCode: r.ResponseCode ? Number(r.ResponseCode) : null,
      errorCachingMinTtl: r.ErrorCachingMinTTL ?? null,
    })),
    behaviors,
  };
}

export async function readDistributionConfig(
  distributionId: string,
  conn: AwsConnection & { env?: NodeJS.ProcessEnv | undefined },
  signal?: AbortSignal,
): Promise<CloudFrontConfigEvidence> {
  const { CloudFrontClient, GetDistributionConfigCommand } = await import('@aws-sdk/client-cloudfront');
  const client = new CloudFrontClient({
    ...(await awsClientConfig(
      { ...conn, region: conn.region ?? CLOUDFRONT_REGION },
      conn.env ?? process.env,
    )),
    region: CLOUDFRONT_REGION,
  });
  try {
    const out = await client.send(new GetDistributionConfigCommand({ Id: distributionId }), {
      abortSignal: signal,
    });
    if (!out.DistributionConfig)
      throw new Error(`GetDistributionConfig ${distributionId} returned no DistributionConfig`);
    return configEvidenceFrom(distributionId, out.DistributionConfig);
  } catch (error) {
    throw toRemoteError(error, `CloudFront GetDistributionConfig ${distributionId}`);
  } finally {
    client.destroy();
  }
}

export async function readCloudFrontMetrics(
  distributionId: string,
  window: { startMs: number; endMs: number; periodSec?: number | undefined },
  conn: AwsConnection & { env?: NodeJS.ProcessEnv | undefined },
  signal?: AbortSignal,
): Promise<{ metrics: CloudFrontMetricsEvidence; messages: string[] }> {
  const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
  const periodSec = window.periodSec ?? 60;
  const cw = new CloudWatchClient({
    ...(await awsClientConfig(
      { ...conn, region: conn.region ?? CLOUDFRONT_REGION },
      conn.env ?? process.env,
    )),
    region: CLOUDFRONT_REGION,
  });
  const dimensions = [
    { name: 'DistributionId', value: distributionId },
    { name: 'Region', value: 'Global' },
  ];
  try {
    const { series, messages } = await getMetricSeries(
      cw,
      [
        { namespace: 'AWS/CloudFront', metricName: 'Requests', dimensions, stat: 'Sum' },
        { namespace: 'AWS/CloudFront', metricName: '5xxErrorRate', dimensions, stat: 'Average' },
      ],
      { startMs: alignDown(window.startMs, periodSec), endMs: alignUp(window.endMs, periodSec), periodSec },
      { signal },
    );
    const [requests, errorRate5xx] = series;
    return {
      metrics: {
        distributionId,
        periodSec,
        requests: requests ?? { timestampsMs: [], values: [] },
        errorRate5xx: errorRate5xx ?? { timestampsMs: [], values: [] },
      },
      messages,
    };
  } finally {
    cw.destroy();
  }
}
