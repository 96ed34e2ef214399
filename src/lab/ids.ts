import { createHash } from 'node:crypto';

/**
 * Resource ids and ARNs in AWS's formats. Ids are derived from the scenario (stable across runs,
 * so saved logs and metric queries stay valid) unless the scenario gives them.
 */
export function hex16(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 16);
}

export interface TargetGroupIds {
  name: string;
  id: string;
  /** arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id> */
  arn: string;
  /** `targetgroup/<name>/<id>`: the CloudWatch TargetGroup dimension value. */
  dimension: string;
}

export interface LoadBalancerIds {
  name: string;
  id: string;
  /** arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id> */
  arn: string;
  /** `app/<name>/<id>`: the access log `elb` field and the LoadBalancer dimension value. */
  dimension: string;
}

export function loadBalancerIds(region: string, account: string, name: string, id?: string): LoadBalancerIds {
  const i = id ?? hex16(`${account}:${region}:loadbalancer:${name}`);
  return {
    name,
    id: i,
    arn: `arn:aws:elasticloadbalancing:${region}:${account}:loadbalancer/app/${name}/${i}`,
    dimension: `app/${name}/${i}`,
  };
}

export function targetGroupIds(region: string, account: string, name: string): TargetGroupIds {
  const id = hex16(`${account}:${region}:targetgroup:${name}`);
  return {
    name,
    id,
    arn: `arn:aws:elasticloadbalancing:${region}:${account}:targetgroup/${name}/${id}`,
    dimension: `targetgroup/${name}/${id}`,
  };
}

export function functionArn(region: string, account: string, name: string): string {
  return `arn:aws:lambda:${region}:${account}:function:${name}`;
}
