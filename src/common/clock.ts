/**
 * Time as the models see it. The lab runs on the wall clock (optionally compressed by a time
 * scale); the planner's simulator runs on a virtual clock it advances itself.
 */
export interface Clock {
  /** Milliseconds on this clock's time line. */
  now(): number;
}

export const wallClock: Clock = { now: () => Date.now() };

/** Wall clock that runs `scale` times faster than real time from `origin` (scenario time). */
export function scaledClock(scale: number, origin = Date.now()): Clock {
  const start = performance.now();
  return { now: () => origin + (performance.now() - start) * scale };
}

export class VirtualClock implements Clock {
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advanceTo(t: number): void {
    if (t < this.t) throw new Error(`VirtualClock cannot go back from ${this.t} to ${t}`);
    this.t = t;
  }
}
