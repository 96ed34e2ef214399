/**
 * @module lab
 * A local ALB + Lambda platform that behaves like AWS where the 502 incident lives: one account
 * concurrency pool shared by every function (the same ConcurrencyPool the planner simulates),
 * an ALB with listener rules in front of some of them, background invokers behind others, and
 * access logs and CloudWatch metrics in AWS's formats. `startLab` wires the parts; the AWS
 * endpoint (./aws-api) serves `lab.backend`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pool } from 'undici';
import { type Clock, scaledClock } from '../common/clock.js';
import { LambdaLimits } from '../common/concurrency/aws-limits.js';
import { ConcurrencyPool, type PoolSnapshot } from '../common/concurrency/pool.js';
import { ThrottlescopeError } from '../common/errors.js';
import { type AccessLogStatus, AccessLogWriter } from './access-log.js';
import { Router } from './alb/rules.js';
import { type AlbCounters, AlbFront, type AlbTargetGroup } from './alb/server.js';
import type { LabBackend } from './backend.js';
import { type BackgroundDriver, type BackgroundStatus, startBackground } from './background.js';
import { albDnsName, labDistribution } from './cloudfront/config.js';
import { type CloudFrontStatus, type LabCloudFront, startCloudFront } from './cloudfront/index.js';
import { functionArn, type LoadBalancerIds, loadBalancerIds, targetGroupIds } from './ids.js';
import { AsyncEventQueue } from './lambda/async-queue.js';
import { LambdaControl } from './lambda/control.js';
import { LambdaRuntime } from './lambda/runtime.js';
import { LogSpool } from './log-spool.js';
import { MemoryMetricsStore } from './metrics-store.js';
import { MemoryObjectStore } from './object-store.js';
import type { Scenario } from './scenario.js';
import { LabTelemetry } from './telemetry.js';
import { TrafficDriver, type TrafficStatus, trafficPool } from './traffic.js';

export { ACCESS_LOG_KEY, accessLogKey } from './access-log.js';
export { type AwsEndpoint, type AwsEndpointOptions, startAwsEndpoint } from './aws-api/server.js';
export type { LabBackend } from './backend.js';
export { BUILTIN_SCENARIOS, builtinScenario } from './builtin.js';
export { BUILTIN_SCENARIO_NAMES, resolveScenario } from './resolve-scenario.js';
export {
  loadScenarioFile,
  parseScenario,
  type Scenario,
  type ScenarioInput,
  scenarioJsonSchema,
  validateScenario,
} from './scenario.js';
export { renderBanner, renderStatusLine, renderSummary } from './status.js';
export { disableAllocationSitePretenuring } from './v8-tuning.js';

export interface StartLabOptions {
  /** ALB listener port; 0 or undefined = any free port. */
  albPort?: number;
  /** CloudFront edge port (scenarios with `cloudfront`); 0 or undefined = any free port. */
  cloudfrontPort?: number;
  /** Bind address; loopback unless told otherwise. */
  host?: string;
  /** The lab clock; default: wall clock running `scenario.timeScale` times faster from now. */
  clock?: Clock;
  /** Mirror access-log files (and a metrics dump on flush) here. */
  dataDir?: string;
  /** Pauses the scenario's own traffic and background sources (tests drive the lab themselves). */
  sources?: boolean;
}

export interface FunctionStatus {
  name: string;
  reserved: number | undefined;
  inFlight: number;
  invocations: number;
  errors: number;
  throttles: number;
  /** Worker threads alive (handler functions only). */
  workers?: number | undefined;
  coldStarts?: number | undefined;
}

export interface LabSnapshot {
  /** Lab clock, epoch ms. */
  labTimeMs: number;
  /** Lab ms since start. */
  elapsedMs: number;
  pool: PoolSnapshot;
  functions: FunctionStatus[];
  alb: AlbCounters & { url: string; elb: string };
  background: BackgroundStatus[];
  traffic: TrafficStatus[];
  accessLogs: Omit<AccessLogStatus, 'keys'>;
  /** The distribution in front of the ALB, when the scenario has one. */
  cloudfront?: CloudFrontStatus | undefined;
}

export interface Lab {
  albUrl: string;
  /** The distribution in front of the ALB, when the scenario has one. */
  cloudfront: LabCloudFront | undefined;
  scenario: Scenario;
  clock: Clock;
  backend: LabBackend;
  pool: ConcurrencyPool;
  loadBalancer: LoadBalancerIds;
  targetGroups: ReadonlyMap<string, AlbTargetGroup>;
  metrics: MemoryMetricsStore;
  objects: MemoryObjectStore;
  snapshot(): LabSnapshot;
  /** Delivers every pending access-log line and records a concurrency sample. */
  flush(): Promise<void>;
  /** Stops sources and the ALB (in-flight requests get a grace period), flushes, stops workers. */
  close(): Promise<void>;
}

export async function startLab(scenario: Scenario, opts: StartLabOptions = {}): Promise<Lab> {
  const timeScale = scenario.timeScale;
  const clock = opts.clock ?? scaledClock(timeScale);
  const origin = clock.now();
  const { account, loadBalancer: lbSpec } = scenario;
  const scaling =
    account.scalingRate === false
      ? undefined
      : account.scalingRate === true
        ? { increment: LambdaLimits.scalingIncrement, intervalMs: LambdaLimits.scalingIntervalMs }
        : { increment: account.scalingRate.increment, intervalMs: account.scalingRate.interval };
  const pool = new ConcurrencyPool(
    { accountLimit: account.concurrencyLimit, unreservedMinimum: account.unreservedMinimum, scaling },
    scenario.functions.map((f) => ({ name: f.name, reserved: f.reservedConcurrency })),
  );

  const lb = loadBalancerIds(account.region, account.id, lbSpec.name, lbSpec.id);
  const metrics = new MemoryMetricsStore();
  const objects = new MemoryObjectStore(() => clock.now());
  objects.createBucket(lbSpec.accessLogs.bucket);
  const telemetry = new LabTelemetry(metrics, lb.dimension);
  const runtime = new LambdaRuntime({
    functions: scenario.functions,
    pool,
    clock,
    timeScale,
    telemetry,
    region: account.region,
    accountId: account.id,
  });
  const asyncQueues = new Map<string, AsyncEventQueue>();
  for (const f of scenario.functions) {
    asyncQueues.set(
      f.name,
      new AsyncEventQueue(
        f.name,
        runtime,
        clock,
        telemetry,
        f.async.maximumRetryAttempts,
        f.async.maximumEventAge,
      ),
    );
  }

  const targetGroups = new Map<string, AlbTargetGroup>();
  for (const tg of lbSpec.targetGroups) {
    targetGroups.set(tg.name, {
      ...targetGroupIds(account.region, account.id, tg.name),
      function: tg.function,
      multiValueHeaders: tg.multiValueHeaders,
    });
  }
  // Log lines past a chunk wait in files, not in the heap's external memory (see log-spool.ts).
  const spool = new LogSpool();
  const accessLog = new AccessLogWriter({
    store: objects,
    bucket: lbSpec.accessLogs.bucket,
    prefix: lbSpec.accessLogs.prefix,
    accountId: account.id,
    region: account.region,
    lbName: lb.name,
    lbId: lb.id,
    nodeIp: lbSpec.nodeIp,
    intervalMs: lbSpec.accessLogs.interval,
    clock,
    dataDir: opts.dataDir,
    spool,
  });
  const front = new AlbFront({
    router: new Router(lbSpec.rules, lbSpec.defaultTargetGroup),
    targetGroups,
    runtime,
    clock,
    telemetry,
    accessLog,
    elb: lb.dimension,
  });
  const host = opts.host ?? '127.0.0.1';
  let port: number;
  try {
    port = await front.listen(host, opts.albPort ?? 0);
  } catch (error) {
    await runtime.close(0);
    throw new ThrottlescopeError(
      'TS_LAB_LISTEN',
      `lab: cannot listen on ${host}:${opts.albPort ?? 0} for the ALB: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const albUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let cloudfront: LabCloudFront | undefined;
  if (scenario.cloudfront) {
    try {
      cloudfront = await startCloudFront({
        spec: scenario.cloudfront,
        accountId: account.id,
        originName: lb.name,
        originUrl: albUrl,
        inProcessOrigin: front,
        clock,
        timeScale,
        objects,
        metrics,
        host,
        port: opts.cloudfrontPort ?? 0,
        dataDir: opts.dataDir,
        spool,
      });
    } catch (error) {
      await front.close();
      await runtime.close(0);
      throw new ThrottlescopeError(
        'TS_LAB_LISTEN',
        `lab: cannot listen on ${host}:${opts.cloudfrontPort ?? 0} for CloudFront: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  // Concurrency sampled every lab second; log delivery checked often enough for its interval.
  const sample = () => telemetry.concurrency(pool.snapshot(), runtime.takePeaks(), clock.now());
  const sampler = setInterval(sample, Math.max(1, 1000 / timeScale));
  const deliverer = setInterval(
    () => accessLog.tick(),
    Math.max(5, Math.min(1000, lbSpec.accessLogs.interval / timeScale / 4)),
  );
  sampler.unref();
  deliverer.unref();

  const background: BackgroundDriver[] = [];
  const traffic: TrafficDriver[] = [];
  const clients: Pool[] = [];
  if (opts.sources !== false) {
    for (const src of scenario.background) {
      background.push(
        startBackground(src, { runtime, asyncQueue: (f) => asyncQueues.get(f), clock, timeScale, origin }),
      );
    }
    const pools = new Map<string, Pool>();
    for (const t of scenario.traffic) {
      const target = t.via === 'cloudfront' && cloudfront ? cloudfront.url : albUrl;
      let p = pools.get(target);
      if (!p) {
        p = trafficPool(target);
        pools.set(target, p);
        clients.push(p);
      }
      traffic.push(new TrafficDriver(t, p, { clock, timeScale, origin }));
    }
  }

  const lambda = new LambdaControl(
    runtime,
    pool,
    asyncQueues,
    account.region,
    account.id,
    lambdaTimestamp(Date.now()),
  );
  const distributionCreated = Date.now();
  const routedGroups = new Set([lbSpec.defaultTargetGroup, ...lbSpec.rules.map((r) => r.targetGroup)]);
  const backend: LabBackend = {
    region: account.region,
    accountId: account.id,
    s3: objects,
    cloudwatch: metrics,
    lambda,
    elbv2: {
      targetGroups: () =>
        [...targetGroups.values()].map((tg) => ({
          name: tg.name,
          arn: tg.arn,
          // As on AWS, a group belongs to a load balancer only once a rule or the default action uses it.
          loadBalancerArns: routedGroups.has(tg.name) ? [lb.arn] : [],
          functionArns: [functionArn(account.region, account.id, tg.function)],
        })),
      loadBalancerArns: () => [lb.arn],
    },
    cloudfront: {
      distributions: () => {
        if (!cloudfront) return [];
        return [
          labDistribution(
            cloudfront.spec,
            cloudfront.ids,
            { id: `ALB-${lb.name}`, domainName: albDnsName(lb.name, lb.id, account.region), httpPort: port },
            account.region,
            distributionCreated,
          ),
        ];
      },
    },
  };

  const snapshot = (): LabSnapshot => {
    const p = pool.snapshot();
    const now = clock.now();
    const a = accessLog.status();
    return {
      labTimeMs: now,
      elapsedMs: now - origin,
      pool: p,
      functions: p.functions.map((f) => {
        const c = runtime.counters(f.name);
        const w = runtime.workerPool(f.name);
        return {
          name: f.name,
          reserved: f.reserved,
          inFlight: f.inFlight,
          invocations: c?.invocations ?? 0,
          errors: c?.errors ?? 0,
          throttles: c?.throttles ?? 0,
          workers: w?.size,
          coldStarts: w?.coldStarts,
        };
      }),
      alb: { ...structuredClone(front.counters), url: albUrl, elb: lb.dimension },
      background: background.map((b) => b.status()),
      traffic: traffic.map((t) => t.status()),
      accessLogs: {
        linesWritten: a.linesWritten,
        linesDelivered: a.linesDelivered,
        filesDelivered: a.filesDelivered,
        pendingLines: a.pendingLines,
      },
      cloudfront: cloudfront?.status(),
    };
  };

  const flush = async () => {
    sample();
    await accessLog.flush();
    await cloudfront?.flush();
    if (opts.dataDir) await dumpMetrics(metrics, opts.dataDir);
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      for (const b of background) b.stop();
      for (const t of traffic) t.stop();
      // Viewers first: the edge's requests in flight still reach the ALB.
      await cloudfront?.close();
      await front.close();
      await Promise.all(clients.map((c) => c.destroy().catch(() => {})));
      // The ALB waited for its requests; background invocations still running are cut short.
      await runtime.close(200);
      clearInterval(sampler);
      clearInterval(deliverer);
      await flush();
      await spool.close();
    })();
    return closing;
  };

  return {
    albUrl,
    cloudfront,
    scenario,
    clock,
    backend,
    pool,
    loadBalancer: lb,
    targetGroups,
    metrics,
    objects,
    snapshot,
    flush,
    close,
  };
}

/** Lambda's LastModified format: `2024-05-01T12:00:00.000+0000`. */
function lambdaTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** Writes every metric at 1-second resolution as JSON (`<dataDir>/cloudwatch-metrics.json`). */
async function dumpMetrics(store: MemoryMetricsStore, dataDir: string): Promise<void> {
  const out = store.list().map((id) => {
    const q = (stat: 'Sum' | 'SampleCount' | 'Maximum' | 'Minimum') =>
      store.query(id, stat, 1, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    const sum = q('Sum');
    const count = q('SampleCount').values;
    const max = q('Maximum').values;
    const min = q('Minimum').values;
    return {
      ...id,
      datapoints: sum.timestampsMs.map((t, i) => ({
        timestamp: new Date(t).toISOString(),
        sum: sum.values[i],
        sampleCount: count[i],
        maximum: max[i],
        minimum: min[i],
      })),
    };
  });
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, 'cloudwatch-metrics.json'), `${JSON.stringify(out)}\n`);
}
