import { type Scenario, type ScenarioInput, validateScenario } from './scenario.js';

/**
 * Built-in scenarios, by name. `scenarios/<name>.yaml` holds the same scenario as a file to copy
 * and edit (a test keeps the two equal).
 *
 * `noisy-neighbour` reproduces the incident: an account pool scaled down to 20 (unreserved
 * minimum 2, as 100 of 1000), an ALB routing /api/* to `api` and everything else, by its default
 * rule, to `web`, both with ordinary traffic (the lab's own clients, about 3 concurrent
 * executions on average), and `reports-worker`, not behind the ALB, fed by a queue whose
 * event source mapping keeps 16 invocations running. The ALB functions share the 4 executions
 * left; by Erlang B about one ALB request in five finds none free and gets 502 LambdaThrottling.
 * Time runs 10x faster than the wall clock.
 *
 * A CloudFront distribution sits in front of the ALB, set up as the incident's site plausibly
 * was: its cache policy honours the origin's headers with a minimum TTL of 0 and a default TTL of
 * 0, so the dynamic pages (which send no Cache-Control) are never cached; yet errors are cached
 * for the default error caching minimum TTL of 10 s, the trap that turns one throttle into ten
 * seconds of failures for every viewer of that URL; and a custom error response for 502 serves
 * the shop's own error page (from S3) with the 502 status kept, so viewers never see who failed.
 * The lab's own traffic goes to the ALB directly (the "inside" path stays reachable).
 */
export const NOISY_NEIGHBOUR: ScenarioInput = {
  name: 'noisy-neighbour',
  description:
    'One runaway function (reports-worker, driven by a queue) takes most of the shared account concurrency; the ALB-backed api and web functions are throttled and the ALB answers about 1 request in 5 with 502 LambdaThrottling.',
  timeScale: 10,
  account: {
    id: '123456789012',
    region: 'us-east-1',
    concurrencyLimit: 20,
    unreservedMinimum: 2,
  },
  functions: [
    {
      name: 'api',
      memoryMb: 256,
      timeout: '3s',
      synthetic: {
        duration: { kind: 'lognormal', median: '280ms', p99: '900ms' },
        responseBytes: 512,
        contentType: 'application/json',
      },
    },
    {
      name: 'web',
      memoryMb: 256,
      timeout: '3s',
      synthetic: {
        duration: { kind: 'lognormal', median: '180ms', p99: '600ms' },
        responseBytes: 2048,
        contentType: 'text/html; charset=utf-8',
      },
    },
    {
      name: 'reports-worker',
      memoryMb: 1024,
      timeout: '60s',
      synthetic: { duration: { kind: 'lognormal', median: '20s', p99: '40s' }, responseBytes: 16 },
    },
  ],
  loadBalancer: {
    name: 'shop-alb',
    targetGroups: [
      { name: 'api-tg', function: 'api' },
      { name: 'web-tg', function: 'web' },
    ],
    rules: [{ priority: 10, path: '/api/*', targetGroup: 'api-tg' }],
    defaultTargetGroup: 'web-tg',
    accessLogs: { bucket: 'shop-alb-logs', interval: '5m' },
  },
  cloudfront: {
    defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0, maxTTL: 31_536_000 } },
    customErrorResponses: [{ errorCode: 502, responsePagePath: '/errors/502.html', responseCode: 502 }],
    errorPages: {
      bucket: 'shop-error-pages',
      objects: {
        'errors/502.html':
          '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Shop - something went wrong</title></head>\n<body><h1>Sorry, something went wrong.</h1><p>Please try again in a moment.</p></body></html>\n',
      },
    },
    logging: { bucket: 'shop-cloudfront-logs', prefix: 'cloudfront', interval: '5m' },
  },
  background: [
    {
      name: 'reports-queue',
      function: 'reports-worker',
      kind: 'queue',
      rate: 5,
      maxConcurrency: 16,
      payload: { report: 'nightly-sales' },
    },
  ],
  traffic: [
    { name: 'api clients', path: '/api/orders', rate: 5 },
    { name: 'web clients', path: '/', rate: 7.5 },
  ],
};

function withoutCloudFront(s: ScenarioInput): ScenarioInput {
  const { cloudfront: _, ...rest } = structuredClone(s);
  return rest;
}

/**
 * `shared-pool`: the same account and ALB, but the runaway is split in two: `reports-worker` and
 * `export-worker`, each fed by a queue that keeps 8 invocations running. Together they hold the
 * pool as one runaway did, but neither dominates it, so capping one would leave the other to fill
 * it: diagnose names no culprit, and fix gives the starved ALB functions guarantees instead.
 * No CloudFront in front: the ALB alone.
 */
export const SHARED_POOL: ScenarioInput = {
  ...withoutCloudFront(NOISY_NEIGHBOUR),
  name: 'shared-pool',
  description:
    'Two queue-driven workers (reports-worker and export-worker, 8 executions each) together take most of the shared account concurrency; neither dominates it, and the ALB-backed api and web functions are throttled.',
  functions: [
    ...structuredClone(NOISY_NEIGHBOUR.functions),
    {
      name: 'export-worker',
      memoryMb: 1024,
      timeout: '60s',
      synthetic: { duration: { kind: 'lognormal', median: '20s', p99: '40s' }, responseBytes: 16 },
    },
  ],
  background: [
    {
      name: 'reports-queue',
      function: 'reports-worker',
      kind: 'queue',
      rate: 5,
      maxConcurrency: 8,
      payload: { report: 'nightly-sales' },
    },
    {
      name: 'export-queue',
      function: 'export-worker',
      kind: 'queue',
      rate: 5,
      maxConcurrency: 8,
      payload: { export: 'orders-csv' },
    },
  ],
};

export const BUILTIN_SCENARIOS: Readonly<Record<string, ScenarioInput>> = {
  'noisy-neighbour': NOISY_NEIGHBOUR,
  'shared-pool': SHARED_POOL,
};

/** A built-in scenario, validated, or undefined when there is none by that name. */
export function builtinScenario(name: string): Scenario | undefined {
  const input = BUILTIN_SCENARIOS[name];
  return input
    ? validateScenario(structuredClone(input), { source: `built-in scenario ${name}` })
    : undefined;
}
