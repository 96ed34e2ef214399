import { ThrottlescopeError } from '../common/errors.js';
import { erlangB, minServersFor, offeredLoad } from './erlang.js';
import {
  type ArrivalModel,
  meanDurationMs,
  meanRatePerSecond,
  peakRatePerSecond,
  type QueueSource,
  type SimulatedFunction,
  type SimulationInput,
  type SimulationResult,
  simulate,
  validateFunctionModel,
} from './simulate.js';

export interface PlannedFunction extends SimulatedFunction {
  /** Behind an ALB: a throttle is a 502 to a user, so it gets a guarantee. */
  albFacing?: boolean | undefined;
  /** Highest concurrency seen in the observation window, if known. */
  observedPeakConcurrency?: number | undefined;
}

export interface PlanInput {
  accountLimit: number;
  unreservedMinimum: number;
  scaling?: { increment: number; intervalMs: number } | undefined;
  functions: PlannedFunction[];
}

export interface RecommendOptions {
  /** Acceptable throttle probability at peak load; defaults to 0.001. */
  targetBlocking?: number | undefined;
  /** The function draining the shared pool; it gets a cap no lower than its own needs. */
  culprit?: string | undefined;
  /** Virtual time of each prediction run; defaults to the longest schedule, or 10 minutes. */
  simulationMs?: number | undefined;
  /** Seed of the prediction runs; defaults to 1. */
  seed?: number | undefined;
  /**
   * Budget of simulated events per prediction run when `simulationMs` is not given (default
   * 5,000,000). A history too long for it is predicted over its busiest contiguous stretch.
   */
  maxEventsPerRun?: number | undefined;
}

/** The stretch of the arrival schedules the predictions simulated, when not all of it. */
export interface PredictionWindow {
  /** First counted minute, from the start of the schedules. */
  startMinute: number;
  /** Minutes counted (warm-up before startMinute excluded). */
  minutes: number;
  /** Length of the schedules. */
  ofMinutes: number;
}

export type PredictionMethod = 'erlang-b' | 'simulation';

export interface FunctionRecommendation {
  name: string;
  current: number | undefined;
  recommended: number | undefined;
  predictedBlockingBefore: number;
  predictedBlockingAfter: number;
  methodBefore: PredictionMethod;
  methodAfter: PredictionMethod;
  reason: string;
}

export interface Recommendation {
  functions: FunctionRecommendation[];
  targetBlocking: number;
  /** Sum of reservations after the change. */
  totalReserved: number;
  /** accountLimit - unreservedMinimum: the most AWS lets an account reserve. */
  reservable: number;
  /** Notes a reader must see (e.g. an observed peak that had to be given up to fit). */
  warnings: string[];
  /** Set when the predictions cover only the busiest part of a long history. */
  predictionWindow?: PredictionWindow | undefined;
}

const DEFAULT_TARGET_BLOCKING = 0.001;
const DEFAULT_SIMULATION_MS = 10 * 60_000;
const WARMUP_FRACTION = 0.05;
const DEFAULT_MAX_EVENTS_PER_RUN = 5_000_000;
/** Shortest stretch the predictions simulate when a history must be cut to its busiest part. */
const MIN_WINDOW_MINUTES = 10;
/** Utilisation a queue consumer is sized for: at 100% its backlog would never drain. */
const QUEUE_UTILISATION = 0.9;

function invalid(message: string): ThrottlescopeError {
  return new ThrottlescopeError('TS_PLAN_INVALID', message);
}

function formatPercent(p: number): string {
  return `${Number((p * 100).toPrecision(3))}%`;
}

/**
 * Concurrency a queue keeps busy: its messages' load, but never more than the poller's cap (the
 * rest waits in the queue).
 */
function queueLoad(f: PlannedFunction, q: QueueSource, rate: (a: ArrivalModel) => number): number {
  return Math.min(
    q.maxConcurrency ?? Number.POSITIVE_INFINITY,
    offeredLoad(rate(q.arrivals), meanDurationMs(f.duration)),
  );
}

function load(f: PlannedFunction, rate: (a: ArrivalModel) => number): number {
  let erlangs = offeredLoad(rate(f.arrivals), meanDurationMs(f.duration));
  for (const q of f.queues ?? []) erlangs += queueLoad(f, q, rate);
  return erlangs;
}

/** Erlang load at the function's busiest minute: sizing for the peak keeps the target there too. */
function peakLoad(f: PlannedFunction): number {
  return load(f, peakRatePerSecond);
}

/**
 * Erlang B is exact for a reserved function (its slots are its own, and blocking does not depend
 * on the duration distribution beyond its mean) only under constant Poisson arrivals and when
 * the scaling rate can never be what stops it.
 */
/**
 * Average Erlang load. The culprit's cap is there to clip its surges, so it is sized for what it
 * needs on average; sizing it for its peak would reserve the very surge that starves the rest.
 */
function meanLoad(f: PlannedFunction): number {
  return load(f, meanRatePerSecond);
}

/** A function fed by a queue is not a loss system: a throttle delays a message, it is not lost. */
function hasQueues(f: PlannedFunction): boolean {
  return f.queues !== undefined && f.queues.length > 0;
}

function erlangApplies(
  input: PlanInput,
  f: PlannedFunction,
  reserved: number | undefined,
): reserved is number {
  if (reserved === undefined || f.arrivals.kind !== 'poisson' || hasQueues(f)) return false;
  return input.scaling === undefined || input.scaling.increment >= reserved;
}

function scheduleMinutes(a: ArrivalModel): number {
  return a.kind === 'schedule' ? a.perMinute.length : 0;
}

function longestScheduleMinutes(input: PlanInput): number {
  let longest = 0;
  for (const f of input.functions) {
    longest = Math.max(longest, scheduleMinutes(f.arrivals));
    for (const q of f.queues ?? []) longest = Math.max(longest, scheduleMinutes(q.arrivals));
  }
  return longest;
}

/** Expected arrivals in minute m (schedules repeat, as the simulator repeats them). */
function arrivalsInMinute(a: ArrivalModel, m: number): number {
  return a.kind === 'poisson' ? a.ratePerSecond * 60 : a.perMinute[m % a.perMinute.length]!;
}

function sliceArrivals(a: ArrivalModel, from: number, minutes: number): ArrivalModel {
  if (a.kind === 'poisson') return a;
  const perMinute = new Array<number>(minutes);
  for (let m = 0; m < minutes; m++) perMinute[m] = a.perMinute[(from + m) % a.perMinute.length]!;
  return { kind: 'schedule', perMinute };
}

interface PredictionSetup {
  input: PlanInput;
  durationMs: number;
  warmupMs: number;
  window?: PredictionWindow | undefined;
}

/**
 * What the prediction runs simulate: the whole schedule (or 10 minutes of constant rates), unless
 * that would take more than `maxEvents` events; then the contiguous stretch with the highest
 * offered load (in erlangs, all functions together), preceded by a few minutes of warm-up. The
 * busiest stretch is where throttling is worst, so the predictions are for the peak.
 */
function predictionSetup(input: PlanInput, options: RecommendOptions): PredictionSetup {
  if (options.simulationMs !== undefined) {
    return { input, durationMs: options.simulationMs, warmupMs: options.simulationMs * WARMUP_FRACTION };
  }
  const longest = longestScheduleMinutes(input);
  if (longest === 0) {
    return { input, durationMs: DEFAULT_SIMULATION_MS, warmupMs: DEFAULT_SIMULATION_MS * WARMUP_FRACTION };
  }
  const maxEvents = options.maxEventsPerRun ?? DEFAULT_MAX_EVENTS_PER_RUN;
  if (!(maxEvents > 0)) throw invalid(`the event budget must be > 0, got ${maxEvents}`);
  // Erlangs per minute across the account, and expected events (an arrival and a completion each).
  const erlangs = new Float64Array(longest);
  let events = 0;
  for (const f of input.functions) {
    const meanSec = meanDurationMs(f.duration) / 1000;
    for (let m = 0; m < longest; m++) {
      const direct = arrivalsInMinute(f.arrivals, m);
      let e = (direct / 60) * meanSec;
      events += 2 * direct;
      for (const q of f.queues ?? []) {
        const arrivals = arrivalsInMinute(q.arrivals, m);
        e += Math.min(q.maxConcurrency ?? Number.POSITIVE_INFINITY, (arrivals / 60) * meanSec);
        events += 2 * arrivals;
      }
      erlangs[m] = e;
    }
  }
  const full = longest * 60_000;
  if (events <= maxEvents) return { input, durationMs: full, warmupMs: full * WARMUP_FRACTION };
  const minutes = Math.min(longest, Math.max(MIN_WINDOW_MINUTES, Math.floor((longest * maxEvents) / events)));
  let best = 0;
  let bestSum = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let m = 0; m < longest; m++) {
    sum += erlangs[m]!;
    if (m >= minutes) sum -= erlangs[m - minutes]!;
    if (m >= minutes - 1 && sum > bestSum) {
      bestSum = sum;
      best = m - minutes + 1;
    }
  }
  const warmupMinutes = Math.min(best, Math.max(1, Math.ceil(minutes * WARMUP_FRACTION)));
  const from = best - warmupMinutes;
  const total = minutes + warmupMinutes;
  const sliced: PlanInput = {
    ...input,
    functions: input.functions.map((f) => ({
      ...f,
      arrivals: sliceArrivals(f.arrivals, from, total),
      queues: f.queues?.map((q) => ({ ...q, arrivals: sliceArrivals(q.arrivals, from, total) })),
    })),
  };
  const durationMs = total * 60_000;
  return {
    input: sliced,
    durationMs,
    warmupMs: warmupMinutes > 0 ? warmupMinutes * 60_000 : durationMs * WARMUP_FRACTION,
    window: { startMinute: best, minutes, ofMinutes: longest },
  };
}

function predict(
  setup: PredictionSetup,
  reservations: readonly (number | undefined)[],
  seed: number,
): { blocking: number[]; method: PredictionMethod[] } {
  const input = setup.input;
  const method: PredictionMethod[] = input.functions.map((f, i) =>
    erlangApplies(input, f, reservations[i]) ? 'erlang-b' : 'simulation',
  );
  let simulated: SimulationResult | undefined;
  if (method.includes('simulation')) {
    const simulation: SimulationInput = {
      accountLimit: input.accountLimit,
      unreservedMinimum: input.unreservedMinimum,
      scaling: input.scaling,
      durationMs: setup.durationMs,
      warmupMs: setup.warmupMs,
      seed,
      functions: input.functions.map((f, i) => ({
        name: f.name,
        reserved: reservations[i],
        arrivals: f.arrivals,
        duration: f.duration,
        queues: f.queues,
      })),
    };
    simulated = simulate(simulation);
  }
  const blocking = input.functions.map((f, i) => {
    const reserved = reservations[i];
    if (method[i] === 'erlang-b' && reserved !== undefined) return erlangB(peakLoad(f), reserved);
    return simulated!.functions[i]!.throttleFraction;
  });
  return { blocking, method };
}

function validatePlan(input: PlanInput, options: RecommendOptions, targetBlocking: number): void {
  if (!(targetBlocking > 0 && targetBlocking < 1)) {
    throw invalid(`target blocking must be a probability in (0, 1), got ${targetBlocking}`);
  }
  if (!Array.isArray(input.functions) || input.functions.length === 0) {
    throw invalid('the plan needs at least one function');
  }
  const names = new Set<string>();
  for (const f of input.functions) {
    validateFunctionModel(f);
    if (names.has(f.name)) throw invalid(`function ${JSON.stringify(f.name)} is listed twice`);
    names.add(f.name);
    const peak = f.observedPeakConcurrency;
    if (peak !== undefined && !(Number.isInteger(peak) && peak >= 0)) {
      throw invalid(`function ${JSON.stringify(f.name)}: observed peak concurrency must be an integer >= 0`);
    }
  }
  if (options.culprit !== undefined && !names.has(options.culprit)) {
    throw invalid(`culprit ${JSON.stringify(options.culprit)} is not one of the functions`);
  }
  const reservable = input.accountLimit - input.unreservedMinimum;
  if (!Number.isInteger(input.accountLimit) || input.accountLimit < 1 || !(reservable >= 0)) {
    throw invalid(
      `account limit must be a positive integer at least the unreserved minimum, got ${input.accountLimit} and ${input.unreservedMinimum}`,
    );
  }
}

/**
 * Chooses reserved concurrency: a guarantee sized by Erlang B for each ALB-facing function, a cap
 * for the culprit that still covers its own needs, everything else untouched. Fails with
 * TS_PLAN_INFEASIBLE when the guarantees alone exceed what the account may reserve.
 */
export function recommendReserved(input: PlanInput, options: RecommendOptions = {}): Recommendation {
  const targetBlocking = options.targetBlocking ?? DEFAULT_TARGET_BLOCKING;
  validatePlan(input, options, targetBlocking);
  const reservable = input.accountLimit - input.unreservedMinimum;
  const warnings: string[] = [];
  const current = input.functions.map((f) => f.reserved);
  const recommended = [...current];
  const reasons = input.functions.map(() => 'unchanged: neither ALB-facing nor the culprit');

  // Guarantees first: they are the point of the change, the culprit's cap is sized around them.
  input.functions.forEach((f, i) => {
    if (f.name === options.culprit || !f.albFacing) return;
    const load = peakLoad(f);
    const need = minServersFor(load, targetBlocking);
    // Zero reserved concurrency would disable the function outright.
    const servers = Math.max(1, need.servers);
    recommended[i] = servers;
    reasons[i] =
      `ALB-facing: reserve ${servers} so that ${load.toPrecision(3)} erlangs at peak are throttled ` +
      `at most ${formatPercent(targetBlocking)} of the time (Erlang B ${erlangB(load, servers).toPrecision(3)}), ` +
      'whatever its neighbours do';
  });

  const culpritIndex =
    options.culprit === undefined ? -1 : input.functions.findIndex((f) => f.name === options.culprit);
  let reservedWithoutCulprit = 0;
  recommended.forEach((r, i) => {
    if (i !== culpritIndex) reservedWithoutCulprit += r ?? 0;
  });
  if (reservedWithoutCulprit > reservable) {
    throw new ThrottlescopeError(
      'TS_PLAN_INFEASIBLE',
      `the guarantees need ${reservedWithoutCulprit} reserved concurrency but the account can reserve only ${reservable} ` +
        `(limit ${input.accountLimit} minus the unreserved minimum ${input.unreservedMinimum}); ` +
        `raise the account limit to at least ${reservedWithoutCulprit + input.unreservedMinimum} or relax the target`,
    );
  }

  if (culpritIndex >= 0 && hasQueues(input.functions[culpritIndex]!)) {
    const culprit = input.functions[culpritIndex]!;
    const sized = sizeQueueCulprit(
      input,
      culprit,
      culpritIndex,
      recommended,
      reservedWithoutCulprit,
      targetBlocking,
    );
    recommended[culpritIndex] = sized.cap;
    reasons[culpritIndex] = sized.reason;
    warnings.push(...sized.warnings);
  } else if (culpritIndex >= 0) {
    const culprit = input.functions[culpritIndex]!;
    const load = meanLoad(culprit);
    const modelled = Math.max(1, minServersFor(load, targetBlocking).servers);
    const observed = culprit.observedPeakConcurrency ?? 0;
    const room = reservable - reservedWithoutCulprit;
    let cap = Math.max(modelled, observed);
    let basis =
      observed > modelled
        ? `its observed peak of ${observed} (the model alone asks for ${modelled})`
        : `its own need of ${modelled} at ${formatPercent(targetBlocking)} blocking for its average ${load.toPrecision(3)} erlangs`;
    if (cap > room && modelled <= room) {
      // The observed peak includes the runaway behaviour we are capping; the model's need fits.
      warnings.push(
        `${culprit.name}: its observed peak ${observed} does not fit beside the guarantees (room ${room}); capped at its modelled need ${modelled}`,
      );
      cap = modelled;
      basis = `its own need of ${modelled} at ${formatPercent(targetBlocking)} blocking (the observed peak ${observed} does not fit)`;
    }
    if (cap > room) {
      throw new ThrottlescopeError(
        'TS_PLAN_INFEASIBLE',
        `${culprit.name} needs ${cap} concurrency but only ${room} is left to reserve after the guarantees; ` +
          `raise the account limit to at least ${reservedWithoutCulprit + cap + input.unreservedMinimum} or relax the target`,
      );
    }
    recommended[culpritIndex] = cap;
    reasons[culpritIndex] =
      `culprit: cap at ${cap}, ${basis}, so it can no longer drain the shared pool` +
      (culprit.albFacing ? ' (the cap is also its guarantee)' : '');
  }

  const totalReserved = recommended.reduce<number>((sum, r) => sum + (r ?? 0), 0);
  const seed = options.seed ?? 1;
  const setup = predictionSetup(input, options);
  const before = predict(setup, current, seed);
  const after = predict(setup, recommended, seed);
  if (setup.window) {
    warnings.push(
      `the history is too long to simulate in full: predictions cover its busiest ${setup.window.minutes} minutes ` +
        `(minute ${setup.window.startMinute} of ${setup.window.ofMinutes}), where throttling is worst`,
    );
  }

  const functions = input.functions.map((f, i) => ({
    name: f.name,
    current: current[i],
    recommended: recommended[i],
    predictedBlockingBefore: before.blocking[i]!,
    predictedBlockingAfter: after.blocking[i]!,
    methodBefore: before.method[i]!,
    methodAfter: after.method[i]!,
    reason: reasons[i]!,
  }));
  return {
    functions,
    targetBlocking,
    totalReserved,
    reservable,
    warnings,
    ...(setup.window ? { predictionWindow: setup.window } : {}),
  };
}

/**
 * A culprit fed by queues is capped at what it needs to keep up with its messages (its queues'
 * load at QUEUE_UTILISATION, never more than its pollers' caps) plus an Erlang B need for any
 * synchronous traffic. A queue absorbs throttles as delay, so when that does not fit beside the
 * guarantees the cap may go lower, down to what its synchronous callers need: it then drains its
 * queues more slowly, and the warning says by how much.
 */
function sizeQueueCulprit(
  input: PlanInput,
  culprit: PlannedFunction,
  culpritIndex: number,
  recommended: readonly (number | undefined)[],
  reservedWithoutCulprit: number,
  targetBlocking: number,
): { cap: number; reason: string; warnings: string[] } {
  const warnings: string[] = [];
  const meanMs = meanDurationMs(culprit.duration);
  const directLoad = offeredLoad(meanRatePerSecond(culprit.arrivals), meanMs);
  const directNeed = directLoad > 0 ? minServersFor(directLoad, targetBlocking).servers : 0;
  let queueNeed = 0;
  let messageRate = 0;
  const parts: string[] = [];
  for (const q of culprit.queues ?? []) {
    const rate = meanRatePerSecond(q.arrivals);
    messageRate += rate;
    const throughput = Math.ceil(offeredLoad(rate, meanMs) / QUEUE_UTILISATION);
    const poller = q.maxConcurrency ?? Number.POSITIVE_INFINITY;
    queueNeed += Math.min(poller, throughput);
    parts.push(
      throughput > poller
        ? `queue ${q.name}: ${poller}, its poller's maximum (keeping up with ${rate.toPrecision(3)} messages/s would take ${throughput})`
        : `queue ${q.name}: ${throughput}, to keep up with ${rate.toPrecision(3)} messages/s at ${formatPercent(QUEUE_UTILISATION)} utilisation`,
    );
  }
  if (directNeed > 0) parts.push(`synchronous callers: ${directNeed}`);
  const need = Math.max(1, directNeed + queueNeed);
  // Functions left in the shared pool still need room there, not just the unreserved minimum.
  let othersLoad = 0;
  input.functions.forEach((f, i) => {
    if (i !== culpritIndex && recommended[i] === undefined) othersLoad += meanLoad(f);
  });
  const othersNeed = othersLoad > 0 ? minServersFor(othersLoad, targetBlocking).servers : 0;
  const poolNeed = Math.max(input.unreservedMinimum, othersNeed);
  const reservable = input.accountLimit - input.unreservedMinimum;
  const room = Math.min(
    reservable - reservedWithoutCulprit,
    input.accountLimit - reservedWithoutCulprit - poolNeed,
  );
  const floor = Math.max(1, directNeed);
  if (floor > room) {
    throw new ThrottlescopeError(
      'TS_PLAN_INFEASIBLE',
      `${culprit.name} needs at least ${floor} concurrency but only ${Math.max(0, room)} is left after the guarantees ` +
        `and the shared pool's own need (${poolNeed}); raise the account limit to at least ` +
        `${input.accountLimit + floor - Math.max(0, room)} or relax the target`,
    );
  }
  const cap = Math.min(need, room);
  const esm =
    cap >= 2
      ? `. Setting its event source mapping's maximum concurrency to ${cap} instead would hold it there without throttles`
      : '';
  const reason =
    cap >= need
      ? `culprit fed by a queue: cap at ${cap}, its own need (${parts.join('; ')}), so it can no longer drain the shared pool${esm}`
      : `culprit fed by a queue: cap at ${cap}, all that is left beside the guarantees and the shared pool's need, ` +
        `below the ${need} it would use (${parts.join('; ')}); its messages wait longer instead${esm}`;
  if (cap < need) {
    warnings.push(
      `${culprit.name}: capped at ${cap}, below the ${need} its pollers would use; raise the account limit by ${need - cap} to give it that`,
    );
  }
  const drain = Math.max(0, cap - directLoad) / (meanMs / 1000);
  if (messageRate > 0 && drain < messageRate) {
    warnings.push(
      `${culprit.name}: at ${cap} concurrency it completes about ${drain.toPrecision(3)} messages/s (${(meanMs / 1000).toPrecision(3)} s each) ` +
        `but ${messageRate.toPrecision(3)}/s arrive: its queue backlog grows by about ${(messageRate - drain).toPrecision(3)} messages/s; ` +
        `keeping up would take about ${Math.ceil((messageRate * meanMs) / 1000 + directLoad)} concurrency`,
    );
  }
  return { cap, reason, warnings };
}
