/**
 * The seam between the lab's platform (ALB, Lambda runtime, pool, logs, metrics) and its
 * AWS-compatible endpoint (`aws-api/`): the endpoint only speaks wire protocols and calls these
 * interfaces, so either side can be tested with the other replaced by plain in-memory objects.
 * All times are epoch milliseconds on the lab's clock.
 */

export interface StoredObject {
  key: string;
  body: Buffer;
  lastModifiedMs: number;
  /** Quoted hex MD5, as S3 returns it. */
  etag: string;
  contentType?: string | undefined;
}

/** The S3 buckets the lab writes access logs into. */
export interface LabObjectStore {
  buckets(): { name: string; createdMs: number }[];
  hasBucket(bucket: string): boolean;
  /** Keys under `prefix`, sorted in UTF-8 binary order as S3 lists them. */
  list(bucket: string, prefix: string): StoredObject[];
  get(bucket: string, key: string): StoredObject | undefined;
  put(bucket: string, key: string, body: Buffer, contentType?: string): StoredObject;
}

export interface MetricDimension {
  name: string;
  value: string;
}

export interface MetricId {
  namespace: string;
  metricName: string;
  dimensions: MetricDimension[];
}

export type MetricStat = 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount' | `p${number}`;

/** CloudWatch-style metric storage: raw datapoints aggregated on query. */
export interface LabMetricsStore {
  /** Metrics that have at least one datapoint, optionally filtered (dimensions must all match). */
  list(filter?: {
    namespace?: string;
    metricName?: string;
    dimensions?: { name: string; value?: string }[];
  }): MetricId[];
  /**
   * Datapoints of one metric (dimensions must match exactly, as CloudWatch does), aggregated
   * over `periodSec` buckets aligned to the epoch, in [startMs, endMs), oldest first; buckets
   * without data are omitted, as CloudWatch omits them.
   */
  query(
    metric: MetricId,
    stat: MetricStat,
    periodSec: number,
    startMs: number,
    endMs: number,
  ): { timestampsMs: number[]; values: number[] };
}

export interface LabFunctionInfo {
  name: string;
  arn: string;
  runtime: string;
  handler: string;
  memoryMb: number;
  timeoutSec: number;
  lastModified: string;
  /** Undefined = no reserved concurrency (draws from the shared pool). */
  reserved: number | undefined;
}

export interface LabInvokeResult {
  /** HTTP status of the Invoke API response: 200 sync, 202 async, 429 throttled, ... */
  statusCode: number;
  payload: Buffer;
  /** `Unhandled` when the function threw; undefined on success. */
  functionError?: string | undefined;
  executedVersion?: string | undefined;
  /** For a 429/4xx/5xx: the AWS error type and message (e.g. TooManyRequestsException + Reason). */
  error?: { type: string; message: string; reason?: string | undefined } | undefined;
}

export interface LabLambdaControl {
  listFunctions(): LabFunctionInfo[];
  getFunction(name: string): LabFunctionInfo | undefined;
  account(): {
    concurrentExecutionsLimit: number;
    unreservedConcurrentExecutions: number;
    functionCount: number;
  };
  /**
   * Sets reserved concurrency, effective immediately on live traffic. Throws a `PoolConfigError`
   * (src/common/concurrency/pool.ts) carrying AWS's message and `awsCode` when AWS would refuse.
   */
  putReserved(name: string, reserved: number): void;
  deleteReserved(name: string): void;
  invoke(
    name: string,
    payload: Buffer,
    invocationType: 'RequestResponse' | 'Event' | 'DryRun',
  ): Promise<LabInvokeResult>;
}

/** One target group of the lab's ALB, as Elastic Load Balancing v2 describes it. */
export interface LabTargetGroupInfo {
  name: string;
  /** arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id> */
  arn: string;
  /** The load balancers that route to it (their listener rules or default action name it). */
  loadBalancerArns: string[];
  /** ARNs of the Lambda functions registered as its targets (AWS allows one per group). */
  functionArns: string[];
}

/**
 * The load balancers' target groups (the lab's only target type is `lambda`). Either method may
 * throw an error carrying `awsCode` (say `AccessDenied`) for the endpoint to refuse as AWS would.
 */
export interface LabLoadBalancing {
  /** Every target group, in a stable order. */
  targetGroups(): LabTargetGroupInfo[];
  /** The ARNs of every load balancer, to tell an unknown LoadBalancerArn from a known one. */
  loadBalancerArns(): string[];
}

/**
 * A CloudFront API shape as plain data: members by their API names, `{ Quantity, Items }` wrappers
 * for lists (as the REST-XML protocol writes them), leaves as text, numbers or booleans.
 */
export interface CloudFrontShape {
  [member: string]: CloudFrontValue;
}
export type CloudFrontValue = string | number | boolean | undefined | CloudFrontShape | CloudFrontValue[];

/** One distribution, as GetDistribution describes it. */
export interface LabDistribution {
  id: string;
  arn: string;
  domainName: string;
  /** `Deployed`: the lab's distribution is live at once. */
  status: string;
  lastModifiedMs: number;
  /** The config version an update would have to echo in If-Match. */
  etag: string;
  /** DistributionConfig, API member names. */
  config: CloudFrontShape;
}

/** CloudFront's control plane, read-only (diagnose reads the configuration). */
export interface LabCloudFrontControl {
  distributions(): LabDistribution[];
}

export interface LabBackend {
  region: string;
  accountId: string;
  s3: LabObjectStore;
  cloudwatch: LabMetricsStore;
  lambda: LabLambdaControl;
  elbv2: LabLoadBalancing;
  /** Absent when the scenario has no distribution (the API then lists none). */
  cloudfront?: LabCloudFrontControl | undefined;
}
