import { ConcurrencyPool } from '../common/concurrency/pool.js';
import { ThrottlescopeError } from '../common/errors.js';
import { Random } from '../common/random.js';
import { wilsonInterval } from '../common/stats.js';

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
  | { kind: 'lognormal'; medianMs: number; sigma: number }
  | { kind: 'uniform'; minMs: number; maxMs: number };

/**
 * An SQS-like queue polled by an event source mapping, as the lab's `queue` background source
 * models it: messages wait in a backlog; the poller invokes synchronously while fewer than
 * `maxConcurrency` of its invocations are in flight; a throttled invoke leaves the message in the
 * queue and pauses the poller for `backoff.firstMs`, doubling up to `backoff.maxMs` while throttles
 * continue. A throttle here delays a message instead of losing it, so such a function is not a
 * loss system and Erlang B does not apply to it.
 */
export interface QueueSource {
  /** Names the source (and its random stream); unique within its function. */
  name: string;
  /** Message arrivals. */
  arrivals: ArrivalModel;
  /** Most invocations the poller keeps in flight; unbounded when omitted. */
  maxConcurrency?: number | undefined;
  /** Poller pause after a throttle; defaults to the lab's 1 s, doubling to 30 s. */
  backoff?: { firstMs: number; maxMs: number } | undefined;
}

/** The lab's poller backoff (src/lab/background.ts PollerBackoff), in ms of scenario time. */
export const DEFAULT_QUEUE_BACKOFF = { firstMs: 1_000, maxMs: 30_000 } as const;

export interface SimulatedFunction {
  name: string;
  /** Reserved concurrency; undefined = draws from the shared unreserved pool. */
  reserved?: number | undefined;
  /** Synchronous invocations (ALB, API calls): a throttled one is rejected, not retried. */
  arrivals: ArrivalModel;
  duration: DurationModel;
  /** Queues whose pollers invoke this function too (see QueueSource). */
  queues?: QueueSource[] | undefined;
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

export interface QueueResult {
  /** Messages that arrived after warm-up. */
  arrived: number;
  /** Messages still waiting at the horizon (all of the function's queues). */
  backlog: number;
}

export interface SimulatedFunctionResult {
  name: string;
  /**
   * Invocation attempts counted (after warm-up, before the horizon): arrivals of synchronous
   * traffic plus every invoke a queue poller tried, as CloudWatch counts Invocations + Throttles.
   */
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
  /** Only for a function with queues. */
  queue?: QueueResult | undefined;
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
const DURATION_UNIFORM = 3;
const EVENT_COMPLETION = 0;
const EVENT_ARRIVAL = 1;
const EVENT_RESUME = 2;
const STREAM_ARRIVALS = 1;
const STREAM_DURATIONS = 2;

function invalid(message: string): ThrottlescopeError {
  return new ThrottlescopeError('TS_PLAN_INVALID', message);
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
    case 'uniform':
      return (duration.minMs + duration.maxMs) / 2;
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

function validateArrivals(where: string, a: ArrivalModel | undefined): void {
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
}

export function validateFunctionModel(f: SimulatedFunction): void {
  const where = `function ${JSON.stringify(f.name)}`;
  if (typeof f.name !== 'string' || f.name.length === 0)
    throw invalid('every function needs a non-empty name');
  validateArrivals(where, f.arrivals);
  const d = f.duration;
  if (d?.kind === 'exponential') {
    if (!isPositiveFinite(d.meanMs)) throw invalid(`${where}: meanMs must be > 0, got ${d.meanMs}`);
  } else if (d?.kind === 'deterministic') {
    if (!isNonNegativeFinite(d.ms)) throw invalid(`${where}: ms must be >= 0, got ${d.ms}`);
  } else if (d?.kind === 'lognormal') {
    if (!isPositiveFinite(d.medianMs)) throw invalid(`${where}: medianMs must be > 0, got ${d.medianMs}`);
    if (!isNonNegativeFinite(d.sigma)) throw invalid(`${where}: sigma must be >= 0, got ${d.sigma}`);
  } else if (d?.kind === 'uniform') {
    if (!isNonNegativeFinite(d.minMs) || !isNonNegativeFinite(d.maxMs) || d.maxMs < d.minMs) {
      throw invalid(`${where}: uniform durations need 0 <= minMs <= maxMs, got ${d.minMs} and ${d.maxMs}`);
    }
  } else {
    throw invalid(`${where}: duration.kind must be 'exponential', 'deterministic', 'lognormal' or 'uniform'`);
  }
  if (f.queues === undefined) return;
  if (!Array.isArray(f.queues)) throw invalid(`${where}: queues must be a list`);
  const names = new Set<string>();
  for (const q of f.queues) {
    if (typeof q?.name !== 'string' || q.name.length === 0) {
      throw invalid(`${where}: every queue needs a non-empty name`);
    }
    const at = `${where}, queue ${JSON.stringify(q.name)}`;
    if (names.has(q.name)) throw invalid(`${at}: listed twice`);
    names.add(q.name);
    validateArrivals(at, q.arrivals);
    if (
      q.maxConcurrency !== undefined &&
      !(Number.isSafeInteger(q.maxConcurrency) && q.maxConcurrency >= 1)
    ) {
      throw invalid(`${at}: maxConcurrency must be an integer >= 1, got ${q.maxConcurrency}`);
    }
    if (
      q.backoff !== undefined &&
      !(
        isPositiveFinite(q.backoff.firstMs) &&
        isPositiveFinite(q.backoff.maxMs) &&
        q.backoff.maxMs >= q.backoff.firstMs
      )
    ) {
      throw invalid(`${at}: backoff needs 0 < firstMs <= maxMs`);
    }
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
 * was throttled and why. Each function's synchronous traffic and each of its queues is a
 * "source" with its own random stream; sources 0..n-1 are the functions' synchronous traffic.
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

  const sources: { fn: number; arrivals: ArrivalModel; stream: string; queue?: QueueSource }[] = [];
  input.functions.forEach((f, i) => {
    sources.push({ fn: i, arrivals: f.arrivals, stream: f.name });
  });
  input.functions.forEach((f, i) => {
    for (const q of f.queues ?? []) {
      sources.push({ fn: i, arrivals: q.arrivals, stream: `${f.name}\u0000queue\u0000${q.name}`, queue: q });
    }
  });
  const s = sources.length;

  // Per-source and per-function parameters flattened into typed arrays so the loop stays monomorphic.
  const sourceFn = new Int32Array(s);
  const constantIntervalMs = new Float64Array(s);
  const schedules: (Float64Array | undefined)[] = [];
  const arrivalRandom: Random[] = [];
  // Queue pollers' state (unused for synchronous sources).
  const isQueue = new Uint8Array(s);
  const backlog = new Float64Array(s);
  const queueInFlight = new Float64Array(s);
  const queueMax = new Float64Array(s);
  const pausedUntil = new Float64Array(s);
  const backoff = new Float64Array(s);
  const backoffFirst = new Float64Array(s);
  const backoffMax = new Float64Array(s);
  const resumeScheduled = new Uint8Array(s);
  const queueArrived = new Float64Array(n);
  for (let k = 0; k < s; k++) {
    const source = sources[k]!;
    sourceFn[k] = source.fn;
    const a = source.arrivals;
    if (a.kind === 'poisson') {
      constantIntervalMs[k] = a.ratePerSecond > 0 ? 1000 / a.ratePerSecond : Number.POSITIVE_INFINITY;
      schedules.push(undefined);
    } else {
      // Stored as arrivals per ms so the inner loop multiplies nothing.
      schedules.push(Float64Array.from(a.perMinute, (perMinute) => perMinute / MS_PER_MINUTE));
    }
    arrivalRandom.push(new Random(streamSeed(input.seed, source.stream, STREAM_ARRIVALS)));
    const q = source.queue;
    if (q) {
      isQueue[k] = 1;
      queueMax[k] = q.maxConcurrency ?? Number.POSITIVE_INFINITY;
      const b = q.backoff ?? DEFAULT_QUEUE_BACKOFF;
      backoffFirst[k] = b.firstMs;
      backoffMax[k] = b.maxMs;
      backoff[k] = b.firstMs;
    }
  }
  const durationKind = new Int32Array(n);
  const durationA = new Float64Array(n);
  const durationB = new Float64Array(n);
  const durationRandom: Random[] = [];
  for (let i = 0; i < n; i++) {
    const f = input.functions[i]!;
    const d = f.duration;
    if (d.kind === 'exponential') {
      durationKind[i] = DURATION_EXPONENTIAL;
      durationA[i] = d.meanMs;
    } else if (d.kind === 'deterministic') {
      durationKind[i] = DURATION_DETERMINISTIC;
      durationA[i] = d.ms;
    } else if (d.kind === 'lognormal') {
      durationKind[i] = DURATION_LOGNORMAL;
      durationA[i] = d.medianMs;
      durationB[i] = d.sigma;
    } else {
      durationKind[i] = DURATION_UNIFORM;
      durationA[i] = d.minMs;
      durationB[i] = d.maxMs - d.minMs;
    }
    durationRandom.push(new Random(streamSeed(input.seed, f.name, STREAM_DURATIONS)));
  }

  const nextArrival = (k: number, now: number): number => {
    const random = arrivalRandom[k]!;
    const schedule = schedules[k];
    if (schedule === undefined) return now + random.exponential(constantIntervalMs[k]!);
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
    if (kind === DURATION_LOGNORMAL) return durationRandom[i]!.lognormal(durationA[i]!, durationB[i]!);
    return durationA[i]! + durationB[i]! * durationRandom[i]!.nextOpenUnit();
  };

  const offered = new Float64Array(n);
  const throttledAccount = new Float64Array(n);
  const throttledReserved = new Float64Array(n);
  const throttledScaling = new Float64Array(n);
  const peak = new Int32Array(n);

  // Codes: source index * 4 plus the event type. In flight never exceeds the account limit, and
  // each source has at most one pending arrival and one pending poller resume.
  const heap = new EventHeap(input.accountLimit + 2 * s + 1);
  for (let k = 0; k < s; k++) {
    const first = nextArrival(k, 0);
    if (first < horizon) heap.push(first, (k << 2) | EVENT_ARRIVAL);
  }

  const countThrottle = (i: number, cause: string): void => {
    if (cause === 'account') throttledAccount[i]!++;
    else if (cause === 'reserved') throttledReserved[i]!++;
    else throttledScaling[i]!++;
  };

  /** The lab's QueuePoller.pump: start waiting messages until the cap, a throttle or an empty queue. */
  const pump = (k: number, now: number): void => {
    if (now < pausedUntil[k]!) return;
    const i = sourceFn[k]!;
    const counted = now >= warmup;
    while (backlog[k]! > 0 && queueInFlight[k]! < queueMax[k]!) {
      if (counted) offered[i]!++;
      const outcome = pool.tryAcquire(i, now);
      if (!outcome.ok) {
        if (counted) countThrottle(i, outcome.cause);
        const wait = backoff[k]!;
        pausedUntil[k] = now + wait;
        backoff[k] = Math.min(backoffMax[k]!, wait * 2);
        if (resumeScheduled[k] === 0 && now + wait < horizon) {
          resumeScheduled[k] = 1;
          heap.push(now + wait, (k << 2) | EVENT_RESUME);
        }
        return;
      }
      backoff[k] = backoffFirst[k]!;
      backlog[k]!--;
      queueInFlight[k]!++;
      heap.push(now + drawDuration(i), (k << 2) | EVENT_COMPLETION);
      if (counted) {
        const inFlight = pool.inFlightOf(i);
        if (inFlight > peak[i]!) peak[i] = inFlight;
      }
    }
  };

  const times = heap.times;
  const codes = heap.codes;
  let events = 0;
  while (heap.size > 0) {
    const now = times[0]!;
    if (now >= horizon) break;
    const code = codes[0]!;
    const k = code >> 2;
    const type = code & 3;
    const i = sourceFn[k]!;
    events++;
    if (type === EVENT_COMPLETION) {
      heap.pop();
      pool.release(i);
      if (isQueue[k] === 1) {
        queueInFlight[k]!--;
        pump(k, now);
      }
      continue;
    }
    if (type === EVENT_RESUME) {
      heap.pop();
      resumeScheduled[k] = 0;
      pump(k, now);
      continue;
    }
    const next = nextArrival(k, now);
    if (next < horizon) heap.replaceTop(next, code);
    else heap.pop();
    const counted = now >= warmup;
    if (isQueue[k] === 1) {
      if (counted) queueArrived[i]!++;
      backlog[k]!++;
      pump(k, now);
      continue;
    }
    if (counted) offered[i]!++;
    const outcome = pool.tryAcquire(i, now);
    if (outcome.ok) {
      heap.push(now + drawDuration(i), (k << 2) | EVENT_COMPLETION);
      if (counted) {
        const inFlight = pool.inFlightOf(i);
        if (inFlight > peak[i]!) peak[i] = inFlight;
      }
    } else if (counted) {
      countThrottle(i, outcome.cause);
    }
  }

  const queueBacklog = new Float64Array(n);
  for (let k = n; k < s; k++) queueBacklog[sourceFn[k]!]! += backlog[k]!;
  const functions: SimulatedFunctionResult[] = input.functions.map((f, i) => {
    const account = throttledAccount[i]!;
    const reserved = throttledReserved[i]!;
    const scaling = throttledScaling[i]!;
    const throttled = account + reserved + scaling;
    const arrivals = offered[i]!;
    const ci = wilsonInterval(throttled, arrivals);
    const result: SimulatedFunctionResult = {
      name: f.name,
      offered: arrivals,
      throttled,
      throttleFraction: arrivals === 0 ? 0 : throttled / arrivals,
      ci95: [ci.low, ci.high],
      byCause: { account, reserved, scaling },
      peakConcurrency: peak[i]!,
    };
    if (f.queues !== undefined && f.queues.length > 0) {
      result.queue = { arrived: queueArrived[i]!, backlog: queueBacklog[i]! };
    }
    return result;
  });
  return { functions, events, simulatedMs: horizon };
}
