/**
 * The scenario's distribution as CloudFront's API describes it (DistributionConfig, API version
 * 2020-05-31), for GetDistribution, GetDistributionConfig and ListDistributions. Managed cache
 * policies appear as their CachePolicyId; TTLs given in the scenario as the legacy
 * ForwardedValues/MinTTL/DefaultTTL/MaxTTL members, which the API still returns for behaviours
 * set up that way. Members follow @aws-sdk/client-cloudfront's model
 * (../shared/reference/cloudfront-athena-facts.md §A6).
 */
import { createHash } from 'node:crypto';
import type { CloudFrontShape, LabDistribution } from '../backend.js';
import type { CachePolicySpec, CloudFrontSpec } from '../scenario.js';
import type { DistributionIds } from './ids.js';
import { errorPagePatterns, ManagedCachePolicy } from './policy.js';

const list = (items: unknown[]): CloudFrontShape =>
  items.length === 0 ? { Quantity: 0 } : { Quantity: items.length, Items: items as CloudFrontShape['Items'] };

const ALL_METHODS = ['HEAD', 'DELETE', 'POST', 'GET', 'OPTIONS', 'PUT', 'PATCH'];

export interface DistributionOrigin {
  /** Origin id, also the behaviours' TargetOriginId. */
  id: string;
  /** The ALB's DNS name as AWS forms it. */
  domainName: string;
  httpPort: number;
}

function behavior(
  targetOriginId: string,
  b: { cachePolicy: CachePolicySpec; forwardedHeaders: string[] },
  pathPattern?: string,
): CloudFrontShape {
  const out: CloudFrontShape = {};
  if (pathPattern !== undefined) out.PathPattern = pathPattern;
  Object.assign(out, {
    TargetOriginId: targetOriginId,
    TrustedSigners: { Enabled: false, Quantity: 0 },
    TrustedKeyGroups: { Enabled: false, Quantity: 0 },
    ViewerProtocolPolicy: 'allow-all',
    AllowedMethods: { ...list(ALL_METHODS), CachedMethods: list(['HEAD', 'GET']) },
    SmoothStreaming: false,
    Compress: false,
    LambdaFunctionAssociations: { Quantity: 0 },
    FunctionAssociations: { Quantity: 0 },
    FieldLevelEncryptionId: '',
  });
  if (typeof b.cachePolicy === 'string') {
    out.CachePolicyId = ManagedCachePolicy[b.cachePolicy].id;
  } else {
    out.ForwardedValues = {
      QueryString: true,
      Cookies: { Forward: 'none' },
      Headers: list(b.forwardedHeaders),
      QueryStringCacheKeys: { Quantity: 0 },
    };
    out.MinTTL = b.cachePolicy.minTTL / 1000;
    out.DefaultTTL = b.cachePolicy.defaultTTL / 1000;
    out.MaxTTL = b.cachePolicy.maxTTL / 1000;
  }
  return out;
}

export function distributionConfig(
  spec: CloudFrontSpec,
  ids: DistributionIds,
  origin: DistributionOrigin,
  region: string,
): CloudFrontShape {
  const origins: CloudFrontShape[] = [
    {
      Id: origin.id,
      DomainName: origin.domainName,
      OriginPath: '',
      CustomHeaders: { Quantity: 0 },
      CustomOriginConfig: {
        HTTPPort: origin.httpPort,
        HTTPSPort: 443,
        OriginProtocolPolicy: 'http-only',
        OriginSslProtocols: list(['TLSv1.2']),
        OriginReadTimeout: spec.origin.responseTimeout / 1000,
        OriginKeepaliveTimeout: spec.origin.keepaliveTimeout / 1000,
      },
      ConnectionAttempts: spec.origin.connectionAttempts,
      ConnectionTimeout: spec.origin.connectionTimeout / 1000,
      OriginShield: { Enabled: false },
      OriginAccessControlId: '',
    },
  ];
  if (spec.errorPages) {
    origins.push({
      Id: `S3-${spec.errorPages.bucket}`,
      DomainName: `${spec.errorPages.bucket}.s3.${region}.amazonaws.com`,
      OriginPath: '',
      CustomHeaders: { Quantity: 0 },
      S3OriginConfig: { OriginAccessIdentity: '' },
      ConnectionAttempts: 3,
      ConnectionTimeout: 10,
      OriginShield: { Enabled: false },
      OriginAccessControlId: '',
    });
  }
  return {
    CallerReference: `throttlescope-lab-${ids.id}`,
    Aliases: { Quantity: 0 },
    DefaultRootObject: '',
    Origins: list(origins),
    OriginGroups: { Quantity: 0 },
    DefaultCacheBehavior: behavior(origin.id, spec.defaultCacheBehavior),
    CacheBehaviors: list([
      ...errorPagePatterns(spec).map((p) =>
        behavior(
          `S3-${spec.errorPages!.bucket}`,
          { cachePolicy: 'CachingOptimized', forwardedHeaders: [] },
          p,
        ),
      ),
      ...spec.cacheBehaviors.map((b) => behavior(origin.id, b, b.pathPattern)),
    ]),
    CustomErrorResponses: list(
      spec.customErrorResponses.map((r) => {
        const item: CloudFrontShape = { ErrorCode: r.errorCode };
        if (r.responsePagePath !== undefined) {
          item.ResponsePagePath = r.responsePagePath;
          // A string in the API model.
          item.ResponseCode = String(r.responseCode ?? r.errorCode);
        }
        if (r.errorCachingMinTTL !== undefined) item.ErrorCachingMinTTL = r.errorCachingMinTTL / 1000;
        return item;
      }),
    ),
    Comment: 'throttlescope lab',
    Logging: spec.logging
      ? {
          Enabled: true,
          IncludeCookies: false,
          Bucket: `${spec.logging.bucket}.s3.amazonaws.com`,
          Prefix: spec.logging.prefix,
        }
      : { Enabled: false, IncludeCookies: false, Bucket: '', Prefix: '' },
    PriceClass: 'PriceClass_All',
    Enabled: true,
    ViewerCertificate: {
      CloudFrontDefaultCertificate: true,
      SSLSupportMethod: 'vip',
      MinimumProtocolVersion: 'TLSv1',
      CertificateSource: 'cloudfront',
    },
    Restrictions: { GeoRestriction: { RestrictionType: 'none', Quantity: 0 } },
    WebACLId: '',
    HttpVersion: 'http2',
    IsIPV6Enabled: true,
    Staging: false,
  };
}

/** The distribution as the API describes it, with an ETag that changes with its config. */
export function labDistribution(
  spec: CloudFrontSpec,
  ids: DistributionIds,
  origin: DistributionOrigin,
  region: string,
  lastModifiedMs: number,
): LabDistribution {
  const config = distributionConfig(spec, ids, origin, region);
  const digest = createHash('sha256').update(JSON.stringify(config)).digest();
  let etag = 'E';
  for (let i = 0; i < 13; i++) etag += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[digest[i]! % 36];
  return {
    id: ids.id,
    arn: ids.arn,
    domainName: ids.domainName,
    status: 'Deployed',
    lastModifiedMs,
    etag,
    config,
  };
}

/** The DNS name AWS gives an internet-facing ALB: `<name>-<digits>.<region>.elb.amazonaws.com`. */
export function albDnsName(name: string, lbId: string, region: string): string {
  const digits = BigInt(`0x${lbId.slice(0, 12)}`)
    .toString()
    .slice(0, 10)
    .padStart(10, '1');
  return `${name}-${digits}.${region}.elb.amazonaws.com`;
}
