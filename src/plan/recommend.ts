import { ExitCode, ThrottlescopeError } from '../common/errors.js';
import { erlangB, minServersFor, offeredLoad } from './erlang.js';
import {
  meanDurationMs,
  meanRatePerSecond,
  peakRatePerSecond,
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
}

const DEFAULT_TARGET_BLOCKING = 0.001;
const DEFAULT_SIMULATION_MS = 10 * 60_000;
const WARMUP_FRACTION = 0.05;

function invalid(message: string): ThrottlescopeError {
  return new ThrottlescopeError('TS_PLAN_INVALID', message, { exitCode: ExitCode.usage });
}

function formatPercent(p: number): string {
  return `${Number((p * 100).toPrecision(3))}%`;
}

/** Erlang load at the function's busiest minute: sizing for the peak keeps the target there too. */
function peakLoad(f: PlannedFunction): number {
  return offeredLoad(peakRatePerSecond(f.arrivals), meanDurationMs(f.duration));
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
  return offeredLoad(meanRatePerSecond(f.arrivals), meanDurationMs(f.duration));
}

function erlangApplies(
  input: PlanInput,
  f: PlannedFunction,
  reserved: number | undefined,
): reserved is number {
  if (reserved === undefined || f.arrivals.kind !== 'poisson') return false;
  return input.scaling === undefined || input.scaling.increment >= reserved;
}

function defaultSimulationMs(input: PlanInput): number {
  let longest = 0;
  for (const f of input.functions) {
    if (f.arrivals.kind === 'schedule') longest = Math.max(longest, f.arrivals.perMinute.length * 60_000);
  }
  return longest > 0 ? longest : DEFAULT_SIMULATION_MS;
}

function predict(
  input: PlanInput,
  reservations: readonly (number | undefined)[],
  durationMs: number,
  seed: number,
): { blocking: number[]; method: PredictionMethod[] } {
  const method: PredictionMethod[] = input.functions.map((f, i) =>
    erlangApplies(input, f, reservations[i]) ? 'erlang-b' : 'simulation',
  );
  let simulated: SimulationResult | undefined;
  if (method.includes('simulation')) {
    const simulation: SimulationInput = {
      accountLimit: input.accountLimit,
      unreservedMinimum: input.unreservedMinimum,
      scaling: input.scaling,
      durationMs,
      warmupMs: durationMs * WARMUP_FRACTION,
      seed,
      functions: input.functions.map((f, i) => ({
        name: f.name,
        reserved: reservations[i],
        arrivals: f.arrivals,
        duration: f.duration,
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
      { exitCode: ExitCode.usage },
    );
  }

  if (culpritIndex >= 0) {
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
        { exitCode: ExitCode.usage },
      );
    }
    recommended[culpritIndex] = cap;
    reasons[culpritIndex] =
      `culprit: cap at ${cap}, ${basis}, so it can no longer drain the shared pool` +
      (culprit.albFacing ? ' (the cap is also its guarantee)' : '');
  }

  const totalReserved = recommended.reduce<number>((sum, r) => sum + (r ?? 0), 0);
  const durationMs = options.simulationMs ?? defaultSimulationMs(input);
  const seed = options.seed ?? 1;
  const before = predict(input, current, durationMs, seed);
  const after = predict(input, recommended, durationMs, seed);

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
  return { functions, targetBlocking, totalReserved, reservable, warnings };
}
