import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import type { ThrottleCause } from '../../common/concurrency/aws-limits.js';
import type { ConcurrencyPool } from '../../common/concurrency/pool.js';
import { SlotSet } from '../../common/slot-set.js';
import type { ScenarioFunction } from '../scenario.js';
import type { LabTelemetry } from '../telemetry.js';
import { defaultRandom, durationSampler, type Random } from './distribution.js';
import { type FunctionError, WorkerPool } from './worker-pool.js';

/**
 * The lab's Lambda service: every invocation, whoever makes it (the ALB, the AWS endpoint's
 * Invoke, a queue poller, the async event queue), goes through `start`, which takes a slot from
 * the shared ConcurrencyPool or throttles, runs the function (synthetic timers or a worker-thread
 * handler), and gives the slot back in `finally`, exactly once.
 */

export type InvokeOutcome =
  | {
      kind: 'ok';
      /** The function's return value as JSON text (what Invoke returns). */
      json: string;
      /** UTF-8 byte length of `json`. */
      bytes: number;
      /** The parsed value when already at hand (synthetic functions), else parse `json`. */
      value?: unknown;
      /**
       * `value` is deeply frozen and the same object on every invocation of this function, so a
       * caller may cache what it derives from it (the ALB caches the checked response).
       */
      constant?: boolean;
      /** Lab milliseconds. */
      durationMs: number;
      requestId: string;
    }
  | { kind: 'error'; error: FunctionError; durationMs: number; requestId: string };

export type StartResult =
  | {
      kind: 'started';
      done: Promise<InvokeOutcome>;
      /**
       * The outcome, when the function finished at once (a synthetic function with no duration):
       * a caller may use it without waiting for `done`. Its concurrency slot is still given back
       * a microtask later, as when the outcome comes through `done`.
       */
      outcome?: InvokeOutcome | undefined;
    }
  | { kind: 'throttled'; cause: ThrottleCause }
  | { kind: 'not-found' };

export type InvocationSource = 'alb' | 'api' | 'queue' | 'async';

interface FunctionState {
  spec: ScenarioFunction;
  index: number;
  arn: string;
  counters: FunctionCounters;
  /** Runs one invocation: an outcome at once (no duration) or a promise of it. */
  run: (event: unknown, requestId: string, timeoutMs: number) => RunOutcome | Promise<RunOutcome>;
  close: () => Promise<void>;
  workers?: WorkerPool | undefined;
}

type RunOutcome =
  | { ok: true; json: string; bytes: number; value?: unknown; constant?: boolean; durationMs?: number }
  | { ok: false; error: FunctionError; durationMs?: number };

export interface FunctionCounters {
  invocations: number;
  errors: number;
  throttles: number;
  throttlesByCause: Record<ThrottleCause, number>;
  /** Highest concurrency seen since the last metrics sample (reset by `takePeaks`). */
  peak: number;
}

export interface LambdaRuntimeOptions {
  functions: readonly ScenarioFunction[];
  pool: ConcurrencyPool;
  clock: Clock;
  timeScale: number;
  telemetry: LabTelemetry;
  region: string;
  accountId: string;
  random?: Random;
}

export class LambdaRuntime {
  private readonly fns = new Map<string, FunctionState>();
  private readonly pool: ConcurrencyPool;
  private readonly clock: Clock;
  private readonly timeScale: number;
  private readonly telemetry: LabTelemetry;
  /** Timers running (cancelled by close); a SlotSet, as one comes and goes per invocation. */
  private readonly timers = new SlotSet<PendingTimer>();
  private accountPeak = 0;
  private accountTotal = 0;
  private closed = false;
  /** Invocations still running (so close() can wait for them), and who waits for none. */
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(opts: LambdaRuntimeOptions) {
    this.pool = opts.pool;
    this.clock = opts.clock;
    this.timeScale = opts.timeScale;
    this.telemetry = opts.telemetry;
    const random = opts.random ?? defaultRandom;
    for (const spec of opts.functions) {
      let index: number;
      try {
        index = this.pool.indexOf(spec.name);
      } catch {
        index = this.pool.addFunction(spec.name, spec.reservedConcurrency);
      }
      const arn = `arn:aws:lambda:${opts.region}:${opts.accountId}:function:${spec.name}`;
      const counters: FunctionCounters = {
        invocations: 0,
        errors: 0,
        throttles: 0,
        throttlesByCause: { account: 0, reserved: 0, scaling: 0 },
        peak: 0,
      };
      const state: FunctionState = { spec, index, arn, counters, ...this.executor(spec, arn, random) };
      this.fns.set(spec.name, state);
    }
  }

  private executor(
    spec: ScenarioFunction,
    arn: string,
    random: Random,
  ): Pick<FunctionState, 'run' | 'close' | 'workers'> {
    if (spec.synthetic) {
      const model = spec.synthetic;
      const sample = durationSampler(model.duration, random);
      const body = 'x'.repeat(model.responseBytes);
      const value = Object.freeze({
        statusCode: model.statusCode,
        statusDescription: `${model.statusCode} ${STATUS_TEXT[model.statusCode] ?? 'Status'}`,
        headers: Object.freeze({ 'content-type': model.contentType }),
        body,
        isBase64Encoded: false,
      });
      const json = JSON.stringify(value);
      const bytes = Buffer.byteLength(json);
      const ok: RunOutcome = { ok: true, json, bytes, value, constant: true };
      const instant: RunOutcome = Object.freeze({ ...ok, durationMs: 0 });
      const timeoutMs = spec.timeout;
      return {
        run: (_event, requestId) => {
          const d = sample();
          const failed = model.errorRate > 0 && random() <= model.errorRate;
          const timedOut = d >= timeoutMs;
          const labMs = timedOut ? timeoutMs : d;
          // No duration: done at once, no timer and no promise.
          if (labMs <= 0 && !failed && !timedOut) return instant;
          return new Promise<RunOutcome>((resolve) => {
            const pending: PendingTimer = { slot: -1, timer: undefined };
            const done = () => {
              this.timers.delete(pending);
              if (timedOut) {
                resolve({
                  ok: false,
                  durationMs: labMs,
                  error: {
                    errorType: 'Sandbox.Timedout',
                    errorMessage: `${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
                  },
                });
              } else if (failed) {
                resolve({
                  ok: false,
                  durationMs: labMs,
                  error: { errorType: 'Error', errorMessage: 'synthetic failure (errorRate)', trace: [] },
                });
              } else resolve({ ...ok, durationMs: labMs });
            };
            pending.timer = setTimeout(done, labMs / this.timeScale);
            this.timers.add(pending);
          });
        },
        close: async () => {},
      };
    }
    const workers = new WorkerPool({
      functionName: spec.name,
      modulePath: spec.handlerPath!,
      exportName: spec.handler!.export,
      memoryMb: spec.memoryMb,
      maxWorkers: spec.handler!.maxWorkers,
      timeScale: this.timeScale,
      context: {
        functionName: spec.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: arn,
        memoryLimitInMB: String(spec.memoryMb),
        logGroupName: `/aws/lambda/${spec.name}`,
      },
    });
    return {
      workers,
      run: (event, requestId, timeoutMs) =>
        new Promise<RunOutcome>((resolve) =>
          workers.submit(event, requestId, timeoutMs, (r) =>
            resolve(r.ok ? { ok: true, json: r.payload, bytes: Buffer.byteLength(r.payload) } : r),
          ),
        ),
      close: () => workers.close(),
    };
  }

  /**
   * Whether the function looks at its event: a synthetic one answers from its model alone, so a
   * caller on the request path may skip building the event for it (and pass undefined).
   */
  readsEvent(name: string): boolean {
    return this.fns.get(name)?.spec.synthetic === undefined;
  }

  has(name: string): boolean {
    return this.fns.has(name);
  }

  functionNames(): string[] {
    return [...this.fns.keys()];
  }

  spec(name: string): ScenarioFunction | undefined {
    return this.fns.get(name)?.spec;
  }

  arnOf(name: string): string | undefined {
    return this.fns.get(name)?.arn;
  }

  counters(name: string): FunctionCounters | undefined {
    return this.fns.get(name)?.counters;
  }

  workerPool(name: string): WorkerPool | undefined {
    return this.fns.get(name)?.workers;
  }

  /**
   * Starts one invocation now, or says why not. The concurrency decision is synchronous, so a
   * caller can tell at once whether it was throttled (pollers rely on this).
   */
  start(name: string, event: unknown, _source: InvocationSource = 'api'): StartResult {
    const f = this.fns.get(name);
    if (!f || this.closed) return { kind: 'not-found' };
    const now = this.clock.now();
    const acquired = this.pool.tryAcquire(f.index, now);
    if (!acquired.ok) {
      f.counters.throttles++;
      f.counters.throttlesByCause[acquired.cause]++;
      this.telemetry.throttle(name, now);
      return { kind: 'throttled', cause: acquired.cause };
    }
    const inFlight = this.pool.inFlightOf(f.index);
    if (inFlight > f.counters.peak) f.counters.peak = inFlight;
    this.accountTotal++;
    if (this.accountTotal > this.accountPeak) this.accountPeak = this.accountTotal;
    this.running++;
    const requestId = randomUUID();
    let run: RunOutcome | Promise<RunOutcome>;
    try {
      run = f.run(event, requestId, f.spec.timeout);
    } catch (e) {
      run = runtimeError(e);
    }
    if (run instanceof Promise) {
      const done = run.then(
        (o) => this.finish(f, o, now, requestId),
        (e: unknown) => this.finish(f, runtimeError(e), now, requestId),
      );
      return { kind: 'started', done };
    }
    // Finished at once. The slot goes back a microtask later, as it would through a promise, so
    // callers that start several invocations in one go see the same concurrency as before.
    const ended = run;
    const outcome = invokeOutcome(ended, 0, requestId);
    void RESOLVED.then(() => {
      try {
        this.finish(f, ended, now, requestId);
      } catch {
        // The outcome is delivered already; nobody is left to tell.
      }
    });
    return new Finished(outcome);
  }

  /** Gives the slot back, counts the invocation and publishes its metrics; exactly once each. */
  private finish(f: FunctionState, outcome: RunOutcome, startedAt: number, requestId: string): InvokeOutcome {
    try {
      this.pool.release(f.index);
      this.accountTotal--;
      const end = this.clock.now();
      const durationMs = outcome.durationMs ?? Math.max(0, end - startedAt);
      f.counters.invocations++;
      if (!outcome.ok) f.counters.errors++;
      this.telemetry.invocation(f.spec.name, durationMs, !outcome.ok, end);
      return invokeOutcome(outcome, durationMs, requestId);
    } finally {
      this.running--;
      if (this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Peak concurrency since the last call, per function and account-wide; resets them to current. */
  takePeaks(): { account: number; byFunction: Map<string, number> } {
    const byFunction = new Map<string, number>();
    for (const [name, f] of this.fns) {
      byFunction.set(name, f.counters.peak);
      f.counters.peak = this.pool.inFlightOf(f.index);
    }
    const account = this.accountPeak;
    this.accountPeak = this.accountTotal;
    return { account, byFunction };
  }

  /** Schedules `fn` after `labMs` of lab time; cancelled by close(). */
  after(labMs: number, fn: () => void): void {
    if (this.closed) return;
    const pending: PendingTimer = { slot: -1, timer: undefined };
    pending.timer = setTimeout(() => {
      this.timers.delete(pending);
      fn();
    }, labMs / this.timeScale);
    this.timers.add(pending);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Waits (bounded) for running invocations, then stops workers and timers. */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    if (this.running > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => this.idleWaiters.push(r)),
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    await Promise.all([...this.fns.values()].map((f) => f.close()));
    this.timers.forEach((p) => {
      clearTimeout(p.timer);
    });
    this.timers.clear();
  }
}

/** A timer the runtime may have to cancel, in its SlotSet. */
interface PendingTimer {
  slot: number;
  timer: NodeJS.Timeout | undefined;
}

/** For a microtask without queueMicrotask's per-call async resource. */
const RESOLVED = Promise.resolve();

function runtimeError(e: unknown): RunOutcome {
  return { ok: false, error: { errorType: 'Runtime.Unknown', errorMessage: (e as Error)?.message } };
}

function invokeOutcome(o: RunOutcome, durationMs: number, requestId: string): InvokeOutcome {
  return o.ok
    ? {
        kind: 'ok',
        json: o.json,
        bytes: o.bytes,
        value: o.value,
        constant: o.constant,
        durationMs: o.durationMs ?? durationMs,
        requestId,
      }
    : { kind: 'error', error: o.error, durationMs: o.durationMs ?? durationMs, requestId };
}

/** A started invocation that has already finished; `done` is made only if someone asks. */
class Finished {
  readonly kind = 'started';
  private promise: Promise<InvokeOutcome> | undefined;
  constructor(readonly outcome: InvokeOutcome) {}
  get done(): Promise<InvokeOutcome> {
    this.promise ??= Promise.resolve(this.outcome);
    return this.promise;
  }
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
