/**
 * A lab scenario (src/lab/scenario.ts) as the planner's model, so `plan simulate` and
 * `plan recommend` predict what `lab run` would measure. Everything stays in lab time: rates per
 * lab second, durations in lab milliseconds, exactly as the scenario states them.
 *
 * How each part of a scenario maps (and where the model is an approximation):
 * - `traffic` sources are routed through the load balancer's listener rules (the lab's Router)
 *   to their target group's function, as Poisson arrivals at the source's rate; a rate given as
 *   steps becomes a per-minute schedule. `arrivals: uniform` traffic is modelled as Poisson too,
 *   which is burstier and so slightly pessimistic.
 * - `background` sources of kind `queue` become the function's QueueSource: a backlog drained by
 *   a poller that keeps at most `maxConcurrency` invocations in flight and backs off after a
 *   throttle, as the lab's QueuePoller does. Failed messages are not redelivered in the model.
 * - `background` sources of kind `async` are modelled as direct invocations at their rate: the
 *   lab's async event queue retries a throttled event later, which the model leaves out, so it
 *   underestimates the pressure of an async source that is being throttled.
 * - durations come from the synthetic distributions (fixed, uniform, exponential, lognormal with
 *   sigma = ln(p99 / median) / z0.99, as the lab samples them); they are not cut at the function
 *   timeout as the lab cuts them, which only matters when the tail reaches the timeout. Functions
 *   that run a handler module need their mean duration given (`handlerDurations`).
 * - the account's limit, unreserved minimum, reservations and scaling rate are the scenario's.
 */
import { LambdaLimits } from '../common/concurrency/aws-limits.js';
import { InvalidOptionError, ThrottlescopeError } from '../common/errors.js';
import { Router } from '../lab/alb/rules.js';
import { PollerBackoff } from '../lab/background.js';
import type { Distribution, RateSpec, Scenario } from '../lab/scenario.js';
import type { PlanInput, PlannedFunction } from './recommend.js';
import {
  type ArrivalModel,
  type DurationModel,
  meanRatePerSecond,
  type SimulationInput,
} from './simulate.js';

/** z such that P(Z <= z) = 0.99 for a standard normal (as src/lab/lambda/distribution.ts). */
const Z99 = 2.3263478740408408;
const MS_PER_MINUTE = 60_000;
/** Horizon when neither the caller nor the scenario's rate steps say how long to look. */
export const DEFAULT_SCENARIO_MINUTES = 10;

export interface ScenarioPlanOptions {
  /**
   * Minutes of lab time the model covers: rate steps become per-minute schedules this long (at
   * least long enough to reach the last step). Default: 10, or up to the last step.
   */
  minutes?: number | undefined;
  /** Duration model of each function that runs a handler module (the model cannot know it). */
  handlerDurations?: Readonly<Record<string, DurationModel>> | undefined;
}

/** Where one traffic source's requests go. */
export interface ScenarioRoute {
  /** The traffic source's name, or `METHOD path` when it has none. */
  source: string;
  targetGroup: string;
  /** Listener rule priority; 0 for the default rule. */
  priority: number;
  function: string;
  /** Mean requests per lab second over the modelled minutes. */
  ratePerSecond: number;
}

export interface ScenarioPlan {
  /** The planner's input: albFacing marks the functions behind the load balancer. */
  input: PlanInput;
  albFacing: string[];
  routes: ScenarioRoute[];
  /** Minutes of lab time the schedules cover. */
  minutes: number;
  /** The approximations this scenario needed, one sentence each. */
  notes: string[];
}

function invalid(message: string): ThrottlescopeError {
  return new ThrottlescopeError('TS_PLAN_INVALID', message);
}

/** The simulator's model of a scenario duration distribution (lab milliseconds). */
export function durationFromDistribution(d: Distribution): DurationModel {
  switch (d.kind) {
    case 'fixed':
      return { kind: 'deterministic', ms: d.value };
    case 'uniform':
      return { kind: 'uniform', minMs: d.min, maxMs: d.max };
    case 'exponential':
      return { kind: 'exponential', meanMs: d.mean };
    case 'lognormal':
      return {
        kind: 'lognormal',
        medianMs: d.median,
        sigma: d.p99 > d.median ? Math.log(d.p99 / d.median) / Z99 : 0,
      };
  }
}

function lastStepMs(rate: RateSpec): number {
  return typeof rate === 'number' ? 0 : (rate[rate.length - 1]?.at ?? 0);
}

/**
 * Expected arrivals in each minute of a rate given as steps (per lab second, each step holding
 * until the next; the last one holds for ever, as in the lab).
 */
export function rateSchedule(rate: RateSpec, minutes: number): number[] {
  const perMinute = new Array<number>(minutes).fill(0);
  if (typeof rate === 'number') return perMinute.fill(rate * 60);
  for (let s = 0; s < rate.length; s++) {
    const step = rate[s]!;
    const end = Math.min(rate[s + 1]?.at ?? Number.POSITIVE_INFINITY, minutes * MS_PER_MINUTE);
    let t = step.at;
    while (t < end) {
      const minute = Math.floor(t / MS_PER_MINUTE);
      const until = Math.min(end, (minute + 1) * MS_PER_MINUTE);
      perMinute[minute]! += (step.perSecond * (until - t)) / 1000;
      t = until;
    }
  }
  return perMinute;
}

function arrivalModel(rate: RateSpec, minutes: number): ArrivalModel {
  return typeof rate === 'number'
    ? { kind: 'poisson', ratePerSecond: rate }
    : { kind: 'schedule', perMinute: rateSchedule(rate, minutes) };
}

/** Superposition of Poisson processes: rates (or per-minute schedules) add. */
function addArrivals(a: ArrivalModel, b: ArrivalModel, minutes: number): ArrivalModel {
  if (a.kind === 'poisson' && b.kind === 'poisson') {
    return { kind: 'poisson', ratePerSecond: a.ratePerSecond + b.ratePerSecond };
  }
  const perMinute = new Array<number>(minutes);
  for (let m = 0; m < minutes; m++) {
    const x = a.kind === 'poisson' ? a.ratePerSecond * 60 : (a.perMinute[m % a.perMinute.length] ?? 0);
    const y = b.kind === 'poisson' ? b.ratePerSecond * 60 : (b.perMinute[m % b.perMinute.length] ?? 0);
    perMinute[m] = x + y;
  }
  return { kind: 'schedule', perMinute };
}

function scenarioMinutes(scenario: Scenario, requested: number | undefined): number {
  if (requested !== undefined) {
    if (!(Number.isInteger(requested) && requested >= 1)) {
      throw invalid(`the modelled minutes must be an integer >= 1, got ${requested}`);
    }
  }
  let lastStep = 0;
  for (const t of scenario.traffic) lastStep = Math.max(lastStep, lastStepMs(t.rate));
  for (const b of scenario.background) lastStep = Math.max(lastStep, lastStepMs(b.rate));
  const reachLastStep = lastStep > 0 ? Math.floor(lastStep / MS_PER_MINUTE) + 1 : 0;
  return Math.max(requested ?? DEFAULT_SCENARIO_MINUTES, reachLastStep);
}

/** The scenario's scaling rule, as the lab builds it (src/lab/index.ts). */
function scenarioScaling(scenario: Scenario): PlanInput['scaling'] {
  const rate = scenario.account.scalingRate;
  if (rate === false) return undefined;
  if (rate === true) {
    return { increment: LambdaLimits.scalingIncrement, intervalMs: LambdaLimits.scalingIntervalMs };
  }
  return { increment: rate.increment, intervalMs: rate.interval };
}

/** The planner's model of a scenario: functions, arrivals, albFacing, the account's limits. */
export function planFromScenario(scenario: Scenario, options: ScenarioPlanOptions = {}): ScenarioPlan {
  const minutes = scenarioMinutes(scenario, options.minutes);
  const notes: string[] = [];
  const lb = scenario.loadBalancer;
  const functionOfGroup = new Map(lb.targetGroups.map((tg) => [tg.name, tg.function]));
  const albFacing = new Set(lb.targetGroups.map((tg) => tg.function));

  const functions = new Map<string, PlannedFunction>();
  for (const f of scenario.functions) {
    let duration: DurationModel;
    if (f.synthetic) duration = durationFromDistribution(f.synthetic.duration);
    else {
      const given = options.handlerDurations?.[f.name];
      if (!given) {
        throw invalid(
          `function ${JSON.stringify(f.name)} runs a handler module, whose duration the planner cannot know: ` +
            `give it (CLI: --handler-duration ${f.name}=250ms)`,
        );
      }
      duration = given;
      notes.push(`${f.name}: runs a handler module; modelled with the given mean duration`);
    }
    functions.set(f.name, {
      name: f.name,
      reserved: f.reservedConcurrency,
      arrivals: { kind: 'poisson', ratePerSecond: 0 },
      duration,
      albFacing: albFacing.has(f.name),
    });
  }
  for (const name of Object.keys(options.handlerDurations ?? {})) {
    if (!functions.has(name))
      throw new InvalidOptionError(
        'handlerDurations',
        `expects functions of the scenario, got ${JSON.stringify(name)}, which is not one`,
      );
  }

  const router = new Router(lb.rules, lb.defaultTargetGroup);
  const routes: ScenarioRoute[] = [];
  let uniformTraffic = false;
  for (const t of scenario.traffic) {
    // The lab's clients send no Host header of their own unless the source sets one.
    const routed = router.route(t.method, t.path, t.host ?? '127.0.0.1');
    const name = functionOfGroup.get(routed.targetGroup)!;
    const f = functions.get(name)!;
    const arrivals = arrivalModel(t.rate, minutes);
    f.arrivals = addArrivals(f.arrivals, arrivals, minutes);
    if (t.arrivals === 'uniform') uniformTraffic = true;
    routes.push({
      source: t.name ?? `${t.method} ${t.path}`,
      targetGroup: routed.targetGroup,
      priority: routed.priority,
      function: name,
      ratePerSecond: meanRatePerSecond(
        arrivals.kind === 'poisson'
          ? arrivals
          : { kind: 'schedule', perMinute: rateSchedule(t.rate, minutes) },
      ),
    });
  }
  if (uniformTraffic)
    notes.push('traffic with evenly spaced arrivals is modelled as Poisson (slightly pessimistic)');

  for (const b of scenario.background) {
    const f = functions.get(b.function)!;
    const arrivals = arrivalModel(b.rate, minutes);
    if (b.kind === 'queue') {
      f.queues = [
        ...(f.queues ?? []),
        {
          name: b.name,
          arrivals,
          maxConcurrency: b.maxConcurrency,
          backoff: { firstMs: PollerBackoff.firstMs, maxMs: PollerBackoff.maxMs },
        },
      ];
    } else {
      f.arrivals = addArrivals(f.arrivals, arrivals, minutes);
      notes.push(
        `${b.function}: async source ${b.name} is modelled as direct invocations; the retries of throttled events are left out`,
      );
    }
  }

  return {
    input: {
      accountLimit: scenario.account.concurrencyLimit,
      unreservedMinimum: scenario.account.unreservedMinimum,
      scaling: scenarioScaling(scenario),
      functions: [...functions.values()],
    },
    albFacing: scenario.functions.filter((f) => albFacing.has(f.name)).map((f) => f.name),
    routes,
    minutes,
    notes,
  };
}

/** The simulator's input for a scenario plan: `minutes` of lab time with a 5% warm-up. */
export function simulationFromPlan(
  plan: ScenarioPlan,
  options: { seed?: number | undefined; minutes?: number | undefined } = {},
): SimulationInput {
  const minutes = options.minutes ?? plan.minutes;
  const durationMs = minutes * MS_PER_MINUTE;
  return {
    accountLimit: plan.input.accountLimit,
    unreservedMinimum: plan.input.unreservedMinimum,
    scaling: plan.input.scaling,
    durationMs,
    warmupMs: durationMs * 0.05,
    seed: options.seed ?? 1,
    functions: plan.input.functions.map((f) => ({
      name: f.name,
      reserved: f.reserved,
      arrivals: f.arrivals,
      duration: f.duration,
      queues: f.queues,
    })),
  };
}
