/**
 * Lab scenario files: YAML validated against one zod schema, every problem reported at once as
 * `path: expected ...`. The schema is the single source of defaults and of the JSON Schema
 * published in docs/lab.md (`scenarioJsonSchema()`).
 *
 * All durations are scenario ("lab") time: the lab's clock runs `timeScale` times faster than the
 * wall clock, so a scenario can compress minutes into seconds.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { LambdaLimits, scaledUnreservedMinimum } from '../common/concurrency/aws-limits.js';
import { ConfigError, ThrottlescopeError } from '../common/errors.js';
import { durationMs } from '../common/time.js';

/** AWS limits the scenario format checks. */
export const ScenarioLimits = {
  /** https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
  maxTimeoutSec: 900,
  /** https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html */
  minMemoryMb: 128,
  maxMemoryMb: 10_240,
  /** ALB listener rule priorities: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html */
  maxRulePriority: 50_000,
  /** Lambda asynchronous invocation defaults: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html */
  defaultMaximumRetryAttempts: 2,
  defaultMaximumEventAgeSec: 21_600,
  minMaximumEventAgeSec: 60,
  /** ALB access-log delivery interval: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html */
  defaultLogIntervalSec: 300,
} as const;

/** A duration: a number of seconds, or text in common/time.ts's grammar (`250ms`, `3s`, `5m`, `1h`). Parsed to milliseconds. */
const duration = (what = 'a duration') =>
  z
    .union([z.number().nonnegative(), z.string()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v * 1000;
      const ms = durationMs(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected ${what} like 250ms, 3s, 5m or 1h, got "${v}"` });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: `${what}: seconds as a number, or text with a unit (ms, s, m, h, d)` });

const nameRe = (what: string, re: RegExp, hint: string) =>
  z.string().regex(re, { message: `expected ${what} (${hint})` });

const lambdaName = nameRe('a Lambda function name', /^[A-Za-z0-9_-]{1,64}$/, '1-64 letters, digits, - or _');
const elbName = (what: string) =>
  nameRe(
    what,
    /^(?!-)[A-Za-z0-9-]{1,32}(?<!-)$/,
    '1-32 letters, digits or hyphens, not starting or ending with -',
  );

const bucketName = () =>
  nameRe('an S3 bucket name', /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, '3-63 lowercase letters, digits, . or -');

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(5)]);

const distribution = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fixed'), value: duration() }),
  z.strictObject({ kind: z.literal('uniform'), min: duration(), max: duration() }),
  z.strictObject({ kind: z.literal('exponential'), mean: duration() }),
  z
    .strictObject({ kind: z.literal('lognormal'), median: duration(), p99: duration() })
    .meta({ description: 'log-normal with the given median and 99th percentile' }),
]);

const synthetic = z
  .strictObject({
    duration: distribution,
    /** Probability (0..1) that an invocation ends with an unhandled error. */
    errorRate: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('probability that an invocation fails (unhandled error)'),
    statusCode: z.number().int().min(100).max(599).default(200),
    /** Size of the response body in bytes. */
    responseBytes: z.number().int().min(0).default(2).describe('response body size in bytes'),
    contentType: z.string().default('text/plain'),
  })
  .meta({ description: 'a model of a function: no code runs, only timers' });

const handler = z
  .strictObject({
    /** Path to an ES module (.mjs/.js; .ts/.mts through tsx), relative to the scenario file. */
    module: z
      .string()
      .min(1)
      .describe('ES module path (.mjs/.js, or .ts/.mts via tsx), relative to the scenario file'),
    export: z.string().min(1).default('handler'),
    /**
     * Most worker threads (execution environments) kept for this function. Invocations beyond it
     * wait for a free worker while holding their concurrency.
     */
    maxWorkers: z
      .number()
      .int()
      .min(1)
      .max(512)
      .default(64)
      .describe(
        'most worker threads (execution environments); invocations beyond wait, holding their concurrency',
      ),
  })
  .meta({ description: 'a real handler module run in worker threads, one invocation per worker at a time' });

const fn = z
  .strictObject({
    name: lambdaName,
    memoryMb: z.number().int().min(ScenarioLimits.minMemoryMb).max(ScenarioLimits.maxMemoryMb).default(128),
    timeout: duration('a timeout').prefault(3),
    reservedConcurrency: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        'reserved concurrency: a cap and a guarantee carved out of the account pool; 0 throttles every call',
      ),
    synthetic: synthetic.optional(),
    handler: handler.optional(),
    async: z
      .strictObject({
        maximumRetryAttempts: z
          .number()
          .int()
          .min(0)
          .max(2)
          .default(ScenarioLimits.defaultMaximumRetryAttempts),
        maximumEventAge: duration('a maximum event age').prefault(ScenarioLimits.defaultMaximumEventAgeSec),
      })
      .prefault({}),
  })
  .meta({ description: 'a Lambda function: exactly one of `synthetic` or `handler`' });

const ratePoint = z.strictObject({ at: duration('a time offset'), perSecond: z.number().min(0) });
const rate = z
  .union([z.number().min(0), z.array(ratePoint).min(1)])
  .meta({ description: 'per lab-second; a number, or steps [{at, perSecond}] in time order' });

const background = z
  .strictObject({
    name: z.string().min(1),
    function: lambdaName,
    /**
     * `queue`: messages arrive in an SQS-like queue; an event source mapping polls it and invokes
     * synchronously, up to `maxConcurrency` at a time, retrying throttled messages.
     * `async`: asynchronous (`Event`) invocations, as S3, SNS or EventBridge make them.
     */
    kind: z
      .enum(['queue', 'async'])
      .describe(
        'queue: SQS-like queue polled by an event source mapping (sync invokes); async: Event invocations',
      ),
    rate,
    arrivals: z.enum(['uniform', 'poisson']).default('uniform'),
    maxConcurrency: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .optional()
      .describe('queue only: the event source mapping maximum concurrency; unbounded when omitted'),
    payload: z.unknown().optional(),
  })
  .meta({ description: 'an invoker that is not the ALB (how a runaway function is modelled)' });

const traffic = z
  .strictObject({
    name: z.string().min(1).optional(),
    method: z
      .string()
      .regex(/^[A-Z]+$/, { message: 'expected an HTTP method in capitals' })
      .default('GET'),
    path: z.string().startsWith('/', { message: 'expected a path starting with /' }),
    host: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    rate,
    arrivals: z.enum(['uniform', 'poisson']).default('poisson'),
    /** Straight to the ALB (the default), or as viewers through the `cloudfront` distribution. */
    via: z
      .enum(['alb', 'cloudfront'])
      .default('alb')
      .describe('straight to the ALB, or through the cloudfront distribution as viewers'),
  })
  .meta({ description: 'HTTP clients the lab runs against its own ALB ("ordinary traffic")' });

const rule = z.strictObject({
  priority: z.number().int().min(1).max(ScenarioLimits.maxRulePriority),
  path: oneOrMany.optional(),
  host: oneOrMany.optional(),
  method: oneOrMany.optional(),
  targetGroup: elbName('a target group name'),
});

const targetGroup = z.strictObject({
  name: elbName('a target group name'),
  function: lambdaName,
  multiValueHeaders: z
    .boolean()
    .default(false)
    .describe('the target group attribute lambda.multi_value_headers.enabled'),
});

const loadBalancer = z.strictObject({
  name: elbName('a load balancer name'),
  /** 16 hex digits; default derived from account, region and name. */
  id: nameRe('a load balancer id', /^[0-9a-f]{16}$/, '16 lowercase hex digits').optional(),
  /** Private IP of the (single) load balancer node, as it appears in log file names. */
  nodeIp: z
    .ipv4()
    .default('10.0.1.23')
    .describe('private IP of the load balancer node, as it appears in log file names'),
  targetGroups: z.array(targetGroup).min(1),
  rules: z.array(rule).default([]),
  defaultTargetGroup: elbName('a target group name'),
  accessLogs: z
    .strictObject({
      bucket: bucketName(),
      prefix: z.string().default(''),
      interval: duration('a delivery interval').prefault(ScenarioLimits.defaultLogIntervalSec),
    })
    .prefault({ bucket: 'lab-alb-access-logs' }),
});

/**
 * CloudFront's limits and defaults the scenario format uses.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/distribution-web-values-specify.html
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/GeneratingCustomErrorResponses.html
 */
export const CloudFrontLimits = {
  /** Status codes a custom error response (or an error caching minimum TTL) can be set for. */
  customizableErrorCodes: [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504],
  /** https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html */
  defaultErrorCachingMinTtlSec: 10,
  defaultResponseTimeoutSec: 30,
  maxResponseTimeoutSec: 120,
  defaultKeepaliveTimeoutSec: 5,
  maxKeepaliveTimeoutSec: 120,
  defaultConnectionAttempts: 3,
  defaultConnectionTimeoutSec: 10,
  maxConnectionTimeoutSec: 10,
} as const;

const ERROR_CODES = CloudFrontLimits.customizableErrorCodes;
const errorCode = z
  .number()
  .int()
  .refine((c) => (ERROR_CODES as readonly number[]).includes(c), {
    message: `expected one of the codes CloudFront customises (${ERROR_CODES.join(', ')})`,
  });

const durationWithin = (what: string, minSec: number, maxSec: number) =>
  duration(what).refine((ms) => ms >= minSec * 1000 && ms <= maxSec * 1000, {
    message: `expected ${what} between ${minSec}s and ${maxSec}s`,
  });

const cachePolicy = z
  .union([
    z.enum(['CachingOptimized', 'CachingDisabled']),
    z.strictObject({
      minTTL: duration('a TTL').prefault(0),
      defaultTTL: duration('a TTL').prefault(86_400),
      maxTTL: duration('a TTL').prefault(31_536_000),
    }),
  ])
  .default('CachingOptimized')
  .meta({
    description:
      'a managed policy (CachingOptimized: TTL 1s/1d/1y; CachingDisabled: nothing cached) or min/default/max TTLs',
  });

const cacheBehaviorFields = {
  cachePolicy,
  /** Viewer headers in the cache key and sent to the origin (User-Agent among them keeps the viewer's). */
  forwardedHeaders: z
    .array(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'expected an HTTP header name' }))
    .default([])
    .describe('viewer headers in the cache key and forwarded to the origin'),
};

const cloudfront = z
  .strictObject({
    /** Default derived from the account and the load balancer. */
    id: nameRe(
      'a distribution id',
      /^E[A-Z0-9]{12,13}$/,
      'E followed by 12-13 capitals or digits',
    ).optional(),
    domainName: nameRe(
      'a CloudFront domain name',
      /^d[a-z0-9]{13}\.cloudfront\.net$/,
      'like d111111abcdef8.cloudfront.net',
    ).optional(),
    /** The edge location (POP) that answers, as X-Amz-Cf-Pop and the log's x-edge-location show it. */
    pop: nameRe('an edge location', /^[A-Z]{3}\d{1,3}(-[A-Z0-9]{1,3})?$/, 'like IAD89-C1').default(
      'IAD89-C1',
    ),
    origin: z
      .strictObject({
        /** OriginReadTimeout: the wait for the first byte and between packets. */
        responseTimeout: durationWithin(
          'a response timeout',
          1,
          CloudFrontLimits.maxResponseTimeoutSec,
        ).prefault(CloudFrontLimits.defaultResponseTimeoutSec),
        /** OriginKeepaliveTimeout: how long an idle connection to the origin is kept. */
        keepaliveTimeout: durationWithin(
          'a keep-alive timeout',
          1,
          CloudFrontLimits.maxKeepaliveTimeoutSec,
        ).prefault(CloudFrontLimits.defaultKeepaliveTimeoutSec),
        connectionAttempts: z
          .number()
          .int()
          .min(1)
          .max(3)
          .default(CloudFrontLimits.defaultConnectionAttempts),
        connectionTimeout: durationWithin(
          'a connection timeout',
          1,
          CloudFrontLimits.maxConnectionTimeoutSec,
        ).prefault(CloudFrontLimits.defaultConnectionTimeoutSec),
      })
      .prefault({})
      .describe('the ALB as the custom origin: timeouts and connection attempts'),
    defaultCacheBehavior: z.strictObject(cacheBehaviorFields).prefault({}),
    cacheBehaviors: z
      .array(
        z.strictObject({
          pathPattern: z
            .string()
            .min(1)
            .regex(/^[A-Za-z0-9_.*$/~"'@:+?&=-]+$/, { message: 'expected a path pattern like /api/*' }),
          ...cacheBehaviorFields,
        }),
      )
      .default([])
      .describe('matched in order by path pattern (* and ?); the default behaviour takes the rest'),
    customErrorResponses: z
      .array(
        z.strictObject({
          errorCode,
          /** Path of the page, fetched from `errorPages` (key = path without the leading /). */
          responsePagePath: z
            .string()
            .startsWith('/', { message: 'expected a path starting with /' })
            .optional(),
          /** Status sent with the page; default: the error code itself. */
          responseCode: z
            .number()
            .int()
            .refine((c) => c === 200 || (ERROR_CODES as readonly number[]).includes(c), {
              message: `expected 200 or one of ${ERROR_CODES.join(', ')}`,
            })
            .optional(),
          errorCachingMinTTL: duration('an error caching minimum TTL').optional(),
        }),
      )
      .default([])
      .describe(
        `per error code: a page, its status and the error caching minimum TTL (default ${CloudFrontLimits.defaultErrorCachingMinTtlSec}s)`,
      ),
    /** The S3 bucket the custom error pages are served from (the lab puts the objects there). */
    errorPages: z
      .strictObject({
        bucket: bucketName(),
        objects: z.record(z.string().min(1), z.string()).default({}),
      })
      .optional()
      .describe('S3 bucket holding the custom error pages: object key (path without /) -> HTML'),
    logging: z
      .strictObject({
        bucket: bucketName(),
        prefix: z.string().default(''),
        interval: duration('a delivery interval').prefault(ScenarioLimits.defaultLogIntervalSec),
      })
      .optional()
      .describe('standard (legacy) access logs into the lab S3'),
  })
  .meta({ description: 'a CloudFront distribution in front of the ALB (its only origin)' });

const account = z.strictObject({
  id: nameRe('an account id', /^\d{12}$/, '12 digits').default('123456789012'),
  region: nameRe('a region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'like us-east-1').default('us-east-1'),
  concurrencyLimit: z
    .number()
    .int()
    .min(1)
    .default(LambdaLimits.defaultAccountConcurrency)
    .describe('account concurrency quota (AWS default 1000)'),
  /** Default: 100 of 1000, scaled with the limit. */
  unreservedMinimum: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('concurrency AWS keeps unreserved; default 100 of 1000, scaled with the limit'),
  /** AWS's per-function scaling rate (1,000 environments per 10 s), in lab time. */
  scalingRate: z
    .union([
      z.boolean(),
      z.strictObject({ increment: z.number().int().min(1), interval: duration('a scaling interval') }),
    ])
    .default(true),
});

export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    /** Lab time runs this many times faster than wall time. */
    timeScale: z
      .number()
      .positive()
      .max(3600)
      .default(1)
      .describe('lab time runs this many times faster than wall time; all durations are lab time'),
    account: account.prefault({}),
    functions: z.array(fn).min(1),
    loadBalancer,
    cloudfront: cloudfront.optional(),
    background: z.array(background).default([]),
    traffic: z.array(traffic).default([]),
  })
  .meta({ title: 'throttlescope lab scenario' });

export type ScenarioInput = z.input<typeof scenarioSchema>;
type Parsed = z.output<typeof scenarioSchema>;
export type ScenarioFunction = Parsed['functions'][number] & {
  /** Absolute path of `handler.module`, resolved against the scenario file's folder. */
  handlerPath?: string | undefined;
};
export type Distribution = z.output<typeof distribution>;
export type RateSpec = z.output<typeof rate>;
export type BackgroundSource = Parsed['background'][number];
export type TrafficSource = Parsed['traffic'][number];
export type ListenerRule = Parsed['loadBalancer']['rules'][number];
export type TargetGroupSpec = Parsed['loadBalancer']['targetGroups'][number];
export type CloudFrontSpec = NonNullable<Parsed['cloudfront']>;
export type CachePolicySpec = CloudFrontSpec['defaultCacheBehavior']['cachePolicy'];

/** A validated scenario: defaults filled in, durations in milliseconds of lab time. */
export interface Scenario extends Omit<Parsed, 'functions' | 'account'> {
  account: Omit<Parsed['account'], 'unreservedMinimum'> & { unreservedMinimum: number };
  functions: ScenarioFunction[];
  /** Where relative handler paths resolve from. */
  baseDir: string;
}

/** The JSON Schema of the scenario file (input side: what a user writes). */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** `functions[2].timeout` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  array: 'a list',
  object: 'a mapping',
  string: 'text',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};
function typeName(t: string): string {
  return TYPE_NAMES[t] ?? t;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p as string];
  }
  return v;
}

/** One `path: expected ...` line per zod issue. */
function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  base: PropertyKey[] = [],
): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    const at = formatPath(path);
    const got = valueAt(input, path);
    switch (issue.code) {
      case 'invalid_type':
        out.push(
          got === undefined
            ? `${at}: expected ${typeName(issue.expected)}, but it is missing`
            : `${at}: expected ${typeName(issue.expected)}, got ${describe(got)}`,
        );
        break;
      case 'unrecognized_keys':
        for (const k of issue.keys)
          out.push(`${formatPath([...path, k])}: unknown field (not expected here)`);
        break;
      case 'invalid_value':
        out.push(
          `${at}: expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}, got ${describe(got)}`,
        );
        break;
      case 'too_small':
        out.push(
          issue.origin === 'array'
            ? `${at}: expected at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`
            : issue.origin === 'string'
              ? `${at}: expected a non-empty text`
              : `${at}: expected a number ${issue.inclusive === false ? '>' : '>='} ${issue.minimum}, got ${describe(got)}`,
        );
        break;
      case 'too_big':
        out.push(
          issue.origin === 'array'
            ? `${at}: expected at most ${issue.maximum} items`
            : `${at}: expected a number ${issue.inclusive === false ? '<' : '<='} ${issue.maximum}, got ${describe(got)}`,
        );
        break;
      case 'invalid_union': {
        const options = (issue as { options?: unknown[] }).options;
        if (issue.errors.length === 0 && options) {
          out.push(
            `${at}: expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(got)}`,
          );
          break;
        }
        // A discriminated union with a known tag reports the branch's own issues; else say what fits.
        const branches = issue.errors.filter((e) => e.length > 0);
        const deepest = branches.find((b) => b.every((i) => i.path.length > 0));
        if (deepest && branches.length === 1) out.push(...formatIssues(deepest, input, path));
        else {
          const expected = [
            ...new Set(
              issue.errors
                .flat()
                .map((i) => (i.code === 'invalid_type' ? typeName(i.expected) : 'a valid value')),
            ),
          ];
          const typeOk = issue.errors.find((b) => b.every((i) => i.code !== 'invalid_type'));
          if (typeOk) out.push(...formatIssues(typeOk, input, path));
          else out.push(`${at}: expected ${expected.join(' or ')}, got ${describe(got)}`);
        }
        break;
      }
      case 'invalid_format':
        out.push(
          issue.message.startsWith('expected')
            ? `${at}: ${issue.message}, got ${describe(got)}`
            : `${at}: expected ${issue.format === 'ipv4' ? 'an IPv4 address' : `a ${issue.format}`}, got ${describe(got)}`,
        );
        break;
      default:
        out.push(
          `${at}: ${issue.message.startsWith('expected') ? issue.message : `expected ${issue.message}`}`,
        );
    }
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Checks that span fields (names referenced elsewhere, reservation totals, handler files), run on
 * the raw input even when it has structural problems so that every problem is listed at once.
 */
function crossCheck(raw: unknown, baseDir: string, problems: string[]): void {
  if (!isObj(raw)) return;
  const functions = arr(raw.functions);
  const fnNames = new Set<string>();
  let reservedTotal = 0;
  functions.forEach((f, i) => {
    if (!isObj(f)) return;
    if (typeof f.name === 'string') {
      if (fnNames.has(f.name))
        problems.push(`functions[${i}].name: expected a unique name, "${f.name}" is used twice`);
      fnNames.add(f.name);
    }
    const hasS = f.synthetic !== undefined;
    const hasH = f.handler !== undefined;
    if (hasS === hasH) {
      problems.push(
        `functions[${i}]: expected exactly one of "synthetic" or "handler", got ${hasS ? 'both' : 'neither'}`,
      );
    }
    if (typeof f.reservedConcurrency === 'number' && f.reservedConcurrency >= 0)
      reservedTotal += f.reservedConcurrency;
    if (isObj(f.handler) && typeof f.handler.module === 'string' && f.handler.module) {
      const p = resolve(baseDir, f.handler.module);
      if (!existsSync(p) || !statSync(p).isFile()) {
        problems.push(`functions[${i}].handler.module: expected a module file, "${p}" does not exist`);
      }
    }
    if (isObj(f.synthetic) && isObj(f.synthetic.duration)) {
      const d = f.synthetic.duration;
      const ms = (v: unknown) => safeDurationMs(v);
      if (
        d.kind === 'uniform' &&
        ms(d.min) !== undefined &&
        ms(d.max) !== undefined &&
        ms(d.min)! > ms(d.max)!
      ) {
        problems.push(`functions[${i}].synthetic.duration.max: expected at least min`);
      }
      if (
        d.kind === 'lognormal' &&
        ms(d.median) !== undefined &&
        ms(d.p99) !== undefined &&
        ms(d.p99)! < ms(d.median)!
      ) {
        problems.push(`functions[${i}].synthetic.duration.p99: expected at least the median`);
      }
      if (d.kind === 'lognormal' && ms(d.median) === 0) {
        problems.push(`functions[${i}].synthetic.duration.median: expected a duration > 0`);
      }
    }
    const t = safeDurationMs(f.timeout ?? 3);
    if (t !== undefined && (t < 1000 || t > ScenarioLimits.maxTimeoutSec * 1000)) {
      problems.push(`functions[${i}].timeout: expected between 1s and ${ScenarioLimits.maxTimeoutSec}s`);
    }
  });

  const account = isObj(raw.account) ? raw.account : {};
  const limit =
    typeof account.concurrencyLimit === 'number'
      ? account.concurrencyLimit
      : LambdaLimits.defaultAccountConcurrency;
  const minimum =
    typeof account.unreservedMinimum === 'number'
      ? account.unreservedMinimum
      : scaledUnreservedMinimum(limit);
  if (typeof account.unreservedMinimum === 'number' && account.unreservedMinimum > limit) {
    problems.push(`account.unreservedMinimum: expected at most the concurrency limit ${limit}`);
  }
  if (reservedTotal > limit - minimum) {
    problems.push(
      `functions: expected reserved concurrency to total at most ${limit - minimum} (limit ${limit} - unreserved minimum ${minimum}), got ${reservedTotal}`,
    );
  }

  const lb = isObj(raw.loadBalancer) ? raw.loadBalancer : {};
  const tgNames = new Set<string>();
  arr(lb.targetGroups).forEach((tg, i) => {
    if (!isObj(tg)) return;
    if (typeof tg.name === 'string') {
      if (tgNames.has(tg.name))
        problems.push(
          `loadBalancer.targetGroups[${i}].name: expected a unique name, "${tg.name}" is used twice`,
        );
      tgNames.add(tg.name);
    }
    if (typeof tg.function === 'string' && !fnNames.has(tg.function)) {
      problems.push(
        `loadBalancer.targetGroups[${i}].function: expected one of the functions, "${tg.function}" is not defined`,
      );
    }
  });
  const priorities = new Set<number>();
  arr(lb.rules).forEach((r, i) => {
    if (!isObj(r)) return;
    if (typeof r.targetGroup === 'string' && !tgNames.has(r.targetGroup)) {
      problems.push(
        `loadBalancer.rules[${i}].targetGroup: expected one of the target groups, "${r.targetGroup}" is not defined`,
      );
    }
    if (typeof r.priority === 'number') {
      if (priorities.has(r.priority))
        problems.push(
          `loadBalancer.rules[${i}].priority: expected a unique priority, ${r.priority} is used twice`,
        );
      priorities.add(r.priority);
    }
    if (r.path === undefined && r.host === undefined && r.method === undefined) {
      problems.push(`loadBalancer.rules[${i}]: expected at least one condition (path, host or method)`);
    }
  });
  if (typeof lb.defaultTargetGroup === 'string' && !tgNames.has(lb.defaultTargetGroup)) {
    problems.push(
      `loadBalancer.defaultTargetGroup: expected one of the target groups, "${lb.defaultTargetGroup}" is not defined`,
    );
  }
  if (isObj(lb.accessLogs)) {
    const iv = safeDurationMs(lb.accessLogs.interval ?? ScenarioLimits.defaultLogIntervalSec);
    if (iv !== undefined && iv < 1000)
      problems.push('loadBalancer.accessLogs.interval: expected at least 1s');
  }

  if (isObj(raw.cloudfront)) crossCheckCloudFront(raw.cloudfront, problems);

  arr(raw.background).forEach((b, i) => {
    if (!isObj(b)) return;
    if (typeof b.function === 'string' && !fnNames.has(b.function)) {
      problems.push(
        `background[${i}].function: expected one of the functions, "${b.function}" is not defined`,
      );
    }
    if (b.kind === 'async' && b.maxConcurrency !== undefined) {
      problems.push(`background[${i}].maxConcurrency: expected only with kind "queue"`);
    }
    checkRateOrder(b.rate, `background[${i}].rate`, problems);
  });
  arr(raw.traffic).forEach((t, i) => {
    if (!isObj(t)) return;
    checkRateOrder(t.rate, `traffic[${i}].rate`, problems);
    if (t.via === 'cloudfront' && raw.cloudfront === undefined)
      problems.push(`traffic[${i}].via: expected "alb" when the scenario has no cloudfront section`);
  });
}

function crossCheckCloudFront(cf: Record<string, unknown>, problems: string[]): void {
  const checkPolicy = (p: unknown, at: string) => {
    if (!isObj(p)) return;
    const min = safeDurationMs(p.minTTL ?? 0);
    const def = safeDurationMs(p.defaultTTL ?? 86_400);
    const max = safeDurationMs(p.maxTTL ?? 31_536_000);
    if (min === undefined || def === undefined || max === undefined) return;
    if (def < min) problems.push(`${at}.defaultTTL: expected at least minTTL`);
    if (max < def) problems.push(`${at}.maxTTL: expected at least defaultTTL`);
  };
  if (isObj(cf.defaultCacheBehavior))
    checkPolicy(cf.defaultCacheBehavior.cachePolicy, 'cloudfront.defaultCacheBehavior.cachePolicy');
  const patterns = new Set<string>();
  arr(cf.cacheBehaviors).forEach((b, i) => {
    if (!isObj(b)) return;
    checkPolicy(b.cachePolicy, `cloudfront.cacheBehaviors[${i}].cachePolicy`);
    if (typeof b.pathPattern === 'string') {
      if (patterns.has(b.pathPattern))
        problems.push(
          `cloudfront.cacheBehaviors[${i}].pathPattern: expected a unique pattern, "${b.pathPattern}" is used twice`,
        );
      patterns.add(b.pathPattern);
    }
  });
  const codes = new Set<number>();
  arr(cf.customErrorResponses).forEach((r, i) => {
    if (!isObj(r)) return;
    if (typeof r.errorCode === 'number') {
      if (codes.has(r.errorCode))
        problems.push(
          `cloudfront.customErrorResponses[${i}].errorCode: expected a unique code, ${r.errorCode} is used twice`,
        );
      codes.add(r.errorCode);
    }
    if (r.responseCode !== undefined && r.responsePagePath === undefined)
      problems.push(
        `cloudfront.customErrorResponses[${i}].responsePagePath: expected a page path with responseCode (CloudFront needs both)`,
      );
    if (r.responsePagePath !== undefined && cf.errorPages === undefined)
      problems.push(
        `cloudfront.errorPages: expected the S3 bucket that serves customErrorResponses[${i}].responsePagePath`,
      );
  });
  if (isObj(cf.logging)) {
    const iv = safeDurationMs(cf.logging.interval ?? ScenarioLimits.defaultLogIntervalSec);
    if (iv !== undefined && iv < 1000) problems.push('cloudfront.logging.interval: expected at least 1s');
  }
}

function checkRateOrder(rate: unknown, at: string, problems: string[]): void {
  let last = -1;
  arr(rate).forEach((p, j) => {
    if (!isObj(p)) return;
    const ms = safeDurationMs(p.at);
    if (ms === undefined) return;
    if (j === 0 && ms !== 0) problems.push(`${at}[0].at: expected 0s (the first step starts the scenario)`);
    if (ms <= last) problems.push(`${at}[${j}].at: expected a time after the previous step`);
    last = ms;
  });
}

function safeDurationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return v >= 0 ? v * 1000 : undefined;
  return typeof v === 'string' ? durationMs(v) : undefined;
}

/**
 * Validates an already-parsed object (from YAML or code). `baseDir` resolves handler modules.
 * Throws ConfigError listing every problem.
 */
export function validateScenario(raw: unknown, opts: { source?: string; baseDir?: string } = {}): Scenario {
  const source = opts.source ?? 'scenario';
  const baseDir = opts.baseDir ?? process.cwd();
  const problems: string[] = [];
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) problems.push(...formatIssues(parsed.error.issues, raw));
  crossCheck(raw, baseDir, problems);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(source, [...new Set(problems)]);
  const s = parsed.data;
  return {
    ...s,
    baseDir,
    account: {
      ...s.account,
      unreservedMinimum: s.account.unreservedMinimum ?? scaledUnreservedMinimum(s.account.concurrencyLimit),
    },
    functions: s.functions.map((f) => ({
      ...f,
      handlerPath: f.handler
        ? isAbsolute(f.handler.module)
          ? f.handler.module
          : resolve(baseDir, f.handler.module)
        : undefined,
    })),
  };
}

/** Parses YAML text; YAML syntax errors are listed with line and column. */
export function parseScenario(text: string, opts: { source?: string; baseDir?: string } = {}): Scenario {
  const source = opts.source ?? 'scenario';
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `${pos ? `line ${pos.line}, column ${pos.col}` : '(yaml)'}: expected valid YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return validateScenario(doc.toJS(), opts);
}

/** Reads and validates a scenario file; handler paths resolve against its folder. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ThrottlescopeError(
      'TS_LAB_SCENARIO_UNREADABLE',
      `cannot read scenario ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return parseScenario(text, { source: path, baseDir: dirname(resolve(path)) });
}
