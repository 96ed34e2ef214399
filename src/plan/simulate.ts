import { ConcurrencyPool } from '../common/concurrency/pool.js';
import { ExitCode, ThrottlescopeError } from '../common/errors.js';
import { wilsonInterval } from '../common/stats.js';
import { Random } from './random.js';

/**
 * Discrete-event simulation of one account's Lambda concurrency on a virtual clock. The limits
 * are the shared ConcurrencyPool's, so the planner predicts exactly the rules the lab enforces.
 */

export type ArrivalModel =
  | { kind: 'poisson'; ratePerSecond: number }
  /**
   * Piecewise-constant Poisson process: `perMinute[m]` is the expected number of arrivals in
   * minute m. The pattern repeats when the horizon is longer than the schedule.
   */
  | { kind: 'schedule'; perMinute: number[] };

export type DurationModel =
  | { kind: 'exponential'; meanMs: number }
  | { kind: 'deterministic'; ms: number }
  | { kind: 'lognormal'; medianMs: number; sigma: number };

export interface SimulatedFunction {
  name: string;
  /** Reserved concurrency; undefined = draws from the shared unreserved pool. */
  reserved?: number | undefined;
  arrivals: ArrivalModel;
  duration: DurationModel;
}

export interface SimulationInput {
  accountLimit: number;
  unreservedMinimum: number;
  scaling?: { increment: number; intervalMs: number } | undefined;
  /** Simulated horizon in milliseconds of virtual time. */
  durationMs: number;
  /**
   * Arrivals before this instant still occupy concurrency but are not counted, so results
   * estimate steady state rather than the empty-account start. Defaults to 0.
   */
  warmupMs?: number | undefined;
  /** Any safe integer; the same seed reproduces the same run. */
  seed: number;
  functions: SimulatedFunction[];
}

export interface ThrottlesByCause {
  account: number;
  reserved: number;
  scaling: number;
}

export interface SimulatedFunctionResult {
  name: string;
  /** Arrivals counted (after warm-up, before the horizon). */
  offered: number;
  throttled: number;
  throttleFraction: number;
  /**
   * 95% Wilson interval of throttleFraction. It treats arrivals as independent; throttles come
   * in bursts, so the true uncertainty is somewhat wider.
   */
  ci95: [number, number];
  byCause: ThrottlesByCause;
  /** Highest concurrency the function reached after warm-up. */
  peakConcurrency: number;
}

export interface SimulationResult {
  functions: SimulatedFunctionResult[];
  /** Arrival and completion events processed. */
  events: number;
  simulatedMs: number;
}

const MS_PER_MINUTE = 60_000;
const DURATION_EXPONENTIAL = 0;
const DURATION_DETERMINISTIC = 1;
const DURATION_LOGNORMAL = 2;
const STREAM_ARRIVALS = 1;
const STREAM_DURATIONS = 2;

function invalid(message: string): ThrottlescopeError {
  return new ThrottlescopeError('TS_PLAN_INVALID', message, { exitCode: ExitCode.usage });
}

function isNonNegativeFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Mean of a duration model in ms (what Little's law and Erlang B need). */
export function meanDurationMs(duration: DurationModel): number {
  switch (duration.kind) {
    case 'exponential':
      return duration.meanMs;
    case 'deterministic':
      return duration.ms;
    case 'lognormal':
      return duration.medianMs * Math.exp((duration.sigma * duration.sigma) / 2);
  }
}

/** Mean arrival rate per second over the whole schedule. */
export function meanRatePerSecond(arrivals: ArrivalModel): number {
  if (arrivals.kind === 'poisson') return arrivals.ratePerSecond;
  let sum = 0;
  for (const perMinute of arrivals.perMinute) sum += perMinute;
  return sum / arrivals.perMinute.length / 60;
}

/** Highest arrival rate per second: blocking is worst at the peak, so sizing uses it. */
export function peakRatePerSecond(arrivals: ArrivalModel): number {
  if (arrivals.kind === 'poisson') return arrivals.ratePerSecond;
  let peak = 0;
  for (const perMinute of arrivals.perMinute) if (perMinute > peak) peak = perMinute;
  return peak / 60;
}

export function validateFunctionModel(f: SimulatedFunction): void {
  const where = `function ${JSON.stringify(f.name)}`;
  if (typeof f.name !== 'string' || f.name.length === 0)
    throw invalid('every function needs a non-empty name');
  const a = f.arrivals;
  if (a?.kind === 'poisson') {
    if (!isNonNegativeFinite(a.ratePerSecond)) {
      throw invalid(`${where}: arrival rate must be a finite number >= 0 per second, got ${a.ratePerSecond}`);
    }
  } else if (a?.kind === 'schedule') {
    if (!Array.isArray(a.perMinute) || a.perMinute.length === 0) {
      throw invalid(`${where}: an arrival schedule needs at least one minute`);
    }
    a.perMinute.forEach((v, m) => {
      if (!isNonNegativeFinite(v)) {
        throw invalid(`${where}: arrivals in minute ${m} must be a finite number >= 0, got ${v}`);
      }
    });
  } else {
    throw invalid(`${where}: arrivals.kind must be 'poisson' or 'schedule'`);
  }
  const d = f.duration;
  if (d?.kind === 'exponential') {
    if (!isPositiveFinite(d.meanMs)) throw invalid(`${where}: meanMs must be > 0, got ${d.meanMs}`);
  } else if (d?.kind === 'deterministic') {
    if (!isNonNegativeFinite(d.ms)) throw invalid(`${where}: ms must be >= 0, got ${d.ms}`);
  } else if (d?.kind === 'lognormal') {
    if (!isPositiveFinite(d.medianMs)) throw invalid(`${where}: medianMs must be > 0, got ${d.medianMs}`);
    if (!isNonNegativeFinite(d.sigma)) throw invalid(`${where}: sigma must be >= 0, got ${d.sigma}`);
  } else {
    throw invalid(`${where}: duration.kind must be 'exponential', 'deterministic' or 'lognormal'`);
  }
}

function validateInput(input: SimulationInput): void {
  if (!isPositiveFinite(input.durationMs)) {
    throw invalid(`simulation duration must be a finite number of ms > 0, got ${input.durationMs}`);
  }
  const warmup = input.warmupMs ?? 0;
  if (!isNonNegativeFinite(warmup) || warmup >= input.durationMs) {
    throw invalid(`warm-up must be >= 0 and shorter than the simulated duration, got ${warmup}`);
  }
  if (!Number.isSafeInteger(input.seed)) throw invalid(`seed must be a safe integer, got ${input.seed}`);
  if (!Array.isArray(input.functions) || input.functions.length === 0) {
    throw invalid('the simulation needs at least one function');
  }
  const scaling = input.scaling;
  if (scaling && (!isPositiveFinite(scaling.intervalMs) || !(scaling.increment >= 1))) {
    throw invalid(
      `scaling needs increment >= 1 and intervalMs > 0, got ${scaling.increment} per ${scaling.intervalMs} ms`,
    );
  }
  for (const f of input.functions) validateFunctionModel(f);
}

/**
 * One independent stream per (seed, function name, purpose). Keying by name rather than index
 * keeps a function's arrivals identical when neighbours are added, removed or reconfigured, so
 * before/after comparisons see the same traffic (common random numbers).
 */
function streamSeed(seed: number, name: string, stream: number): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h ^ Math.floor(seed / 0x1_0000_0000), 0x01000193);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ stream, 0x9e3779b1) >>> 0;
}

/**
 * Binary min-heap of (time, code) in parallel typed arrays: the hot loop allocates nothing.
 * Capacity is fixed up front because in-flight executions never exceed the account limit.
 */
class EventHeap {
  readonly times: Float64Array;
  readonly codes: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.codes = new Int32Array(capacity);
  }

  push(time: number, code: number): void {
    const times = this.times;
    const codes = this.codes;
    let hole = this.size++;
    while (hole > 0) {
      const parent = (hole - 1) >> 1;
      const parentTime = times[parent]!;
      if (parentTime <= time) break;
      times[hole] = parentTime;
      codes[hole] = codes[parent]!;
      hole = parent;
    }
    times[hole] = time;
    codes[hole] = code;
  }

  /** Removes the minimum. */
  pop(): void {
    const last = --this.size;
    if (last > 0) this.siftDown(this.times[last]!, this.codes[last]!);
  }

  /** Replaces the minimum with a new event: one sift instead of a pop and a push. */
  replaceTop(time: number, code: number): void {
    this.siftDown(time, code);
  }

  private siftDown(time: number, code: number): void {
    const times = this.times;
    const codes = this.codes;
    const size = this.size;
    let hole = 0;
    for (;;) {
      let child = 2 * hole + 1;
      if (child >= size) break;
      let childTime = times[child]!;
      const right = child + 1;
      if (right < size) {
        const rightTime = times[right]!;
        if (rightTime < childTime) {
          child = right;
          childTime = rightTime;
        }
      }
      if (childTime >= time) break;
      times[hole] = childTime;
      codes[hole] = codes[child]!;
      hole = child;
    }
    times[hole] = time;
    codes[hole] = code;
  }
}

/**
 * Simulates every function's arrivals against the account's concurrency pool and counts who
 * was throttled and why.
 */
export function simulate(input: SimulationInput): SimulationResult {
  validateInput(input);
  const pool = new ConcurrencyPool(
    { accountLimit: input.accountLimit, unreservedMinimum: input.unreservedMinimum, scaling: input.scaling },
    input.functions.map((f) => ({ name: f.name, reserved: f.reserved })),
  );
  const n = input.functions.length;
  const horizon = input.durationMs;
  const warmup = input.warmupMs ?? 0;

  // Per-function parameters flattened into typed arrays so the loop stays monomorphic.
  const constantIntervalMs = new Float64Array(n);
  const schedules: (Float64Array | undefined)[] = [];
  const durationKind = new Int32Array(n);
  const durationA = new Float64Array(n);
  const durationB = new Float64Array(n);
  const arrivalRandom: Random[] = [];
  const durationRandom: Random[] = [];
  for (let i = 0; i < n; i++) {
    const f = input.functions[i]!;
    const a = f.arrivals;
    if (a.kind === 'poisson') {
      constantIntervalMs[i] = a.ratePerSecond > 0 ? 1000 / a.ratePerSecond : Number.POSITIVE_INFINITY;
      schedules.push(undefined);
    } else {
      // Stored as arrivals per ms so the inner loop multiplies nothing.
      schedules.push(Float64Array.from(a.perMinute, (perMinute) => perMinute / MS_PER_MINUTE));
    }
    const d = f.duration;
    if (d.kind === 'exponential') {
      durationKind[i] = DURATION_EXPONENTIAL;
      durationA[i] = d.meanMs;
    } else if (d.kind === 'deterministic') {
      durationKind[i] = DURATION_DETERMINISTIC;
      durationA[i] = d.ms;
    } else {
      durationKind[i] = DURATION_LOGNORMAL;
      durationA[i] = d.medianMs;
      durationB[i] = d.sigma;
    }
    arrivalRandom.push(new Random(streamSeed(input.seed, f.name, STREAM_ARRIVALS)));
    durationRandom.push(new Random(streamSeed(input.seed, f.name, STREAM_DURATIONS)));
  }

  const nextArrival = (i: number, now: number): number => {
    const random = arrivalRandom[i]!;
    const schedule = schedules[i];
    if (schedule === undefined) return now + random.exponential(constantIntervalMs[i]!);
    // Thinning-free inhomogeneous Poisson: within a minute the rate is constant, and by
    // memorylessness a draw that overshoots the minute can be discarded and redrawn there.
    let t = now;
    while (t < horizon) {
      const minute = Math.floor(t / MS_PER_MINUTE);
      const minuteEnd = (minute + 1) * MS_PER_MINUTE;
      const ratePerMs = schedule[minute % schedule.length]!;
      if (ratePerMs > 0) {
        const candidate = t + random.exponential(1 / ratePerMs);
        if (candidate < minuteEnd) return candidate;
      }
      t = minuteEnd;
    }
    return Number.POSITIVE_INFINITY;
  };

  const drawDuration = (i: number): number => {
    const kind = durationKind[i]!;
    if (kind === DURATION_DETERMINISTIC) return durationA[i]!;
    if (kind === DURATION_EXPONENTIAL) return durationRandom[i]!.exponential(durationA[i]!);
    return durationRandom[i]!.lognormal(durationA[i]!, durationB[i]!);
  };

  const offered = new Float64Array(n);
  const throttledAccount = new Float64Array(n);
  const throttledReserved = new Float64Array(n);
  const throttledScaling = new Float64Array(n);
  const peak = new Int32Array(n);

  // Codes: function index * 2, plus 1 for an arrival (0 for a completion).
  const heap = new EventHeap(input.accountLimit + n + 1);
  for (let i = 0; i < n; i++) {
    const first = nextArrival(i, 0);
    if (first < horizon) heap.push(first, (i << 1) | 1);
  }

  const times = heap.times;
  const codes = heap.codes;
  let events = 0;
  while (heap.size > 0) {
    const now = times[0]!;
    if (now >= horizon) break;
    const code = codes[0]!;
    const i = code >> 1;
    events++;
    if ((code & 1) === 0) {
      heap.pop();
      pool.release(i);
      continue;
    }
    const next = nextArrival(i, now);
    if (next < horizon) heap.replaceTop(next, code);
    else heap.pop();
    const counted = now >= warmup;
    if (counted) offered[i]!++;
    const outcome = pool.tryAcquire(i, now);
    if (outcome.ok) {
      heap.push(now + drawDuration(i), i << 1);
      if (counted) {
        const inFlight = pool.inFlightOf(i);
        if (inFlight > peak[i]!) peak[i] = inFlight;
      }
    } else if (counted) {
      const cause = outcome.cause;
      if (cause === 'account') throttledAccount[i]!++;
      else if (cause === 'reserved') throttledReserved[i]!++;
      else throttledScaling[i]!++;
    }
  }

  const functions: SimulatedFunctionResult[] = input.functions.map((f, i) => {
    const account = throttledAccount[i]!;
    const reserved = throttledReserved[i]!;
    const scaling = throttledScaling[i]!;
    const throttled = account + reserved + scaling;
    const arrivals = offered[i]!;
    const ci = wilsonInterval(throttled, arrivals);
    return {
      name: f.name,
      offered: arrivals,
      throttled,
      throttleFraction: arrivals === 0 ? 0 : throttled / arrivals,
      ci95: [ci.low, ci.high],
      byCause: { account, reserved, scaling },
      peakConcurrency: peak[i]!,
    };
  });
  return { functions, events, simulatedMs: horizon };
}
