import type { Clock } from '../../common/clock.js';
import type { LabTelemetry } from '../telemetry.js';
import type { LambdaRuntime } from './runtime.js';

/**
 * Lambda's internal queue for asynchronous (`InvocationType: Event`) invocations, per function.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 * - Throttled events go back to the queue and are retried with exponential backoff from 1 second
 *   up to 5 minutes, until the event is older than the function's maximum event age.
 * - Function errors are retried `maximumRetryAttempts` times (default 2), one minute before the
 *   first retry and two minutes before the second.
 * - Events that run out of age or attempts are dropped (`AsyncEventsDropped`).
 * All delays are lab time.
 */
export const AsyncRetry = {
  throttleFirstDelayMs: 1_000,
  throttleMaxDelayMs: 300_000,
  errorDelaysMs: [60_000, 120_000],
  /** A lab safeguard (AWS's queue is unbounded): events beyond this many are dropped. */
  maxQueued: 100_000,
} as const;

interface QueuedEvent {
  payload: unknown;
  receivedAt: number;
  throttleDelay: number;
  errorRetries: number;
}

export interface AsyncQueueCounters {
  received: number;
  succeeded: number;
  failed: number;
  dropped: number;
  /** Events waiting for a retry right now. */
  waiting: number;
}

export class AsyncEventQueue {
  readonly counters: AsyncQueueCounters = { received: 0, succeeded: 0, failed: 0, dropped: 0, waiting: 0 };

  constructor(
    private readonly fn: string,
    private readonly runtime: LambdaRuntime,
    private readonly clock: Clock,
    private readonly telemetry: LabTelemetry,
    private readonly maxRetries: number,
    private readonly maxAgeMs: number,
  ) {}

  /** Accepts an event (Invoke answers 202 at this point). Returns false when the lab's cap is hit. */
  enqueue(payload: unknown): boolean {
    const now = this.clock.now();
    if (this.counters.waiting >= AsyncRetry.maxQueued) {
      this.counters.dropped++;
      this.telemetry.asyncDropped(this.fn, now);
      return false;
    }
    this.counters.received++;
    this.telemetry.asyncReceived(this.fn, now);
    this.attempt({
      payload,
      receivedAt: now,
      throttleDelay: AsyncRetry.throttleFirstDelayMs,
      errorRetries: 0,
    });
    return true;
  }

  private attempt(ev: QueuedEvent): void {
    if (this.runtime.isClosed) return;
    const now = this.clock.now();
    const started = this.runtime.start(this.fn, ev.payload, 'async');
    if (started.kind === 'not-found') {
      this.drop(now);
      return;
    }
    if (started.kind === 'throttled') {
      const delay = ev.throttleDelay;
      ev.throttleDelay = Math.min(AsyncRetry.throttleMaxDelayMs, delay * 2);
      this.retryAfter(ev, delay, now);
      return;
    }
    this.telemetry.asyncAge(this.fn, now - ev.receivedAt, now);
    void started.done.then((outcome) => {
      const end = this.clock.now();
      if (outcome.kind === 'ok') {
        this.counters.succeeded++;
        return;
      }
      if (ev.errorRetries < this.maxRetries) {
        const delay = AsyncRetry.errorDelaysMs[ev.errorRetries] ?? AsyncRetry.errorDelaysMs[1];
        ev.errorRetries++;
        this.retryAfter(ev, delay, end);
      } else {
        this.counters.failed++;
        this.drop(end);
      }
    });
  }

  private retryAfter(ev: QueuedEvent, delayMs: number, now: number): void {
    if (now + delayMs - ev.receivedAt > this.maxAgeMs) {
      this.drop(now);
      return;
    }
    this.counters.waiting++;
    this.runtime.after(delayMs, () => {
      this.counters.waiting--;
      this.attempt(ev);
    });
  }

  private drop(now: number): void {
    this.counters.dropped++;
    this.telemetry.asyncDropped(this.fn, now);
  }
}
