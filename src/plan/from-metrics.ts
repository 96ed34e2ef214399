/**
 * CloudWatch history (the `metrics --json` document, or anything shaped like it) as the planner's
 * model: one per-minute arrival schedule per function from Invocations + Throttles (what was
 * offered, accepted or not), and the mean duration from Duration Average weighted by invocations.
 * `plan recommend --metrics` and `fix` both build their PlanInput here.
 */
import { LambdaLimits, scaledUnreservedMinimum } from '../common/concurrency/aws-limits.js';
import { ThrottlescopeError } from '../common/errors.js';
import type { PlanInput, PlannedFunction } from './recommend.js';

/** A CloudWatch series: ascending bucket starts (epoch ms), buckets without data absent. */
export interface HistorySeries {
  timestampsMs: number[];
  values: number[];
}

/** What the conversion reads of one function (FunctionMetrics and MetricsEvidence both fit). */
export interface FunctionHistory {
  name: string;
  /** Reserved concurrency; null or undefined = none. */
  reserved?: number | null | undefined;
  series: {
    /** Invocations, Sum. */
    invocations: HistorySeries;
    /** Throttles, Sum. */
    throttles: HistorySeries;
    /** ConcurrentExecutions, Maximum (used only when Duration is missing). */
    concurrentExecutions: HistorySeries;
    /** Duration, Average (ms). */
    durationAvg?: HistorySeries | undefined;
  };
}

export interface HistoryWindow {
  startMs: number;
  endMs: number;
  periodSec: number;
}

/** What the conversion reads of a report (MetricsReport and MetricsEvidence both fit). */
export interface MetricsHistory {
  window: HistoryWindow;
  account: { limit: number };
  functions: FunctionHistory[];
}

export interface MetricsPlanOptions {
  /** Functions behind an ALB: they get a throttle-probability guarantee. */
  albFacing?: readonly string[] | undefined;
  /** Override the unreserved minimum (default: AWS's 100, or a tenth of a smaller limit). */
  unreservedMinimum?: number | undefined;
  /** Keep functions without traffic or reservation (default: left out, they change nothing). */
  includeIdle?: boolean | undefined;
}

export interface MetricsPlan {
  input: PlanInput;
  /** Minutes the schedules cover (the window). */
  minutes: number;
  /** Epoch ms of schedule minute 0. */
  startMs: number;
  /** Functions left out because they neither ran nor hold a reservation. */
  idle: string[];
  notes: string[];
}

const MS_PER_MINUTE = 60_000;
/** Mean duration assumed for a function that never ran in the window. */
const FALLBACK_DURATION_MS = 100;

/** AWS keeps 100 unreserved; a scaled-down lab account keeps the same tenth. */
export function unreservedMinimumFor(limit: number): number {
  return limit >= LambdaLimits.defaultAccountConcurrency
    ? LambdaLimits.defaultUnreservedMinimum
    : scaledUnreservedMinimum(limit);
}

function sumOf(s: HistorySeries | undefined): number {
  let total = 0;
  for (const v of s?.values ?? []) total += v;
  return total;
}

/**
 * Dense per-minute values of a sparse series over the window: a period longer than a minute is
 * spread evenly over its minutes, periods shorter than a minute add up into theirs.
 */
function perMinuteOf(
  series: HistorySeries | undefined,
  startMs: number,
  minutes: number,
  periodSec: number,
): Float64Array {
  const out = new Float64Array(minutes);
  if (!series) return out;
  const periodMs = periodSec * 1000;
  const span = Math.max(1, periodMs / MS_PER_MINUTE);
  for (let k = 0; k < series.timestampsMs.length; k++) {
    const value = series.values[k] ?? 0;
    const first = Math.floor((series.timestampsMs[k]! - startMs) / MS_PER_MINUTE);
    if (periodMs >= MS_PER_MINUTE) {
      for (let m = first; m < first + span; m++) if (m >= 0 && m < minutes) out[m]! += value / span;
    } else if (first >= 0 && first < minutes) {
      out[first]! += value;
    }
  }
  return out;
}

/** The minutes a window covers, stretched to hold every datapoint of the given functions. */
function windowMinutes(
  window: HistoryWindow,
  functions: readonly FunctionHistory[],
): { startMs: number; minutes: number } {
  let start = window.startMs;
  let end = window.endMs;
  for (const f of functions) {
    for (const s of [f.series.invocations, f.series.throttles]) {
      const first = s.timestampsMs[0];
      const last = s.timestampsMs[s.timestampsMs.length - 1];
      if (first !== undefined && first < start) start = first;
      if (last !== undefined && last + window.periodSec * 1000 > end) end = last + window.periodSec * 1000;
    }
  }
  const startMs = Math.floor(start / MS_PER_MINUTE) * MS_PER_MINUTE;
  return { startMs, minutes: Math.max(1, Math.ceil((end - startMs) / MS_PER_MINUTE)) };
}

/** Invocation-weighted mean of Duration Average; Little's law on concurrency when it is missing. */
function meanDurationOf(f: FunctionHistory, periodSec: number): number {
  const invocations = sumOf(f.series.invocations);
  const byTime = new Map<number, number>();
  const inv = f.series.invocations;
  for (let k = 0; k < inv.timestampsMs.length; k++) byTime.set(inv.timestampsMs[k]!, inv.values[k] ?? 0);
  let weighted = 0;
  let weight = 0;
  const d = f.series.durationAvg;
  for (let k = 0; k < (d?.timestampsMs.length ?? 0); k++) {
    const w = byTime.get(d!.timestampsMs[k]!) ?? 0;
    weighted += (d!.values[k] ?? 0) * w;
    weight += w;
  }
  if (weighted > 0 && weight > 0) return weighted / weight;
  if (invocations > 0) return (sumOf(f.series.concurrentExecutions) * periodSec * 1000) / invocations;
  return FALLBACK_DURATION_MS;
}

/**
 * One function's observed load as the planner's model: a per-minute schedule of what was offered
 * (Invocations + Throttles) over the window, and exponential durations with the observed mean
 * (Erlang B, and so the sizing, depends on the mean alone).
 */
export function plannedFromMetrics(
  f: FunctionHistory,
  window: HistoryWindow,
  albFacing: boolean,
): PlannedFunction {
  const span = windowMinutes(window, [f]);
  return plannedOver(f, window.periodSec, span.startMs, span.minutes, albFacing);
}

function plannedOver(
  f: FunctionHistory,
  periodSec: number,
  startMs: number,
  minutes: number,
  albFacing: boolean,
): PlannedFunction {
  const invocations = perMinuteOf(f.series.invocations, startMs, minutes, periodSec);
  const throttles = perMinuteOf(f.series.throttles, startMs, minutes, periodSec);
  const perMinute = Array.from(invocations, (v, m) => v + throttles[m]!);
  return {
    name: f.name,
    reserved: f.reserved ?? undefined,
    arrivals: { kind: 'schedule', perMinute },
    duration: { kind: 'exponential', meanMs: Math.max(1, meanDurationOf(f, periodSec)) },
    albFacing,
  };
}

/** A whole account's history as the planner's input, every schedule on the same minutes. */
export function planFromMetrics(report: MetricsHistory, options: MetricsPlanOptions = {}): MetricsPlan {
  const limit = report.account.limit;
  if (!(Number.isInteger(limit) && limit >= 1)) {
    throw new ThrottlescopeError(
      'TS_PLAN_INVALID',
      `the account limit must be a positive integer, got ${limit}`,
    );
  }
  const albFacing = new Set(options.albFacing ?? []);
  const names = new Set(report.functions.map((f) => f.name));
  const unknown = [...albFacing].filter((n) => !names.has(n));
  const notes: string[] = [];
  if (unknown.length > 0) notes.push(`ALB-facing ${unknown.join(', ')}: no metrics in the window, left out`);
  const idle: string[] = [];
  const kept = report.functions.filter((f) => {
    const active =
      options.includeIdle === true ||
      f.reserved != null ||
      albFacing.has(f.name) ||
      sumOf(f.series.invocations) + sumOf(f.series.throttles) > 0;
    if (!active) idle.push(f.name);
    return active;
  });
  const { startMs, minutes } = windowMinutes(report.window, kept);
  const functions = kept.map((f) =>
    plannedOver(f, report.window.periodSec, startMs, minutes, albFacing.has(f.name)),
  );
  for (const f of kept) {
    if (!f.series.durationAvg || f.series.durationAvg.values.length === 0) {
      notes.push(
        sumOf(f.series.invocations) > 0
          ? `${f.name}: no Duration datapoints; mean duration estimated from ConcurrentExecutions by Little's law (an overestimate)`
          : `${f.name}: never ran in the window; assumed ${FALLBACK_DURATION_MS} ms per invocation`,
      );
    }
  }
  return {
    input: {
      accountLimit: limit,
      unreservedMinimum: options.unreservedMinimum ?? unreservedMinimumFor(limit),
      functions,
    },
    minutes,
    startMs,
    idle,
    notes,
  };
}
