import { UsageError } from './errors.js';

/** The one duration grammar (flags, scenario files): a number, then ms, s, m, h or d; none is s. */
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "10s", "5m", "1.5h", "2d", ".5s"; a bare number is seconds. Milliseconds, or undefined. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000) : undefined;
}

/** As durationMs, throwing a UsageError that names `what` when the text is not a duration. */
export function parseDuration(text: string, what = 'duration'): number {
  const ms = durationMs(text);
  if (ms === undefined) {
    throw new UsageError(`${what}: expected a duration like 30s, 5m, 2h or 250ms, got "${text}"`);
  }
  return ms;
}

/**
 * A point in time for --since/--until: ISO-8601 (UTC unless an offset is given), epoch seconds,
 * or relative to `now` as "-15m", "-2h", "now".
 */
export function parseTimeBound(text: string, what: string, now: number = Date.now()): number {
  const t = text.trim();
  if (t === 'now') return now;
  if (t.startsWith('-')) return now - parseDuration(t.slice(1), what);
  if (/^\d{9,11}(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  // A date-time without zone is taken as UTC, as AWS logs are.
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(t)
    ? `${t.length === 10 ? `${t}T00:00` : t}Z`
    : t;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${what}: expected an ISO-8601 time (2026-11-24T10:00Z), epoch seconds or -15m, got "${text}"`,
    );
  }
  return ms;
}

/** ISO-8601 UTC with millisecond precision. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** Start of the UTC minute containing `ms`. */
export function minuteStart(ms: number): number {
  return ms - (((ms % 60_000) + 60_000) % 60_000);
}
