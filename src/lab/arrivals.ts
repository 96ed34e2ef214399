import type { Clock } from '../common/clock.js';
import type { RateSpec } from './scenario.js';

/** Piecewise-constant rate (per lab second) at `t` lab ms after the start. */
export function rateAt(spec: RateSpec, t: number): number {
  if (typeof spec === 'number') return spec;
  let r = 0;
  for (const step of spec) {
    if (step.at <= t) r = step.perSecond;
    else break;
  }
  return r;
}

/** The next step change after `t` (lab ms), or Infinity. */
function nextChange(spec: RateSpec, t: number): number {
  if (typeof spec === 'number') return Number.POSITIVE_INFINITY;
  for (const step of spec) if (step.at > t) return step.at;
  return Number.POSITIVE_INFINITY;
}

export interface ArrivalOptions {
  rate: RateSpec;
  arrivals: 'uniform' | 'poisson';
  clock: Clock;
  timeScale: number;
  /** Lab ms at which the scenario started (rate steps are relative to it). */
  origin: number;
  onArrival: () => void;
  random?: () => number;
}

/**
 * Drives `onArrival` at a rate that can change over time: evenly spaced or as a Poisson process.
 * Each timer wake-up emits every arrival that is due, so high rates cost few timers.
 */
export class ArrivalProcess {
  private timer: NodeJS.Timeout | undefined;
  private next: number;
  private stopped = false;
  count = 0;
  private readonly random: () => number;

  constructor(private readonly o: ArrivalOptions) {
    this.random = o.random ?? (() => 1 - Math.random());
    this.next = this.after(o.origin);
    this.schedule();
  }

  /** The next arrival strictly after lab time `from`. */
  private after(from: number): number {
    let t = from;
    for (let guard = 0; guard < 10_000; guard++) {
      const rel = t - this.o.origin;
      const r = rateAt(this.o.rate, rel);
      const change = this.o.origin + nextChange(this.o.rate, rel);
      if (r <= 0) {
        if (!Number.isFinite(change)) return Number.POSITIVE_INFINITY;
        t = change;
        continue;
      }
      const gap = this.o.arrivals === 'poisson' ? (-Math.log(this.random()) * 1000) / r : 1000 / r;
      // A rate change before the arrival restarts the draw there (memoryless for Poisson).
      if (t + gap > change) {
        t = change;
        continue;
      }
      return t + gap;
    }
    return Number.POSITIVE_INFINITY;
  }

  private schedule(): void {
    if (this.stopped || !Number.isFinite(this.next)) return;
    const wait = Math.max(0, (this.next - this.o.clock.now()) / this.o.timeScale);
    this.timer = setTimeout(() => this.fire(), Math.min(wait, 2 ** 31 - 1));
  }

  private fire(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    let emitted = 0;
    while (this.next <= now && emitted < 100_000) {
      this.count++;
      emitted++;
      this.o.onArrival();
      if (this.stopped) return;
      this.next = this.after(this.next);
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
