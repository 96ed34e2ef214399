import { ThrottlescopeError } from '../errors.js';
import { LambdaLimits, type ThrottleCause } from './aws-limits.js';

/**
 * The account's Lambda concurrency, as AWS accounts for it: one pool per account and region,
 * reserved concurrency carved out of it (a cap and a guarantee), the rest shared by every
 * unreserved function, and a per-function scaling rate. Pure accounting on a caller-supplied
 * clock: the lab passes wall-clock milliseconds, the planner's simulator virtual ones, so a rule
 * changes in one place. Functions are addressed by index on the hot path (the simulator makes
 * millions of calls); `indexOf` maps names once.
 */
export interface PoolConfig {
  accountLimit: number;
  /** Concurrency AWS keeps unreserved; reservations may total at most accountLimit - this. */
  unreservedMinimum: number;
  /** Per-function scale-up limit: `increment` new environments per `intervalMs`. Omit to disable. */
  scaling?: { increment: number; intervalMs: number } | undefined;
}

export interface PoolFunction {
  name: string;
  /** Reserved concurrency; undefined = draws from the shared unreserved pool. */
  reserved?: number | undefined;
}

export type AcquireResult = { ok: true } | { ok: false; cause: ThrottleCause };

export interface PoolSnapshot {
  accountLimit: number;
  unreservedMinimum: number;
  /** Account-wide ConcurrentExecutions. */
  concurrentExecutions: number;
  /** In-flight executions of functions without reserved concurrency. */
  unreservedConcurrentExecutions: number;
  /** UnreservedConcurrentExecutions + total reserved (AWS's ClaimedAccountConcurrency). */
  claimedAccountConcurrency: number;
  /** Size of the shared pool: accountLimit - total reserved. */
  unreservedPoolSize: number;
  functions: { name: string; reserved: number | undefined; inFlight: number }[];
}

export class PoolConfigError extends ThrottlescopeError {
  readonly awsCode: string;
  constructor(message: string, awsCode = 'InvalidParameterValueException') {
    super('TS_POOL_INVALID_RESERVATION', message);
    this.name = 'PoolConfigError';
    this.awsCode = awsCode;
  }
}

export class ConcurrencyPool {
  readonly config: PoolConfig;
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private reserved: (number | undefined)[] = [];
  private inFlight: number[] = [];
  private totalReserved = 0;
  private unreservedInFlight = 0;
  private total = 0;
  // Scaling-rate state per function: window start and the ceiling for that window.
  private windowStart: number[] = [];
  private windowCeiling: number[] = [];

  constructor(config: PoolConfig, functions: readonly PoolFunction[] = []) {
    if (!(config.accountLimit >= 1) || !Number.isInteger(config.accountLimit)) {
      throw new PoolConfigError(
        `account concurrency limit must be a positive integer, got ${config.accountLimit}`,
      );
    }
    if (!(config.unreservedMinimum >= 0) || config.unreservedMinimum > config.accountLimit) {
      throw new PoolConfigError(
        `unreserved minimum must be between 0 and the account limit ${config.accountLimit}, got ${config.unreservedMinimum}`,
      );
    }
    this.config = { ...config };
    for (const f of functions) this.addFunction(f.name, f.reserved);
  }

  /** Registers a function; returns its index. */
  addFunction(name: string, reserved?: number): number {
    if (this.index.has(name)) throw new PoolConfigError(`function ${name} is already registered`);
    const i = this.names.length;
    this.names.push(name);
    this.index.set(name, i);
    this.reserved.push(undefined);
    this.inFlight.push(0);
    this.windowStart.push(Number.NEGATIVE_INFINITY);
    this.windowCeiling.push(0);
    if (reserved !== undefined) this.setReserved(name, reserved);
    return i;
  }

  indexOf(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new PoolConfigError(`no function named ${name}`, 'ResourceNotFoundException');
    return i;
  }

  get functionNames(): readonly string[] {
    return this.names;
  }

  /** The largest reservation `name` may have right now (AWS's check in PutFunctionConcurrency). */
  maxReservable(name: string): number {
    const i = this.indexOf(name);
    const others = this.totalReserved - (this.reserved[i] ?? 0);
    return this.config.accountLimit - this.config.unreservedMinimum - others;
  }

  /**
   * Sets (or with undefined, removes) a function's reserved concurrency. Takes effect at once:
   * executions already running finish; new ones see the new limits.
   */
  setReserved(name: string, reserved: number | undefined): void {
    const i = this.indexOf(name);
    if (reserved !== undefined) {
      if (!Number.isInteger(reserved) || reserved < 0) {
        throw new PoolConfigError(`reserved concurrency must be a non-negative integer, got ${reserved}`);
      }
      const max = this.maxReservable(name);
      if (reserved > max) {
        // The wording follows the Lambda API's refusal of PutFunctionConcurrency.
        throw new PoolConfigError(
          `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${this.config.unreservedMinimum}].`,
        );
      }
    }
    const before = this.reserved[i];
    if (before === undefined && reserved !== undefined) this.unreservedInFlight -= this.inFlight[i]!;
    if (before !== undefined && reserved === undefined) this.unreservedInFlight += this.inFlight[i]!;
    this.totalReserved += (reserved ?? 0) - (before ?? 0);
    this.reserved[i] = reserved;
  }

  reservedOf(name: string): number | undefined {
    return this.reserved[this.indexOf(name)];
  }

  /** Tries to start one execution of function `i` at time `now` (ms on the caller's clock). */
  tryAcquire(i: number, now: number): AcquireResult {
    const r = this.reserved[i];
    const cur = this.inFlight[i]!;
    if (r !== undefined) {
      if (cur >= r) return THROTTLED_RESERVED;
    } else if (this.unreservedInFlight >= this.config.accountLimit - this.totalReserved) {
      return THROTTLED_ACCOUNT;
    }
    const scaling = this.config.scaling;
    if (scaling) {
      if (now - this.windowStart[i]! >= scaling.intervalMs) {
        // A new window: the function may grow `increment` beyond where it stands now.
        this.windowStart[i] = now;
        this.windowCeiling[i] = cur + scaling.increment;
      }
      if (cur >= this.windowCeiling[i]!) return THROTTLED_SCALING;
    }
    this.inFlight[i] = cur + 1;
    if (r === undefined) this.unreservedInFlight += 1;
    this.total += 1;
    return ACQUIRED;
  }

  /** Ends one execution of function `i`. Callers release in `finally`, exactly once per acquire. */
  release(i: number): void {
    const cur = this.inFlight[i]!;
    if (cur <= 0) throw new Error(`ConcurrencyPool.release: function ${this.names[i]} has nothing in flight`);
    this.inFlight[i] = cur - 1;
    if (this.reserved[i] === undefined) this.unreservedInFlight -= 1;
    this.total -= 1;
  }

  inFlightOf(i: number): number {
    return this.inFlight[i]!;
  }

  snapshot(): PoolSnapshot {
    return {
      accountLimit: this.config.accountLimit,
      unreservedMinimum: this.config.unreservedMinimum,
      concurrentExecutions: this.total,
      unreservedConcurrentExecutions: this.unreservedInFlight,
      claimedAccountConcurrency: this.unreservedInFlight + this.totalReserved,
      unreservedPoolSize: this.config.accountLimit - this.totalReserved,
      functions: this.names.map((name, i) => ({
        name,
        reserved: this.reserved[i],
        inFlight: this.inFlight[i]!,
      })),
    };
  }
}

const ACQUIRED: AcquireResult = { ok: true };
const THROTTLED_RESERVED: AcquireResult = { ok: false, cause: 'reserved' };
const THROTTLED_ACCOUNT: AcquireResult = { ok: false, cause: 'account' };
const THROTTLED_SCALING: AcquireResult = { ok: false, cause: 'scaling' };

/** AWS's scaling rule compressed by a lab/simulation time scale (e.g. 60 = one minute per second). */
export function scalingRule(timeScale = 1): { increment: number; intervalMs: number } {
  return { increment: LambdaLimits.scalingIncrement, intervalMs: LambdaLimits.scalingIntervalMs / timeScale };
}
