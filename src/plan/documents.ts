/**
 * The planner's answers as documents (the `plan simulate` and `plan recommend` --json shapes,
 * docs/plan.md): a scenario simulated with what-if reservations, and reserved-concurrency
 * recommendations from a scenario or from CloudWatch history. Option errors name options
 * (`reserve`, `albFacing`, `culprit`), never CLI flags.
 */
import type { AwsConnection } from '../common/aws.js';
import { InvalidOptionError } from '../common/errors.js';
import { wilsonInterval } from '../common/stats.js';
import type { Scenario } from '../lab/scenario.js';
import type { MetricsProgress } from '../metrics/collect.js';
import { offeredLoad } from './erlang.js';
import { planFromMetrics } from './from-metrics.js';
import { planFromScenario, type ScenarioPlan, simulationFromPlan } from './from-scenario.js';
import {
  type PlanInput,
  type PlannedFunction,
  type PredictionMethod,
  type Recommendation,
  recommendReserved,
} from './recommend.js';
import { type DurationModel, meanDurationMs, meanRatePerSecond, simulate } from './simulate.js';

// ---------------------------------------------------------------------------------------------
// simulate

export interface SimulationDocumentFunction {
  name: string;
  albFacing: boolean;
  reserved: number | null;
  offered: number;
  throttled: number;
  throttleFraction: number;
  ci95: [number, number];
  byCause: { account: number; reserved: number; scaling: number };
  peakConcurrency: number;
  queue: { arrived: number; backlog: number } | null;
}

export interface SimulationDocument {
  scenario: string;
  minutes: number;
  seed: number;
  events: number;
  functions: SimulationDocumentFunction[];
  /** All ALB-facing functions together: the share of ALB requests answered 502 by throttling. */
  alb: { offered: number; throttled: number; throttleFraction: number; ci95: [number, number] } | null;
  notes: string[];
}

export interface ScenarioModelOptions {
  /** Lab minutes to model (default 10, or to the last rate step). */
  minutes?: number | undefined;
  /** Mean duration of each function that runs a handler module. */
  handlerDurations?: Readonly<Record<string, DurationModel>> | undefined;
}

export interface SimulateScenarioOptions extends ScenarioModelOptions {
  /** Random seed (default 1): the same seed gives the same result. */
  seed?: number | undefined;
  /** What-if: a function's reserved concurrency set (a number) or removed (null). */
  reserve?: Readonly<Record<string, number | null>> | undefined;
}

function wilson(x: number, n: number): [number, number] {
  const ci = wilsonInterval(x, n);
  return [ci.low, ci.high];
}

function functionNamed(option: string, input: PlanInput, name: string): PlannedFunction {
  const f = input.functions.find((g) => g.name === name);
  if (!f) {
    throw new InvalidOptionError(
      option,
      `expects one of the functions (${input.functions.map((g) => g.name).join(', ')}), got "${name}"`,
    );
  }
  return f;
}

/** Sets (number) or removes (null) reservations; the total must fit what the account may reserve. */
export function applyReservations(plan: ScenarioPlan, reserve: SimulateScenarioOptions['reserve']): void {
  for (const [name, value] of Object.entries(reserve ?? {})) {
    const f = functionNamed('reserve', plan.input, name);
    if (value !== null && !(Number.isInteger(value) && value >= 0)) {
      throw new InvalidOptionError('reserve', `expects an integer >= 0 for ${name}, got ${value}`);
    }
    f.reserved = value ?? undefined;
  }
  const total = plan.input.functions.reduce((s, f) => s + (f.reserved ?? 0), 0);
  const reservable = plan.input.accountLimit - plan.input.unreservedMinimum;
  if (total > reservable) {
    throw new InvalidOptionError(
      'reserve',
      `expects reservations totalling at most ${reservable} (limit ${plan.input.accountLimit} - unreserved minimum ${plan.input.unreservedMinimum}), got ${total}`,
    );
  }
}

/** Simulates a scenario's account on a virtual clock, with what-if reservations applied. */
export function simulateScenario(
  scenario: Scenario,
  options: SimulateScenarioOptions = {},
): SimulationDocument {
  const plan = planFromScenario(scenario, {
    minutes: options.minutes,
    handlerDurations: options.handlerDurations,
  });
  applyReservations(plan, options.reserve);
  const seed = options.seed ?? 1;
  const result = simulate(simulationFromPlan(plan, { seed }));
  const functions = result.functions.map((r, i): SimulationDocumentFunction => {
    const f = plan.input.functions[i] as PlannedFunction;
    return {
      name: r.name,
      albFacing: f.albFacing === true,
      reserved: f.reserved ?? null,
      offered: r.offered,
      throttled: r.throttled,
      throttleFraction: r.throttleFraction,
      ci95: r.ci95,
      byCause: r.byCause,
      peakConcurrency: r.peakConcurrency,
      queue: r.queue ?? null,
    };
  });
  const alb = functions.filter((f) => f.albFacing);
  const offered = alb.reduce((s, f) => s + f.offered, 0);
  const throttled = alb.reduce((s, f) => s + f.throttled, 0);
  return {
    scenario: scenario.name,
    minutes: plan.minutes,
    seed,
    events: result.events,
    functions,
    alb:
      alb.length === 0
        ? null
        : {
            offered,
            throttled,
            throttleFraction: offered === 0 ? 0 : throttled / offered,
            ci95: wilson(throttled, offered),
          },
    notes: plan.notes,
  };
}

// ---------------------------------------------------------------------------------------------
// recommend

export interface PredictionDocument {
  throttleFraction: number;
  method: PredictionMethod;
}

export interface RecommendationDocumentFunction {
  name: string;
  albFacing: boolean;
  /** Fed by a queue: its throttles delay messages rather than fail requests. */
  queued: boolean;
  /** Reserved concurrency now; null = none (shared pool). */
  current: number | null;
  recommended: number | null;
  changed: boolean;
  before: PredictionDocument;
  after: PredictionDocument;
  reason: string;
}

export interface RecommendationDocument {
  source:
    | { kind: 'scenario'; name: string; minutes: number }
    | { kind: 'metrics'; region: string; startMs: number; endMs: number; periodSec: number };
  targetBlocking: number;
  accountLimit: number;
  unreservedMinimum: number;
  reservable: number;
  totalReserved: number;
  culprit: { name: string; chosenBy: 'flag' | 'metrics ranking' | 'scenario load' } | null;
  functions: RecommendationDocumentFunction[];
  changes: { function: string; before: number | null; after: number | null }[];
  /** When the predictions cover only the busiest stretch of a long history. */
  predictionWindow: {
    startMs: number | null;
    startMinute: number;
    minutes: number;
    ofMinutes: number;
  } | null;
  warnings: string[];
  notes: string[];
}

export interface RecommendOptionsBase {
  /** Acceptable throttle probability of the ALB-facing functions (default 0.001). */
  targetBlocking?: number | undefined;
  /** The function draining the shared pool (default: the scenario's or the ranking's). */
  culprit?: string | undefined;
  /** The functions behind an ALB (default: the scenario's target groups / the throttled ones). */
  albFacing?: readonly string[] | undefined;
  seed?: number | undefined;
}

/** The scenario's busiest unreserved function not behind the ALB, if it can fill the shared pool. */
export function scenarioCulprit(input: PlanInput): string | undefined {
  const pool = input.accountLimit - input.functions.reduce((s, f) => s + (f.reserved ?? 0), 0);
  let best: { name: string; load: number } | undefined;
  for (const f of input.functions) {
    if (f.albFacing || f.reserved !== undefined) continue;
    const ms = meanDurationMs(f.duration);
    let load = offeredLoad(meanRatePerSecond(f.arrivals), ms);
    for (const q of f.queues ?? []) {
      load += Math.min(
        q.maxConcurrency ?? Number.POSITIVE_INFINITY,
        offeredLoad(meanRatePerSecond(q.arrivals), ms),
      );
    }
    if (!best || load > best.load) best = { name: f.name, load };
  }
  return best && best.load >= pool / 2 ? best.name : undefined;
}

function recommendationDocument(
  rec: Recommendation,
  input: PlanInput,
  extra: Pick<RecommendationDocument, 'source' | 'culprit' | 'notes'> & { startMs?: number | undefined },
): RecommendationDocument {
  const functions = rec.functions.map(
    (f, i): RecommendationDocumentFunction => ({
      name: f.name,
      albFacing: input.functions[i]?.albFacing === true,
      queued: (input.functions[i]?.queues?.length ?? 0) > 0,
      current: f.current ?? null,
      recommended: f.recommended ?? null,
      changed: (f.current ?? null) !== (f.recommended ?? null),
      before: { throttleFraction: f.predictedBlockingBefore, method: f.methodBefore },
      after: { throttleFraction: f.predictedBlockingAfter, method: f.methodAfter },
      reason: f.reason,
    }),
  );
  const w = rec.predictionWindow;
  return {
    source: extra.source,
    targetBlocking: rec.targetBlocking,
    accountLimit: input.accountLimit,
    unreservedMinimum: input.unreservedMinimum,
    reservable: rec.reservable,
    totalReserved: rec.totalReserved,
    culprit: extra.culprit,
    functions,
    changes: functions
      .filter((f) => f.changed)
      .map((f) => ({ function: f.name, before: f.current, after: f.recommended })),
    predictionWindow: w
      ? {
          startMs: extra.startMs === undefined ? null : extra.startMs + w.startMinute * 60_000,
          startMinute: w.startMinute,
          minutes: w.minutes,
          ofMinutes: w.ofMinutes,
        }
      : null,
    warnings: rec.warnings,
    notes: extra.notes,
  };
}

/** Reserved concurrency for a scenario's account. */
export function recommendFromScenario(
  scenario: Scenario,
  options: RecommendOptionsBase & ScenarioModelOptions = {},
): RecommendationDocument {
  const plan = planFromScenario(scenario, {
    minutes: options.minutes,
    handlerDurations: options.handlerDurations,
  });
  const albFacing = options.albFacing;
  if (albFacing) {
    for (const name of albFacing) functionNamed('albFacing', plan.input, name);
    for (const f of plan.input.functions) f.albFacing = albFacing.includes(f.name);
  }
  let culprit: RecommendationDocument['culprit'] = null;
  if (options.culprit !== undefined) {
    functionNamed('culprit', plan.input, options.culprit);
    culprit = { name: options.culprit, chosenBy: 'flag' };
  } else {
    const name = scenarioCulprit(plan.input);
    if (name) culprit = { name, chosenBy: 'scenario load' };
  }
  const rec = recommendReserved(plan.input, {
    targetBlocking: options.targetBlocking ?? 0.001,
    culprit: culprit?.name,
    seed: options.seed,
    simulationMs: plan.minutes * 60_000,
  });
  return recommendationDocument(rec, plan.input, {
    source: { kind: 'scenario', name: scenario.name, minutes: plan.minutes },
    culprit,
    notes: plan.notes,
  });
}

export interface RecommendFromMetricsOptions extends RecommendOptionsBase, AwsConnection {
  startMs: number;
  endMs: number;
  /** The environment the AWS SDK's default chain reads (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  signal?: AbortSignal | undefined;
  nowMs?: number | undefined;
  /** CloudWatch queries done so far, after each GetMetricData call. */
  onProgress?: ((p: MetricsProgress) => void) | undefined;
}

/** Reserved concurrency from an account's CloudWatch history (one-minute periods). */
export async function recommendFromMetrics(
  options: RecommendFromMetricsOptions,
): Promise<RecommendationDocument> {
  // Loaded here so that Erlang B and simulations do not pay for the AWS SDK.
  const { collectMetricsWithConnection } = await import('../metrics/collect.js');
  const report = await collectMetricsWithConnection({
    startMs: options.startMs,
    endMs: options.endMs,
    periodSec: 60,
    region: options.region,
    profile: options.profile,
    endpointUrl: options.endpointUrl,
    env: options.env,
    signal: options.signal,
    nowMs: options.nowMs,
    onProgress: options.onProgress,
  });
  const notes: string[] = [];
  let albFacing = options.albFacing;
  if (!albFacing) {
    albFacing = report.ranking.victims;
    notes.push(
      albFacing.length > 0
        ? `ALB-facing functions taken to be the throttled ones (${albFacing.join(', ')}); name the ALB-facing functions to change this`
        : 'no function was throttled and no ALB-facing functions were named: nothing gets a guarantee',
    );
  }
  const plan = planFromMetrics(report, { albFacing });
  notes.push(...plan.notes, ...report.warnings.map((w) => `metrics: ${w}`));
  if (plan.input.functions.length === 0) {
    throw new InvalidOptionError('window', 'expects a window in which some function ran; none did');
  }
  let culprit: RecommendationDocument['culprit'] = null;
  if (options.culprit !== undefined) {
    functionNamed('culprit', plan.input, options.culprit);
    culprit = { name: options.culprit, chosenBy: 'flag' };
  } else if (report.ranking.culprit && plan.input.functions.some((f) => f.name === report.ranking.culprit)) {
    culprit = { name: report.ranking.culprit, chosenBy: 'metrics ranking' };
  }
  if (culprit) {
    // The culprit's guarantee would be its cap; it is capped, not guaranteed.
    for (const f of plan.input.functions)
      if (f.name === culprit.name) f.albFacing = albFacing.includes(f.name);
  }
  const rec = recommendReserved(plan.input, {
    targetBlocking: options.targetBlocking ?? 0.001,
    culprit: culprit?.name,
    seed: options.seed,
  });
  return recommendationDocument(rec, plan.input, {
    source: { kind: 'metrics', region: report.region, ...report.window },
    culprit,
    notes,
    startMs: plan.startMs,
  });
}
