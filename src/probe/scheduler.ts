/**
 * When requests should be sent. The open model fixes every intended send time in advance, from the
 * rate alone (constant spacing or Poisson arrivals from a seeded generator), so a slow server
 * cannot slow the schedule down: latency is then measured from the intended time and a stall shows
 * up in full (no coordinated omission). Pure except for `waitUntil`, which sleeps.
 */
import { seededRandom } from '../common/random.js';
import type { Arrivals } from './options.js';

/**
 * Intended send offsets (ms from the start) of an open-model stream: offset(k) for k = 0, 1, 2, …
 * Constant: k × 1000 / rate, computed from k (no accumulated drift). Poisson: cumulative
 * exponential gaps of mean 1000 / rate.
 */
export class ArrivalSchedule {
  private k = 0;
  private t = 0;
  private readonly intervalMs: number;
  private readonly random: () => number;

  constructor(
    readonly rate: number,
    readonly arrivals: Arrivals,
    seed: number,
  ) {
    this.intervalMs = 1000 / rate;
    this.random = seededRandom(seed);
  }

  /** The next intended offset in ms (the first is 0). */
  next(): number {
    const k = this.k++;
    if (this.arrivals === 'constant') return k * this.intervalMs;
    if (k === 0) return 0;
    // Exponential gap; 1 - u is in (0, 1], so the log is finite.
    this.t += -Math.log(1 - this.random()) * this.intervalMs;
    return this.t;
  }

  /** How many sends are intended strictly before `offsetMs` (constant arrivals only; for planning). */
  static countBefore(rate: number, offsetMs: number): number {
    return Math.max(0, Math.ceil((offsetMs * rate) / 1000));
  }
}

/** First n offsets of a schedule (for tests and planning). */
export function intendedOffsets(rate: number, arrivals: Arrivals, seed: number, n: number): number[] {
  const s = new ArrivalSchedule(rate, arrivals, seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(s.next());
  return out;
}

/** How close to a send time the scheduler stops sleeping and polls (CPU for precision). */
const SPIN_MS = 2;

/**
 * Resolves at `targetPerf` (a performance.now() value) or when the signal aborts. Sleeps with a
 * timer while far away, then yields with setImmediate for sub-millisecond precision.
 */
export function waitUntil(targetPerf: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const tick = () => {
      timer = undefined;
      immediate = undefined;
      const left = targetPerf - performance.now();
      if (left <= 0) return done();
      // Timers have 1 ms granularity: sleep until ~SPIN_MS before, then poll each loop turn.
      if (left > SPIN_MS) timer = setTimeout(tick, Math.max(1, left - SPIN_MS));
      else immediate = setImmediate(tick);
    };
    signal.addEventListener('abort', done, { once: true });
    tick();
  });
}
