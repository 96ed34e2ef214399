/**
 * @module lab/cloudfront
 * A CloudFront distribution in front of the lab's ALB: the edge core (./edge.ts) behind an HTTP
 * listener, with standard logs delivered into the lab's S3 and metrics in `AWS/CloudFront`.
 */
import type { Clock } from '../../common/clock.js';
import type { LogSpool } from '../log-spool.js';
import type { MemoryMetricsStore } from '../metrics-store.js';
import type { MemoryObjectStore } from '../object-store.js';
import type { CloudFrontSpec } from '../scenario.js';
import { CloudFrontLogWriter } from './access-log.js';
import { CloudFrontEdge } from './edge.js';
import { type DistributionIds, distributionIds } from './ids.js';
import { CloudFrontTelemetry } from './metrics.js';
import { HttpOrigin, type InProcessAlb, InProcessOrigin } from './origin.js';
import { CloudFrontServer, type EdgeCounters } from './server.js';

export { type DistributionIds, distributionIds } from './ids.js';
export type { EdgeCounters } from './server.js';

export interface CloudFrontOptions {
  spec: CloudFrontSpec;
  accountId: string;
  /** The load balancer's name (derived ids hang on it). */
  originName: string;
  /** `http://host:port` of the ALB. */
  originUrl: string;
  /**
   * The ALB at `originUrl` when it runs in this process: the edge then calls its pipeline instead
   * of sending HTTP over loopback (same requests, same access log, a fraction of the cost).
   */
  inProcessOrigin?: InProcessAlb | undefined;
  clock: Clock;
  timeScale: number;
  objects: MemoryObjectStore;
  metrics: MemoryMetricsStore;
  host: string;
  port: number;
  dataDir?: string | undefined;
  /** Where pending standard-log lines wait past a chunk (src/lab/log-spool.ts). */
  spool?: LogSpool | undefined;
}

export interface CloudFrontStatus extends EdgeCounters {
  url: string;
  distributionId: string;
  logLinesDelivered: number;
  logFilesDelivered: number;
  logLinesPending: number;
}

export interface LabCloudFront {
  url: string;
  ids: DistributionIds;
  spec: CloudFrontSpec;
  edge: CloudFrontEdge;
  status(): CloudFrontStatus;
  /** Delivers pending log lines. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startCloudFront(o: CloudFrontOptions): Promise<LabCloudFront> {
  const spec = o.spec;
  const ids = distributionIds(o.accountId, o.originName, spec);
  if (spec.errorPages) {
    o.objects.createBucket(spec.errorPages.bucket);
    for (const [key, body] of Object.entries(spec.errorPages.objects))
      o.objects.put(spec.errorPages.bucket, key, Buffer.from(body, 'utf8'), 'text/html');
  }
  const origin =
    o.inProcessOrigin === undefined
      ? new HttpOrigin(o.originUrl, {
          keepaliveMs: spec.origin.keepaliveTimeout,
          connectionTimeoutMs: spec.origin.connectionTimeout,
          timeScale: o.timeScale,
        })
      : new InProcessOrigin(o.inProcessOrigin, {
          keepaliveMs: spec.origin.keepaliveTimeout,
          timeScale: o.timeScale,
          clock: o.clock,
          host: new URL(o.originUrl).hostname.replace(/^\[|\]$/g, ''),
        });
  const edge = new CloudFrontEdge({
    spec,
    ids,
    clock: o.clock,
    origin,
    originHost: new URL(o.originUrl).host,
    objects: o.objects,
  });
  const telemetry = new CloudFrontTelemetry(o.metrics, ids.id);
  let logs: CloudFrontLogWriter | undefined;
  if (spec.logging) {
    o.objects.createBucket(spec.logging.bucket);
    logs = new CloudFrontLogWriter({
      store: o.objects,
      bucket: spec.logging.bucket,
      prefix: spec.logging.prefix,
      distributionId: ids.id,
      domainName: ids.domainName,
      pop: spec.pop,
      intervalMs: spec.logging.interval,
      clock: o.clock,
      dataDir: o.dataDir,
      spool: o.spool,
    });
  }
  const server = new CloudFrontServer(edge, o.clock, (e) => {
    logs?.write(e);
    telemetry.request(
      {
        status: e.status,
        method: e.method,
        bytesDownloaded: e.sentBytes,
        bytesUploaded: e.receivedBytes,
      },
      e.endMs,
    );
  });
  let port: number;
  try {
    port = await server.listen(o.host, o.port);
  } catch (error) {
    await origin.close();
    throw error;
  }
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  const deliverer =
    logs === undefined
      ? undefined
      : setInterval(() => logs.tick(), Math.max(5, Math.min(1000, spec.logging!.interval / o.timeScale / 4)));
  deliverer?.unref();
  let closing: Promise<void> | undefined;
  return {
    url,
    ids,
    spec,
    edge,
    status: () => ({
      ...structuredClone(server.counters),
      url,
      distributionId: ids.id,
      logLinesDelivered: logs?.linesDelivered ?? 0,
      logFilesDelivered: logs?.keys.length ?? 0,
      logLinesPending: logs?.pendingLines ?? 0,
    }),
    flush: async () => {
      await logs?.flush();
    },
    close: () => {
      closing ??= (async () => {
        await server.close();
        await origin.close();
        if (deliverer) clearInterval(deliverer);
        await logs?.flush();
      })();
      return closing;
    },
  };
}
