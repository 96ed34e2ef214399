import { ThrottlescopeError } from '../common/errors.js';

function invalid(message: string): ThrottlescopeError {
  return new ThrottlescopeError('TS_PLAN_INVALID', message);
}

function assertLoad(load: number): void {
  if (typeof load !== 'number' || !Number.isFinite(load) || load < 0) {
    throw invalid(`offered load must be a finite number >= 0 erlangs, got ${String(load)}`);
  }
}

function assertServers(servers: number): void {
  if (typeof servers !== 'number' || !Number.isSafeInteger(servers) || servers < 0) {
    throw invalid(`servers must be a non-negative integer, got ${String(servers)}`);
  }
}

/**
 * Erlang B blocking probability for `load` erlangs offered to `servers` servers.
 * The recurrence keeps every intermediate value in [0, 1], so it neither
 * overflows (unlike A^c / c!) nor loses precision for loads up to 1e5.
 */
export function erlangB(load: number, servers: number): number {
  assertLoad(load);
  assertServers(servers);
  if (load === 0) return servers === 0 ? 1 : 0;
  let blocking = 1;
  for (let k = 1; k <= servers; k++) {
    const numerator = load * blocking;
    blocking = numerator / (k + numerator);
  }
  return blocking;
}

/** Smallest server count whose Erlang B blocking is at or below `targetBlocking`. */
export function minServersFor(load: number, targetBlocking: number): { servers: number; blocking: number } {
  assertLoad(load);
  if (
    typeof targetBlocking !== 'number' ||
    !Number.isFinite(targetBlocking) ||
    targetBlocking <= 0 ||
    targetBlocking > 1
  ) {
    throw invalid(`target blocking must be in (0, 1], got ${String(targetBlocking)}`);
  }
  if (load === 0) return { servers: 0, blocking: 1 };
  let blocking = 1;
  let servers = 0;
  // Blocking decreases strictly in c and reaches any positive target within
  // roughly load + a few sqrt(load) steps, so this loop terminates quickly.
  while (blocking > targetBlocking) {
    servers += 1;
    const numerator = load * blocking;
    blocking = numerator / (servers + numerator);
  }
  return { servers, blocking };
}

/** Little's law: mean concurrency (erlangs) from arrival rate and mean duration. */
export function offeredLoad(ratePerSecond: number, meanDurationMs: number): number {
  if (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond < 0) {
    throw invalid(`arrival rate must be a finite number >= 0 per second, got ${String(ratePerSecond)}`);
  }
  if (typeof meanDurationMs !== 'number' || !Number.isFinite(meanDurationMs) || meanDurationMs < 0) {
    throw invalid(`mean duration must be a finite number >= 0 ms, got ${String(meanDurationMs)}`);
  }
  return (ratePerSecond * meanDurationMs) / 1000;
}

export interface ErlangAnswer {
  /** Set when the question was the concurrency for a target; else the given concurrency. */
  concurrency?: number;
  blocking: number;
  /** Offered load in erlangs. */
  load: number;
}

/**
 * Erlang B either way round: the blocking probability at `concurrency`, or the smallest
 * concurrency that keeps it at or below `target` (default 0.001). The load is `load` erlangs, or
 * `rate` requests/s x `durationMs` by Little's law.
 */
export function solveErlang(q: {
  load?: number | undefined;
  rate?: number | undefined;
  durationMs?: number | undefined;
  concurrency?: number | undefined;
  target?: number | undefined;
}): ErlangAnswer {
  const load = q.load ?? offeredLoad(q.rate ?? 0, q.durationMs ?? 0);
  if (q.concurrency !== undefined) return { blocking: erlangB(load, q.concurrency), load };
  const r = minServersFor(load, q.target ?? 0.001);
  return { concurrency: r.servers, blocking: r.blocking, load };
}
