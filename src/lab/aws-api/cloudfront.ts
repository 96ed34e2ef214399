/**
 * The CloudFront API subset diagnose needs, on its real wire protocol (REST-XML, API version
 * 2020-05-31): GetDistribution, GetDistributionConfig and ListDistributions. Read-only.
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetDistributionConfig.html
 */
import type { CloudFrontShape, CloudFrontValue, LabBackend, LabDistribution } from '../backend.js';
import { type AwsRequest, type AwsResponse, decodePathComponent, isoDate } from './http.js';
import { el, elAttrs, toXml, type XmlChild, type XmlNode } from './xml.js';

export const CLOUDFRONT_VERSION = '2020-05-31';
const CLOUDFRONT_NS = `http://cloudfront.amazonaws.com/doc/${CLOUDFRONT_VERSION}/`;
export const CLOUDFRONT_PATH = /^\/2020-05-31\/distribution(?:\/|$)/;
/** ListDistributions MaxItems default and ceiling. */
const MAX_ITEMS = 100;

/** The element name of a list's members, by the list's member name (REST-XML writes it per item). */
const ITEM_NAMES: Record<string, string> = {
  Aliases: 'CNAME',
  Origins: 'Origin',
  OriginGroups: 'OriginGroup',
  CacheBehaviors: 'CacheBehavior',
  CustomErrorResponses: 'CustomErrorResponse',
  AllowedMethods: 'Method',
  CachedMethods: 'Method',
  Headers: 'Name',
  QueryStringCacheKeys: 'Name',
  OriginSslProtocols: 'SslProtocol',
  CustomHeaders: 'OriginCustomHeader',
  TrustedSigners: 'AwsAccountNumber',
  TrustedKeyGroups: 'KeyGroup',
  LambdaFunctionAssociations: 'LambdaFunctionAssociation',
  FunctionAssociations: 'FunctionAssociation',
  GeoRestriction: 'Location',
  DistributionList: 'DistributionSummary',
};

function nodes(shape: CloudFrontShape, parent: string): XmlChild[] {
  const out: XmlChild[] = [];
  for (const [name, value] of Object.entries(shape)) {
    if (value === undefined) continue;
    if (name === 'Items' && Array.isArray(value)) {
      const item = ITEM_NAMES[parent] ?? 'member';
      out.push(
        el(
          'Items',
          value.map((v) => valueNode(item, v)),
        ),
      );
    } else out.push(valueNode(name, value));
  }
  return out;
}

function valueNode(name: string, value: CloudFrontValue): XmlNode {
  if (value === undefined) return el(name);
  if (Array.isArray(value))
    return el(
      name,
      value.map((v) => valueNode('member', v)),
    );
  if (typeof value === 'object') return el(name, nodes(value, name));
  return el(name, String(value));
}

function xml(root: XmlNode, headers: Record<string, string> = {}, requestId = ''): AwsResponse {
  return {
    status: 200,
    headers: { 'Content-Type': 'text/xml', 'x-amz-request-id': requestId, ...headers },
    body: toXml({ ...root, attrs: { xmlns: CLOUDFRONT_NS } }),
  };
}

function error(req: AwsRequest, status: number, code: string, message: string): AwsResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/xml', 'x-amz-request-id': req.requestId },
    body: toXml(
      elAttrs(
        'ErrorResponse',
        { xmlns: CLOUDFRONT_NS },
        el(
          'Error',
          el('Type', status < 500 ? 'Sender' : 'Receiver'),
          el('Code', code),
          el('Message', message),
        ),
        el('RequestId', req.requestId),
      ),
    ),
  };
}

function distributionNode(d: LabDistribution): XmlNode {
  return el(
    'Distribution',
    el('Id', d.id),
    el('ARN', d.arn),
    el('Status', d.status),
    el('LastModifiedTime', isoDate(d.lastModifiedMs)),
    el('InProgressInvalidationBatches', 0),
    el('DomainName', d.domainName),
    el('ActiveTrustedSigners', el('Enabled', false), el('Quantity', 0)),
    el('ActiveTrustedKeyGroups', el('Enabled', false), el('Quantity', 0)),
    valueNode('DistributionConfig', d.config),
  );
}

/** DistributionSummary: the config's members a summary carries, beside the distribution's own. */
const SUMMARY_MEMBERS = [
  'Aliases',
  'Origins',
  'OriginGroups',
  'DefaultCacheBehavior',
  'CacheBehaviors',
  'CustomErrorResponses',
  'Comment',
  'PriceClass',
  'Enabled',
  'ViewerCertificate',
  'Restrictions',
  'WebACLId',
  'HttpVersion',
  'IsIPV6Enabled',
  'Staging',
];

function summaryShape(d: LabDistribution): CloudFrontShape {
  const out: CloudFrontShape = {
    Id: d.id,
    ARN: d.arn,
    ETag: d.etag,
    Status: d.status,
    LastModifiedTime: isoDate(d.lastModifiedMs),
    DomainName: d.domainName,
  };
  for (const m of SUMMARY_MEMBERS) out[m] = d.config[m];
  return out;
}

export function handleCloudFront(backend: LabBackend, req: AwsRequest): AwsResponse {
  if (req.method !== 'GET') {
    return error(req, 405, 'InvalidArgument', `the lab's CloudFront API is read-only (${req.method})`);
  }
  const all = backend.cloudfront?.distributions() ?? [];
  const parts = req.rawPath.split('/').slice(2); // ['distribution', id?, 'config'?]
  if (parts.length === 1 || (parts.length === 2 && parts[1] === '')) {
    const maxItems = Math.min(
      MAX_ITEMS,
      Math.max(1, Number(req.query.get('MaxItems') ?? MAX_ITEMS) || MAX_ITEMS),
    );
    const marker = req.query.get('Marker') ?? '';
    const sorted = [...all].sort((a, b) => (a.id < b.id ? -1 : 1));
    const start = marker === '' ? 0 : sorted.findIndex((d) => d.id > marker);
    const page = start < 0 ? [] : sorted.slice(start, start + maxItems);
    const truncated = start >= 0 && start + maxItems < sorted.length;
    const list: CloudFrontShape = {
      Marker: marker,
      NextMarker: truncated ? page[page.length - 1]!.id : undefined,
      MaxItems: maxItems,
      IsTruncated: truncated,
      Quantity: page.length,
      Items: page.length > 0 ? page.map(summaryShape) : undefined,
    };
    return xml(valueNode('DistributionList', list), {}, req.requestId);
  }
  const id = decodePathComponent(parts[1] ?? '');
  const d = all.find((x) => x.id === id);
  if (!d) return error(req, 404, 'NoSuchDistribution', 'The specified distribution does not exist.');
  if (parts.length === 2) return xml(distributionNode(d), { ETag: d.etag }, req.requestId);
  if (parts.length === 3 && parts[2] === 'config') {
    return xml(valueNode('DistributionConfig', d.config), { ETag: d.etag }, req.requestId);
  }
  return error(req, 404, 'NoSuchResource', `unknown CloudFront resource ${req.rawPath}`);
}
