import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Msg, type WorkerBoot, type WorkerToLab } from './protocol.js';
import { WORKER_SOURCE } from './worker-source.js';

/**
 * Execution environments of one function that runs a real handler module: one worker thread per
 * environment, one invocation per environment at a time, as Lambda runs them. A worker that
 * crashes, exits, runs out of memory or times out is terminated and forgotten; the next
 * invocation gets a fresh one (a cold start). Memory is capped with the function's memory size
 * (`resourceLimits`), so a handler that allocates without bound kills only its own worker.
 */

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace?: string[] | undefined;
}

export type RunResult = { ok: true; payload: string } | { ok: false; error: FunctionError };

export interface WorkerPoolOptions {
  functionName: string;
  /** Absolute path of the handler module. */
  modulePath: string;
  exportName: string;
  memoryMb: number;
  maxWorkers: number;
  timeScale: number;
  /** Wall-clock limit for importing the module (Lambda's init phase has 10 s). */
  initTimeoutMs?: number;
  /** The invocation context's fields that are the same for every invocation. */
  context: WorkerBoot['context'];
}

/** Lambda's init phase limit. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html */
const INIT_TIMEOUT_MS = 10_000;

let tsxApiUrl: string | undefined | null = null;
function tsxApi(): string | undefined {
  if (tsxApiUrl === null) {
    try {
      // The ESM entry: require.resolve would pick tsx's CommonJS build, which cannot register ESM hooks.
      tsxApiUrl = import.meta.resolve('tsx/esm/api');
    } catch {
      tsxApiUrl = undefined;
    }
  }
  return tsxApiUrl;
}

/** One invocation on its way to (or waiting for) an environment. */
interface Job {
  event: unknown;
  requestId: string;
  /** Lab ms. */
  timeoutMs: number;
  done: (r: RunResult) => void;
}

class Environment {
  readonly worker: Worker;
  /** Resolves once the module is imported; rejects with the init error. */
  readonly ready: Promise<void>;
  /** `ready` has resolved (so a run need not wait for it). */
  isReady = false;
  dead = false;
  private pending: { id: number; job: Job } | undefined;
  private readyResolve!: () => void;
  private readyReject!: (e: FunctionError) => void;
  private nextId = 1;
  private initTimer: NodeJS.Timeout | undefined;
  private lastError: Error | undefined;
  /**
   * The invocation timeout: one timer per environment, restarted (`refresh`) by each run rather
   * than made and cleared per invocation. It may go off after its run has ended; then there is
   * nothing pending and it does nothing. Unref'd: the worker keeps the process alive anyway.
   */
  private timeout: NodeJS.Timeout | undefined;
  private timeoutWallMs = -1;

  constructor(
    private readonly opts: WorkerPoolOptions,
    private readonly onDead: (env: Environment) => void,
  ) {
    const boot: WorkerBoot = {
      url: pathToFileURL(opts.modulePath).href,
      exportName: opts.exportName,
      handlerName: `${opts.modulePath.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '')}.${opts.exportName}`,
      timeScale: opts.timeScale,
      tsxApi: /\.(c|m)?tsx?$/.test(opts.modulePath) ? tsxApi() : undefined,
      context: opts.context,
    };
    this.ready = new Promise<void>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.ready.catch(() => {});
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: boot,
      stdout: true,
      stderr: true,
      resourceLimits: {
        maxOldGenerationSizeMb: opts.memoryMb,
        maxYoungGenerationSizeMb: Math.min(16, Math.max(1, Math.floor(opts.memoryMb / 8))),
      },
    });
    // Handler console output is the function's log; the lab does not print it.
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.initTimer = setTimeout(() => {
      this.readyReject({
        errorType: 'Runtime.InitTimeout',
        errorMessage: `Init timed out after ${((opts.initTimeoutMs ?? INIT_TIMEOUT_MS) / 1000).toFixed(2)} seconds`,
      });
      this.kill();
    }, opts.initTimeoutMs ?? INIT_TIMEOUT_MS);
    this.worker.on('message', (m: WorkerToLab) => this.onMessage(m));
    this.worker.on('error', (e) => {
      this.lastError = e;
    });
    this.worker.on('exit', (code) => this.onExit(code));
  }

  private onMessage(m: WorkerToLab): void {
    switch (m.type) {
      case Msg.ready:
        clearTimeout(this.initTimer);
        this.isReady = true;
        this.readyResolve();
        return;
      case Msg.initError:
        clearTimeout(this.initTimer);
        this.readyReject({ errorType: m.errorType, errorMessage: m.errorMessage });
        this.kill();
        return;
      case Msg.result:
        this.settle(m.id, { ok: true, payload: m.payload });
        return;
      case Msg.error:
        this.settle(m.id, {
          ok: false,
          error: { errorType: m.errorType, errorMessage: m.errorMessage, trace: m.trace },
        });
        return;
    }
  }

  private settle(id: number, result: RunResult): void {
    const p = this.pending;
    if (!p || p.id !== id) return;
    this.pending = undefined;
    p.job.done(result);
  }

  private onExit(code: number): void {
    clearTimeout(this.initTimer);
    clearTimeout(this.timeout);
    const wasDead = this.dead;
    this.dead = true;
    const e = this.lastError;
    const oom = (e as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    const error: FunctionError = oom
      ? { errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: signal: killed' }
      : e
        ? {
            errorType: e.name && e.name !== 'Error' ? e.name : 'Runtime.ExitError',
            errorMessage: `Runtime exited with error: ${e.message}`,
          }
        : { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: exit status ${code}` };
    this.readyReject(error);
    const p = this.pending;
    if (p) {
      this.pending = undefined;
      p.job.done({ ok: false, error });
    }
    if (!wasDead) this.onDead(this);
  }

  /** Runs one invocation; the lab-time `timeoutMs` is enforced in wall time (÷ time scale). */
  run(job: Job): void {
    const wallTimeout = job.timeoutMs / this.opts.timeScale;
    const id = this.nextId++;
    this.pending = { id, job };
    if (this.timeout !== undefined && this.timeoutWallMs === wallTimeout) this.timeout.refresh();
    else {
      clearTimeout(this.timeout);
      this.timeout = setTimeout(() => this.timedOut(), wallTimeout);
      this.timeout.unref();
      this.timeoutWallMs = wallTimeout;
    }
    try {
      this.worker.postMessage({
        type: Msg.invoke,
        id,
        event: job.event,
        requestId: job.requestId,
        deadline: Date.now() + wallTimeout,
      });
    } catch (e) {
      this.settle(id, {
        ok: false,
        error: { errorType: 'Runtime.InvalidEvent', errorMessage: (e as Error).message },
      });
    }
  }

  /** The timer restarted with the pending run has gone off: that run has used its whole timeout. */
  private timedOut(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    // Lambda stops the environment at its timeout; so do we (before answering, so that the pool
    // does not hand this environment to the next invocation).
    this.kill();
    p.job.done({
      ok: false,
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `${p.job.requestId} Task timed out after ${(p.job.timeoutMs / 1000).toFixed(2)} seconds`,
      },
    });
  }

  kill(): void {
    clearTimeout(this.timeout);
    if (!this.dead) {
      this.dead = true;
      this.onDead(this);
    }
    void this.worker.terminate();
  }
}

export class WorkerPool {
  private readonly idle: Environment[] = [];
  private readonly all = new Set<Environment>();
  /** Invocations waiting for an environment, first come first served. */
  private readonly waiters: Job[] = [];
  private closed = false;
  /** Environments started (cold starts), for the snapshot. */
  coldStarts = 0;

  constructor(private readonly opts: WorkerPoolOptions) {}

  get size(): number {
    return this.all.size;
  }

  private spawn(): Environment {
    const env = new Environment(this.opts, (dead) => this.forget(dead));
    this.all.add(env);
    this.coldStarts++;
    return env;
  }

  private forget(env: Environment): void {
    this.all.delete(env);
    const i = this.idle.indexOf(env);
    if (i >= 0) this.idle.splice(i, 1);
    // Someone waiting for an environment gets a fresh one in its place.
    const w = !this.closed && this.waiters.shift();
    if (w) this.start(this.spawn(), w);
  }

  /** Runs `job` in `env` once its init is done; an init failure is the invocation's error. */
  private start(env: Environment, job: Job): void {
    if (env.isReady) {
      this.runIn(env, job);
      return;
    }
    env.ready.then(
      () => this.runIn(env, job),
      (error: FunctionError) => job.done({ ok: false, error }),
    );
  }

  private runIn(env: Environment, job: Job): void {
    const done = job.done;
    job.done = (r) => {
      this.release(env);
      done(r);
    };
    env.run(job);
  }

  private release(env: Environment): void {
    if (env.dead || this.closed) return;
    const w = this.waiters.shift();
    if (w) this.start(env, w);
    else this.idle.push(env);
  }

  /**
   * Runs one invocation in a free (or new) environment, or queues it for the first one that
   * frees up; `done` gets the result. Never fails: failures are function errors.
   */
  submit(event: unknown, requestId: string, timeoutMs: number, done: (r: RunResult) => void): void {
    if (this.closed) {
      done({ ok: false, error: { errorType: 'Runtime.Unavailable', errorMessage: 'worker pool closed' } });
      return;
    }
    const job: Job = { event, requestId, timeoutMs, done };
    const env = this.idle.pop();
    if (env) this.start(env, job);
    else if (this.all.size < this.opts.maxWorkers) this.start(this.spawn(), job);
    else this.waiters.push(job);
  }

  /** `submit` as a promise. */
  invoke(event: unknown, requestId: string, timeoutMs: number): Promise<RunResult> {
    return new Promise((resolve) => this.submit(event, requestId, timeoutMs, resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    const envs = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(envs.map((e) => e.worker.terminate().catch(() => 0)));
  }
}
