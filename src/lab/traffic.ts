import { Pool } from 'undici';
import type { Clock } from '../common/clock.js';
import { ArrivalProcess } from './arrivals.js';
import type { TrafficSource } from './scenario.js';

/**
 * "Ordinary traffic": HTTP clients the lab runs against its own ALB, so that a scenario shows its
 * 502 rate without an external load generator. Requests go over loopback like any client's and
 * are logged and counted like any other. Open model: arrivals do not wait for responses; when
 * more than `maxOutstanding` are in flight, new arrivals are counted as dropped instead of queued.
 */
export interface TrafficStatus {
  name: string;
  sent: number;
  ok: number;
  /** Responses with status >= 500. */
  failed: number;
  errors: number;
  dropped: number;
}

export class TrafficDriver {
  private readonly arrivals: ArrivalProcess;
  private outstanding = 0;
  private readonly s: TrafficStatus;

  constructor(
    private readonly src: TrafficSource,
    private readonly pool: Pool,
    deps: { clock: Clock; timeScale: number; origin: number; maxOutstanding?: number },
  ) {
    this.s = {
      name: src.name ?? `${src.method} ${src.path}`,
      sent: 0,
      ok: 0,
      failed: 0,
      errors: 0,
      dropped: 0,
    };
    const max = deps.maxOutstanding ?? 256;
    this.arrivals = new ArrivalProcess({
      rate: src.rate,
      arrivals: src.arrivals,
      clock: deps.clock,
      timeScale: deps.timeScale,
      origin: deps.origin,
      onArrival: () => {
        if (this.outstanding >= max) {
          this.s.dropped++;
          return;
        }
        this.send();
      },
    });
  }

  private send(): void {
    this.outstanding++;
    this.s.sent++;
    const headers: Record<string, string> = {
      'user-agent': 'throttlescope-lab/traffic',
      ...(this.src.headers ?? {}),
    };
    if (this.src.host) headers.host = this.src.host;
    this.pool
      .request({
        path: this.src.path,
        method: this.src.method as 'GET',
        headers,
        body: this.src.body,
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      })
      .then(async (r) => {
        await r.body.dump();
        if (r.statusCode >= 500) this.s.failed++;
        else this.s.ok++;
      })
      .catch(() => {
        this.s.errors++;
      })
      .finally(() => {
        this.outstanding--;
      });
  }

  status(): TrafficStatus {
    return { ...this.s };
  }

  stop(): void {
    this.arrivals.stop();
  }
}

export function trafficPool(albUrl: string): Pool {
  return new Pool(albUrl, { connections: 64, keepAliveTimeout: 30_000 });
}
