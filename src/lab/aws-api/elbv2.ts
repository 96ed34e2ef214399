/**
 * The Elastic Load Balancing v2 API subset throttlescope needs to map ALB target groups to the
 * Lambda functions behind them: DescribeTargetGroups and DescribeTargetHealth. Both the aws CLI
 * (botocore model `"protocol":"query"`) and the AWS SDK for JavaScript v3
 * (`@aws-sdk/client-elastic-load-balancing-v2`, `AwsQueryProtocol`) speak the AWS Query protocol
 * to it, so unlike CloudWatch there is one wire format to serve.
 */
import type { LabBackend, LabTargetGroupInfo } from '../backend.js';
import { type AwsRequest, type AwsResponse, decodeToken, encodeToken } from './http.js';
import {
  isQueryForm,
  memberList,
  members,
  QueryApiError,
  type QueryValue,
  queryErrorResponse,
  queryResponse,
  queryVersion,
  readQueryRequest,
} from './query.js';
import { el, type XmlChild } from './xml.js';

export const ELBV2_VERSION = '2015-12-01';
const ELBV2_NS = `http://elasticloadbalancing.amazonaws.com/doc/${ELBV2_VERSION}/`;
/** DescribeTargetGroups PageSize bounds (API reference: 1 to 400). */
const MAX_PAGE_SIZE = 400;
const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[^/]+\/[0-9a-f]+$/;

/** An error in ELBv2's Query vocabulary (see QueryApiError). */
export class Elbv2ApiError extends QueryApiError {}

/**
 * True when an unsigned request is ELBv2's by its shape: a Query form naming ELBv2's API version
 * (CloudWatch's Query requests name 2010-08-01). Signed requests are routed by credential scope.
 */
export function looksLikeElbv2(req: AwsRequest): boolean {
  return isQueryForm(req) && queryVersion(req) === ELBV2_VERSION;
}

function stringList(v: QueryValue, field: string): string[] {
  if (v === undefined || v === '') return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new Elbv2ApiError('ValidationError', `The parameter ${field} must be a list of strings.`);
  }
  return v as string[];
}

function optionalString(v: QueryValue, field: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string')
    throw new Elbv2ApiError('ValidationError', `The parameter ${field} must be a string.`);
  return v;
}

function checkTargetGroupArn(arn: string): void {
  if (!TARGET_GROUP_ARN.test(arn)) {
    throw new Elbv2ApiError('ValidationError', `'${arn}' is not a valid target group ARN`);
  }
}

export interface DescribeTargetGroupsOutput {
  targetGroups: LabTargetGroupInfo[];
  nextMarker?: string | undefined;
}

/** Filters by at most one of LoadBalancerArn, TargetGroupArns and Names, as AWS does; pages by Marker. */
export function describeTargetGroups(
  backend: LabBackend,
  input: Record<string, QueryValue>,
): DescribeTargetGroupsOutput {
  const lbArn = optionalString(input.LoadBalancerArn, 'LoadBalancerArn');
  const arns = stringList(input.TargetGroupArns, 'TargetGroupArns');
  const names = stringList(input.Names, 'Names');
  const filters = [lbArn !== undefined, arns.length > 0, names.length > 0].filter(Boolean).length;
  if (filters > 1) {
    throw new Elbv2ApiError(
      'ValidationError',
      'A load balancer ARN, target group ARNs or target group names can be specified, but not more than one of them',
    );
  }
  const pageSizeText = optionalString(input.PageSize, 'PageSize');
  const pageSize = pageSizeText === undefined ? MAX_PAGE_SIZE : Number(pageSizeText);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new Elbv2ApiError(
      'ValidationError',
      `1 validation error detected: Value '${pageSizeText}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and ${MAX_PAGE_SIZE}`,
    );
  }

  const all = backend.elbv2.targetGroups();
  let selected: LabTargetGroupInfo[];
  if (arns.length > 0) {
    for (const arn of arns) checkTargetGroupArn(arn);
    const byArn = new Map(all.map((tg) => [tg.arn, tg]));
    // AWS answers for all of them or fails the call: one unknown ARN is TargetGroupNotFound.
    if (arns.some((arn) => !byArn.has(arn)))
      throw new Elbv2ApiError('TargetGroupNotFound', 'One or more target groups not found');
    selected = [...new Set(arns)].map((arn) => byArn.get(arn)!);
  } else if (names.length > 0) {
    const byName = new Map(all.map((tg) => [tg.name, tg]));
    if (names.some((name) => !byName.has(name)))
      throw new Elbv2ApiError('TargetGroupNotFound', 'One or more target groups not found');
    selected = [...new Set(names)].map((name) => byName.get(name)!);
  } else if (lbArn !== undefined) {
    if (!backend.elbv2.loadBalancerArns().includes(lbArn))
      throw new Elbv2ApiError('LoadBalancerNotFound', 'One or more load balancers not found');
    selected = all.filter((tg) => tg.loadBalancerArns.includes(lbArn));
  } else {
    selected = all;
  }

  let offset = 0;
  const marker = optionalString(input.Marker, 'Marker');
  if (marker !== undefined) {
    const decoded = decodeToken(marker) as { o?: unknown } | undefined;
    if (!decoded || typeof decoded.o !== 'number' || !Number.isInteger(decoded.o) || decoded.o < 0) {
      throw new Elbv2ApiError('ValidationError', `The marker '${marker}' is not valid`);
    }
    offset = decoded.o;
  }
  const end = offset + pageSize;
  return {
    targetGroups: selected.slice(offset, end),
    nextMarker: end < selected.length ? encodeToken({ o: end }) : undefined,
  };
}

export interface TargetHealthDescription {
  targetId: string;
  state: 'unavailable' | 'unused';
  reason: string;
  description: string;
}

/**
 * The lab's target groups have health checks disabled (the default for Lambda target groups), so
 * a registered function is `unavailable` / `Target.HealthCheckDisabled`, as AWS reports it; a
 * function asked about but not registered is `unused` / `Target.NotRegistered`.
 */
export function describeTargetHealth(
  backend: LabBackend,
  input: Record<string, QueryValue>,
): TargetHealthDescription[] {
  const arn = optionalString(input.TargetGroupArn, 'TargetGroupArn');
  if (arn === undefined) {
    throw new Elbv2ApiError(
      'ValidationError',
      "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null",
    );
  }
  checkTargetGroupArn(arn);
  const tg = backend.elbv2.targetGroups().find((t) => t.arn === arn);
  if (!tg) throw new Elbv2ApiError('TargetGroupNotFound', `Target groups '${arn}' not found`);
  const asked = (Array.isArray(input.Targets) ? input.Targets : []).map((t, i) => {
    const id = (t as { Id?: QueryValue } | null)?.Id;
    if (typeof id !== 'string' || id === '')
      throw new Elbv2ApiError('ValidationError', `The parameter Targets.member.${i + 1}.Id is required.`);
    return id;
  });
  const ids = asked.length > 0 ? asked : tg.functionArns;
  return ids.map((id) =>
    tg.functionArns.includes(id)
      ? {
          targetId: id,
          state: 'unavailable',
          reason: 'Target.HealthCheckDisabled',
          description: 'Health checks disabled',
        }
      : {
          targetId: id,
          state: 'unused',
          reason: 'Target.NotRegistered',
          description: 'Target is not registered to the target group',
        },
  );
}

/** The fields AWS returns for a Lambda target group (health checks off, no port, protocol or VPC). */
function targetGroupXml(tg: LabTargetGroupInfo): XmlChild[] {
  return [
    el('TargetGroupArn', tg.arn),
    el('TargetGroupName', tg.name),
    el('HealthCheckEnabled', false),
    el('HealthCheckIntervalSeconds', 35),
    el('HealthCheckTimeoutSeconds', 30),
    el('HealthyThresholdCount', 5),
    el('UnhealthyThresholdCount', 2),
    el('HealthCheckPath', '/'),
    el('Matcher', el('HttpCode', '200')),
    members('LoadBalancerArns', tg.loadBalancerArns),
    el('TargetType', 'lambda'),
  ];
}

/** Handles one request already routed to Elastic Load Balancing v2. */
export function handleElbv2(backend: LabBackend, req: AwsRequest): AwsResponse {
  try {
    const { action, input } = readQueryRequest(req);
    if (action === 'DescribeTargetGroups') {
      const out = describeTargetGroups(backend, input);
      return queryResponse(ELBV2_NS, action, req, [
        memberList('TargetGroups', out.targetGroups.map(targetGroupXml)),
        out.nextMarker ? el('NextMarker', out.nextMarker) : undefined,
      ]);
    }
    if (action === 'DescribeTargetHealth') {
      const out = describeTargetHealth(backend, input);
      return queryResponse(ELBV2_NS, action, req, [
        memberList(
          'TargetHealthDescriptions',
          out.map((d) => [
            el('Target', el('Id', d.targetId)),
            el(
              'TargetHealth',
              el('State', d.state),
              el('Reason', d.reason),
              el('Description', d.description),
            ),
          ]),
        ),
      ]);
    }
    throw new Elbv2ApiError(
      'InvalidAction',
      action === ''
        ? 'The request names no Action; the lab serves DescribeTargetGroups and DescribeTargetHealth.'
        : `The action ${action} is not valid for this web service: the lab's Elastic Load Balancing serves DescribeTargetGroups and DescribeTargetHealth.`,
    );
  } catch (err) {
    return queryErrorResponse(ELBV2_NS, req, backendError(err));
  }
}

/** Maps an error the backend threw to ELBv2's shape: one carrying `awsCode` is a refusal AWS would make. */
function backendError(err: unknown): Elbv2ApiError {
  if (err instanceof Elbv2ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const awsCode = (err as { awsCode?: unknown } | null)?.awsCode;
  if (typeof awsCode === 'string')
    return new Elbv2ApiError(awsCode, message, awsCode === 'AccessDenied' ? 403 : 400);
  return new Elbv2ApiError('InternalFailure', message, 500);
}
