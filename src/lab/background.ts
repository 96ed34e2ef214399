import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { ArrivalProcess } from './arrivals.js';
import type { AsyncEventQueue } from './lambda/async-queue.js';
import type { LambdaRuntime } from './lambda/runtime.js';
import type { BackgroundSource } from './scenario.js';

/**
 * Invokers that are not the ALB. This is how a runaway function is modelled.
 * - `queue`: messages arrive in an SQS-like queue; an event source mapping polls it and invokes
 *   the function synchronously, keeping up to `maxConcurrency` invocations in flight (AWS's
 *   "maximum concurrency" of an SQS event source mapping; unbounded when omitted: it takes all
 *   the concurrency it can). A throttled or failed message stays in the queue; after a throttle
 *   the poller backs off (1 s of lab time, doubling to 30 s while throttles continue).
 *   https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
 * - `async`: asynchronous `Event` invocations (S3, SNS, EventBridge style) through the
 *   function's async event queue, with AWS's retry rules (./lambda/async-queue.ts).
 */
export const PollerBackoff = { firstMs: 1_000, maxMs: 30_000 } as const;

export interface BackgroundStatus {
  name: string;
  function: string;
  kind: 'queue' | 'async';
  arrived: number;
  /** Queue: messages waiting; async: events waiting for a retry. */
  backlog: number;
  inFlight: number;
  throttled: number;
}

export interface BackgroundDriver {
  status(): BackgroundStatus;
  stop(): void;
}

export function startBackground(
  src: BackgroundSource,
  deps: {
    runtime: LambdaRuntime;
    asyncQueue: (fn: string) => AsyncEventQueue | undefined;
    clock: Clock;
    timeScale: number;
    origin: number;
  },
): BackgroundDriver {
  return src.kind === 'queue' ? new QueuePoller(src, deps) : new AsyncSource(src, deps);
}

class QueuePoller implements BackgroundDriver {
  private backlog = 0;
  private inFlight = 0;
  private throttled = 0;
  private pausedUntil = 0;
  private backoff: number = PollerBackoff.firstMs;
  private resumeScheduled = false;
  private stopped = false;
  private readonly arrivals: ArrivalProcess;
  private readonly max: number;

  constructor(
    private readonly src: BackgroundSource,
    private readonly deps: { runtime: LambdaRuntime; clock: Clock; timeScale: number; origin: number },
  ) {
    this.max = src.maxConcurrency ?? Number.POSITIVE_INFINITY;
    this.arrivals = new ArrivalProcess({
      rate: src.rate,
      arrivals: src.arrivals,
      clock: deps.clock,
      timeScale: deps.timeScale,
      origin: deps.origin,
      onArrival: () => {
        this.backlog++;
        this.pump();
      },
    });
  }

  private event(): unknown {
    return {
      Records: [
        {
          messageId: randomUUID(),
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:lab:000000000000:${this.src.name}`,
          body: JSON.stringify(this.src.payload ?? {}),
        },
      ],
    };
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    if (now < this.pausedUntil) return;
    while (this.backlog > 0 && this.inFlight < this.max) {
      const r = this.deps.runtime.start(this.src.function, this.event(), 'queue');
      if (r.kind === 'not-found') return;
      if (r.kind === 'throttled') {
        this.throttled++;
        this.pausedUntil = now + this.backoff;
        const wait = this.backoff;
        this.backoff = Math.min(PollerBackoff.maxMs, this.backoff * 2);
        if (!this.resumeScheduled) {
          this.resumeScheduled = true;
          this.deps.runtime.after(wait, () => {
            this.resumeScheduled = false;
            this.pump();
          });
        }
        return;
      }
      this.backoff = PollerBackoff.firstMs;
      this.backlog--;
      this.inFlight++;
      void r.done.then((outcome) => {
        this.inFlight--;
        // A failed message becomes visible again (simplified: at once).
        if (outcome.kind === 'error') this.backlog++;
        this.pump();
      });
    }
  }

  status(): BackgroundStatus {
    return {
      name: this.src.name,
      function: this.src.function,
      kind: 'queue',
      arrived: this.arrivals.count,
      backlog: this.backlog,
      inFlight: this.inFlight,
      throttled: this.throttled,
    };
  }

  stop(): void {
    this.stopped = true;
    this.arrivals.stop();
  }
}

class AsyncSource implements BackgroundDriver {
  private readonly arrivals: ArrivalProcess;
  private readonly queue: AsyncEventQueue | undefined;

  constructor(
    private readonly src: BackgroundSource,
    deps: {
      asyncQueue: (fn: string) => AsyncEventQueue | undefined;
      clock: Clock;
      timeScale: number;
      origin: number;
    },
  ) {
    this.queue = deps.asyncQueue(src.function);
    this.arrivals = new ArrivalProcess({
      rate: src.rate,
      arrivals: src.arrivals,
      clock: deps.clock,
      timeScale: deps.timeScale,
      origin: deps.origin,
      onArrival: () => {
        this.queue?.enqueue(src.payload ?? { source: 'lab.background', detail: { name: src.name } });
      },
    });
  }

  status(): BackgroundStatus {
    const c = this.queue?.counters;
    return {
      name: this.src.name,
      function: this.src.function,
      kind: 'async',
      arrived: this.arrivals.count,
      backlog: c?.waiting ?? 0,
      inFlight: 0,
      throttled: 0,
    };
  }

  stop(): void {
    this.arrivals.stop();
  }
}
