/**
 * Which Lambda functions stand behind the target groups an ALB's access logs name
 * (`targetgroup/<name>/<id>` or the full ARN): Elastic Load Balancing v2 DescribeTargetGroups,
 * then DescribeTargetHealth for each Lambda group (its targets' ids are the function ARNs).
 * Nothing here fails the caller on a refusal: what could not be mapped, and why, is returned as
 * gaps for the user.
 */
import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  paginateDescribeTargetGroups,
  type TargetGroup,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type AwsConnection, awsClientConfig, toRemoteError } from '../common/aws.js';
import { isThrottlescopeError, ThrottlescopeError } from '../common/errors.js';

export interface TargetGroupFunctions {
  /**
   * `targetgroup/<name>/<id>` (the CloudWatch TargetGroup dimension, and the key the logs engine
   * counts by) → names of the Lambda functions registered in it: AWS allows one per group.
   * Groups that could not be mapped are absent.
   */
  functionsByTargetGroup: Map<string, string[]>;
  /** What could not be mapped and why (refused, not found), one statement each. */
  gaps: string[];
}

/**
 * Groups per DescribeTargetGroups call. The API model sets no limit; small batches bound what one
 * unknown group costs (its batch is retried one group at a time).
 */
const DESCRIBE_BATCH = 20;

interface TargetGroupRef {
  /** `targetgroup/<name>/<id>`. */
  dimension: string;
  name: string;
  /** The full ARN when the caller had it (access logs carry it); looked up by name otherwise. */
  arn?: string | undefined;
}

const TARGET_GROUP_RE = /(?:^|:)(targetgroup\/([^/:]+)\/([0-9a-f]+))$/;

/** A target group from a log or metric value; undefined for `-` (no target) and anything else. */
export function parseTargetGroupRef(value: string): TargetGroupRef | undefined {
  const m = TARGET_GROUP_RE.exec(value);
  if (!m) return undefined;
  return { dimension: m[1]!, name: m[2]!, arn: value.startsWith('arn:') ? value : undefined };
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` → `<name>`; other ids as they are. */
export function functionNameOf(targetId: string): string {
  const m = /^arn:aws[a-z-]*:lambda:[^:]*:\d*:function:([^:]+)(?::.*)?$/.exec(targetId);
  return m ? m[1]! : targetId;
}

function dimensionOf(arn: string | undefined): string | undefined {
  return arn === undefined ? undefined : parseTargetGroupRef(arn)?.dimension;
}

/**
 * Maps target groups (dimensions or ARNs, as the logs give them; duplicates and `-` are fine) to
 * the functions behind them. Rejects only when interrupted (`signal`); AWS refusals become gaps.
 */
export async function mapTargetGroupsToFunctions(
  client: ElasticLoadBalancingV2Client,
  targetGroups: Iterable<string>,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<TargetGroupFunctions> {
  const refs = new Map<string, TargetGroupRef>();
  for (const value of targetGroups) {
    const ref = parseTargetGroupRef(value);
    if (ref && !refs.get(ref.dimension)?.arn) refs.set(ref.dimension, ref);
  }
  const functionsByTargetGroup = new Map<string, string[]>();
  const gaps: string[] = [];
  if (refs.size === 0) return { functionsByTargetGroup, gaps };
  const signal = options.signal;

  let described: Map<string, TargetGroup>;
  try {
    described = await describeTargetGroups(client, [...refs.values()], signal);
  } catch (error) {
    gaps.push(
      `target groups not mapped to Lambda functions: ${remoteMessage(error, 'ELBv2 DescribeTargetGroups', signal)}`,
    );
    return { functionsByTargetGroup, gaps };
  }
  for (const ref of refs.values()) {
    const tg = described.get(ref.dimension);
    if (!tg) {
      gaps.push(
        `target group ${ref.dimension} (in the logs) was not found by DescribeTargetGroups: deleted since, or in another account or region; its function is unknown`,
      );
      continue;
    }
    // Instance, IP and ALB targets are not functions: nothing to map.
    if (tg.TargetType !== 'lambda') continue;
    try {
      const health = await client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }),
        {
          abortSignal: signal,
        },
      );
      const names = (health.TargetHealthDescriptions ?? [])
        .map((d) => d.Target?.Id)
        .filter((id): id is string => typeof id === 'string' && id !== '')
        .map(functionNameOf);
      functionsByTargetGroup.set(ref.dimension, [...new Set(names)]);
    } catch (error) {
      const message = remoteMessage(error, 'ELBv2 DescribeTargetHealth', signal);
      gaps.push(`the functions behind target group ${ref.dimension} are unknown: ${message}`);
    }
  }
  return { functionsByTargetGroup, gaps: [...new Set(gaps)] };
}

/**
 * Describes the groups by ARN where known, else by name, in batches. One unknown name or ARN
 * fails a whole batch (TargetGroupNotFound), so such a batch is retried one group at a time, to
 * map the rest. Keyed by dimension; a group of the same name but another id is not a match.
 */
async function describeTargetGroups(
  client: ElasticLoadBalancingV2Client,
  refs: TargetGroupRef[],
  signal: AbortSignal | undefined,
): Promise<Map<string, TargetGroup>> {
  const found = new Map<string, TargetGroup>();
  const describe = async (filter: { TargetGroupArns: string[] } | { Names: string[] }) => {
    // A batch fits one page (400 groups); NextMarker is followed all the same.
    for await (const page of paginateDescribeTargetGroups(
      { client },
      { ...filter },
      { abortSignal: signal },
    )) {
      for (const tg of page.TargetGroups ?? []) {
        const dimension = dimensionOf(tg.TargetGroupArn);
        if (dimension) found.set(dimension, tg);
      }
    }
  };
  const byArn = refs.filter((r) => r.arn !== undefined).map((r) => r.arn as string);
  const byName = refs.filter((r) => r.arn === undefined).map((r) => r.name);
  const batches = [
    ...chunks(byArn).map((TargetGroupArns) => ({ TargetGroupArns })),
    ...chunks([...new Set(byName)]).map((Names) => ({ Names })),
  ];
  for (const batch of batches) {
    try {
      await describe(batch);
    } catch (error) {
      if (!(error instanceof TargetGroupNotFoundException)) throw error;
      const singles =
        'Names' in batch
          ? batch.Names.map((name) => ({ Names: [name] }))
          : batch.TargetGroupArns.map((arn) => ({ TargetGroupArns: [arn] }));
      for (const single of singles) {
        try {
          await describe(single);
        } catch (singleError) {
          if (!(singleError instanceof TargetGroupNotFoundException)) throw singleError;
        }
      }
    }
  }
  return found;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += DESCRIBE_BATCH) out.push(items.slice(i, i + DESCRIBE_BATCH));
  return out;
}

/** The one-line reason for a gap; an interruption is not a gap and propagates. */
function remoteMessage(error: unknown, operation: string, signal: AbortSignal | undefined): string {
  if (signal?.aborted) {
    throw new ThrottlescopeError('TS_INTERRUPTED', `${operation}: interrupted`, {
      cause: error,
    });
  }
  return toRemoteError(error, operation).message;
}

/**
 * Builds an ELBv2 client from a connection (the same region, credentials and endpoint rules as
 * every other client, src/common/aws.ts), maps, and closes it. A connection that cannot be
 * configured (no region) is a gap too.
 */
export async function mapTargetGroupsWithConnection(
  connection: AwsConnection & { env?: NodeJS.ProcessEnv | undefined },
  targetGroups: Iterable<string>,
  options: { signal?: AbortSignal | undefined } = {},
): Promise<TargetGroupFunctions> {
  let config: Awaited<ReturnType<typeof awsClientConfig>>;
  try {
    config = await awsClientConfig(connection, connection.env ?? process.env);
  } catch (error) {
    const reason = isThrottlescopeError(error) ? error.message : String(error);
    return {
      functionsByTargetGroup: new Map(),
      gaps: [`target groups not mapped to Lambda functions: ${reason}`],
    };
  }
  const { ElasticLoadBalancingV2Client } = await import('@aws-sdk/client-elastic-load-balancing-v2');
  const client = new ElasticLoadBalancingV2Client(config);
  try {
    return await mapTargetGroupsToFunctions(client, targetGroups, options);
  } finally {
    client.destroy();
  }
}
