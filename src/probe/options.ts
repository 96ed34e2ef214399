/**
 * Probe options: the one place where defaults live and where every value is checked. Library
 * callers pass a `ProbeOptionsInput`; `parseProbeOptions` returns the resolved `ProbeOptions` or
 * throws one UsageError listing every problem, each naming its flag and what was expected.
 */
import { z } from 'zod';
import { UsageError } from '../common/errors.js';
import { parseDuration } from '../common/time.js';

/** Requests per second per URL when neither a rate nor a concurrency is given: gentle on production. */
export const DEFAULT_RATE = 1;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_HAR_BODY_MAX_BYTES = 64 * 1024;
export const DEFAULT_OPEN_CONNECTIONS = 100;
/** Open model: requests in flight per URL beyond which a due send is dropped (and counted). */
export const DEFAULT_MAX_IN_FLIGHT = 10_000;
export const DEFAULT_PROGRESS_INTERVAL_MS = 1_000;
/** After Ctrl-C or the end of the duration, how long in-flight requests may still finish. */
export const DEFAULT_GRACE_MS = 2_000;

export type Arrivals = 'constant' | 'poisson';
/**
 * What callers may write: `uniform` is the scenario files' name (src/lab/scenario.ts) for the
 * same evenly spaced arrivals, so both vocabularies work; the run records `constant`.
 */
export type ArrivalsInput = Arrivals | 'uniform';

/** An inclusive range of HTTP status codes counted as success. */
export interface StatusRange {
  min: number;
  max: number;
}

export type LoadModel =
  | { kind: 'open'; rate: number; arrivals: Arrivals; seed: number; connections: number; maxInFlight: number }
  | { kind: 'closed'; concurrency: number };

/** Resolved, checked options. */
export interface ProbeOptions {
  urls: string[];
  model: LoadModel;
  /** True when the gentle default rate was chosen because neither rate nor concurrency was given. */
  defaultedRate: boolean;
  /** Requests per URL; undefined = not bounded by count. */
  count: number | undefined;
  /** Wall time bound in ms; undefined = not bounded by time. */
  durationMs: number | undefined;
  /** Explicitly unbounded: runs until the signal aborts. */
  forever: boolean;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  keepAlive: boolean;
  keepAliveTimeoutMs: number;
  expect: StatusRange[];
  /** Query parameter name that carries the trace root, e.g. "tsprobe" → ?tsprobe=1-...; undefined = none. */
  traceQuery: string | undefined;
  outDir: string | undefined;
  redact: boolean;
  harBodyMaxBytes: number;
  progressIntervalMs: number;
  graceMs: number;
  insecure: boolean;
}

/** What a library caller may pass. Durations are milliseconds. */
export interface ProbeOptionsInput {
  urls: string[];
  rate?: number | undefined;
  concurrency?: number | undefined;
  arrivals?: ArrivalsInput | undefined;
  seed?: number | undefined;
  connections?: number | undefined;
  maxInFlight?: number | undefined;
  count?: number | undefined;
  durationMs?: number | undefined;
  forever?: boolean | undefined;
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  timeoutMs?: number | undefined;
  keepAlive?: boolean | undefined;
  keepAliveTimeoutMs?: number | undefined;
  expect?: StatusRange[] | string | undefined;
  traceQuery?: string | undefined;
  outDir?: string | undefined;
  redact?: boolean | undefined;
  harBodyMaxBytes?: number | undefined;
  progressIntervalMs?: number | undefined;
  graceMs?: number | undefined;
  insecure?: boolean | undefined;
}

/** Option name → the CLI flag users know it by (messages name the flag). */
export const FLAG_OF: Record<keyof ProbeOptionsInput, string> = {
  urls: '<url>',
  rate: '--rate',
  concurrency: '--concurrency',
  arrivals: '--arrivals',
  seed: '--seed',
  connections: '--connections',
  maxInFlight: '--max-in-flight',
  count: '--count',
  durationMs: '--duration',
  forever: '--forever',
  method: '--method',
  headers: '--header',
  body: '--body',
  timeoutMs: '--timeout',
  keepAlive: '--no-keepalive',
  keepAliveTimeoutMs: '--keepalive-timeout',
  expect: '--expect',
  traceQuery: '--trace-query',
  outDir: '--out',
  redact: '--no-redact',
  harBodyMaxBytes: '--har-body-max',
  progressIntervalMs: '--interval',
  graceMs: '--grace',
  insecure: '--insecure',
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const positiveInt = (what: string) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .positive({ error: `expected ${what}` });

const schema = z.object({
  urls: z.array(z.string()).min(1, { error: 'expected at least one http:// or https:// URL' }),
  rate: z
    .number({ error: 'expected requests per second > 0 (e.g. 5, 0.2/s, 30/m)' })
    .positive({ error: 'expected requests per second > 0 (e.g. 5, 0.2/s, 30/m)' })
    .max(1_000_000, { error: 'expected at most 1000000 requests per second' })
    .optional(),
  concurrency: positiveInt('an integer >= 1').max(10_000, { error: 'expected at most 10000' }).optional(),
  arrivals: z
    .enum(['constant', 'uniform', 'poisson'], { error: 'expected "constant" (or "uniform") or "poisson"' })
    .default('constant')
    .transform((a): Arrivals => (a === 'uniform' ? 'constant' : a)),
  seed: z.number({ error: 'expected an integer' }).int({ error: 'expected an integer' }).optional(),
  connections: positiveInt('an integer >= 1').optional(),
  maxInFlight: positiveInt('an integer >= 1').default(DEFAULT_MAX_IN_FLIGHT),
  count: positiveInt('an integer >= 1').optional(),
  durationMs: z
    .number({ error: 'expected a duration > 0' })
    .positive({ error: 'expected a duration > 0' })
    .optional(),
  forever: z.boolean().default(false),
  method: z
    .string()
    .regex(TOKEN, { error: 'expected an HTTP method such as GET, HEAD or POST' })
    .transform((m) => m.toUpperCase())
    .default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  timeoutMs: z
    .number({ error: 'expected a duration > 0' })
    .positive({ error: 'expected a duration > 0' })
    .default(DEFAULT_TIMEOUT_MS),
  keepAlive: z.boolean().default(true),
  keepAliveTimeoutMs: z
    .number({ error: 'expected a duration > 0' })
    .positive({ error: 'expected a duration > 0' })
    .default(4_000),
  expect: z.union([z.string(), z.array(z.object({ min: z.number(), max: z.number() }))]).optional(),
  traceQuery: z
    .string()
    .regex(/^[A-Za-z0-9_.~-]+$/, { error: 'expected a query parameter name (letters, digits, _ . ~ -)' })
    .optional(),
  outDir: z.string().min(1, { error: 'expected a directory' }).optional(),
  redact: z.boolean().default(true),
  harBodyMaxBytes: z
    .number({ error: 'expected bytes >= 0' })
    .int({ error: 'expected bytes >= 0' })
    .min(0, { error: 'expected bytes >= 0' })
    .default(DEFAULT_HAR_BODY_MAX_BYTES),
  progressIntervalMs: z
    .number({ error: 'expected a duration >= 50ms' })
    .min(50, { error: 'expected a duration >= 50ms' })
    .default(DEFAULT_PROGRESS_INTERVAL_MS),
  graceMs: z
    .number({ error: 'expected a duration >= 0' })
    .min(0, { error: 'expected a duration >= 0' })
    .default(DEFAULT_GRACE_MS),
  insecure: z.boolean().default(false),
});

/** Checks and resolves options; throws one UsageError naming every bad flag. */
export function parseProbeOptions(input: ProbeOptionsInput): ProbeOptions {
  const problems: string[] = [];
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] as keyof ProbeOptionsInput | undefined;
      const flag = key ? (FLAG_OF[key] ?? String(key)) : 'options';
      problems.push(`${flag}: ${issue.message}`);
    }
    throw new UsageError(problems.join('; '));
  }
  const o = parsed.data;

  const urls: string[] = [];
  for (const raw of o.urls) {
    const problem = checkUrl(raw);
    if (problem) problems.push(problem);
    else urls.push(new URL(raw).href);
  }
  if (o.rate !== undefined && o.concurrency !== undefined) {
    problems.push(
      '--rate and --concurrency: choose one (--rate R is the open model; cap its sockets with --connections N)',
    );
  }
  if (o.concurrency !== undefined && input.arrivals !== undefined) {
    problems.push('--arrivals: only applies with --rate (the open model)');
  }
  if (o.count === undefined && o.durationMs === undefined && !o.forever) {
    problems.push(
      '--count, --duration or --forever: expected at least one bound (e.g. --count 100 or --duration 5m)',
    );
  }
  if (o.forever && (o.count !== undefined || o.durationMs !== undefined)) {
    problems.push('--forever: cannot be combined with --count or --duration');
  }
  if (o.body !== undefined && (o.method === 'GET' || o.method === 'HEAD') && input.method !== undefined) {
    problems.push(`--body: a ${o.method} request cannot carry a body (use --method POST)`);
  }
  for (const name of Object.keys(o.headers)) {
    if (!TOKEN.test(name)) problems.push(`--header: "${name}" is not a valid header name`);
    if (/[\r\n]/.test(o.headers[name] ?? ''))
      problems.push(`--header: the value of "${name}" contains a newline`);
  }
  let expect: StatusRange[] = [{ min: 200, max: 399 }];
  if (typeof o.expect === 'string') {
    try {
      expect = parseExpect(o.expect);
    } catch (error) {
      problems.push((error as Error).message);
    }
  } else if (Array.isArray(o.expect)) {
    if (o.expect.length === 0 || o.expect.some((r) => !(r.min >= 100 && r.max <= 599 && r.min <= r.max))) {
      problems.push('--expect: expected status ranges within 100-599');
    } else expect = o.expect;
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));

  const defaultedRate = o.rate === undefined && o.concurrency === undefined;
  const model: LoadModel =
    o.concurrency !== undefined
      ? { kind: 'closed', concurrency: o.concurrency }
      : {
          kind: 'open',
          rate: o.rate ?? DEFAULT_RATE,
          arrivals: o.arrivals,
          seed: o.seed ?? (Date.now() % 2 ** 31) >>> 0,
          connections: o.connections ?? DEFAULT_OPEN_CONNECTIONS,
          maxInFlight: o.maxInFlight,
        };
  return {
    urls,
    model,
    defaultedRate,
    count: o.count,
    durationMs: o.durationMs,
    forever: o.forever,
    method: o.method,
    headers: o.headers,
    body: o.body,
    timeoutMs: o.timeoutMs,
    keepAlive: o.keepAlive,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs,
    expect,
    traceQuery: o.traceQuery,
    outDir: o.outDir,
    redact: o.redact,
    harBodyMaxBytes: o.harBodyMaxBytes,
    progressIntervalMs: o.progressIntervalMs,
    graceMs: o.graceMs,
    insecure: o.insecure,
  };
}

/** Undefined when the URL may be probed; otherwise the one-line reason. */
export function checkUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `<url>: expected an http:// or https:// URL, got "${raw}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `<url>: only http:// and https:// URLs can be probed, got "${url.protocol}" in "${raw}"`;
  }
  if (url.username || url.password) {
    return `<url>: credentials in the URL are not supported (use --header "Authorization: ...")`;
  }
  return undefined;
}

/**
 * "--rate" text: "5", "0.2", "0.2/s", "30/m", "100/h" → requests per second.
 */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(?:\/\s*(s|sec|m|min|h|hour))?\s*$/i.exec(text);
  const per: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, hour: 3600 };
  const value = m ? Number(m[1]) / (per[(m[2] ?? 's').toLowerCase()] ?? 1) : Number.NaN;
  if (!m || !(value > 0)) {
    throw new UsageError(`--rate: expected requests per second > 0 such as 5, 0.2/s or 30/m, got "${text}"`);
  }
  return value;
}

/** "--expect" text: "2xx,3xx", "200-299", "200,204,301" → status ranges. */
export function parseExpect(text: string): StatusRange[] {
  const ranges: StatusRange[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const cls = /^([1-5])xx$/i.exec(part);
    const range = /^(\d{3})-(\d{3})$/.exec(part);
    const one = /^(\d{3})$/.exec(part);
    if (cls) {
      const base = Number(cls[1]) * 100;
      ranges.push({ min: base, max: base + 99 });
    } else if (range) {
      ranges.push({ min: Number(range[1]), max: Number(range[2]) });
    } else if (one) {
      ranges.push({ min: Number(one[1]), max: Number(one[1]) });
    } else {
      throw new UsageError(`--expect: expected statuses like 2xx,3xx or 200-299 or 200,204, got "${text}"`);
    }
  }
  if (ranges.some((r) => r.min < 100 || r.max > 599 || r.min > r.max)) {
    throw new UsageError(`--expect: expected statuses within 100-599, got "${text}"`);
  }
  return ranges;
}

/** "--header" text: "Name: value". */
export function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i > 0 ? text.slice(0, i).trim() : '';
  if (!name || !TOKEN.test(name)) {
    throw new UsageError(`--header: expected "Name: value", got "${text}"`);
  }
  return [name, text.slice(i + 1).trim()];
}

/** "--duration"/"--timeout" style text through the shared parser, naming the flag. */
export function parseDurationFlag(flag: string, text: string): number {
  const ms = parseDuration(text, flag);
  if (!(ms > 0))
    throw new UsageError(`${flag}: expected a duration > 0 like 30s, 5m or 250ms, got "${text}"`);
  return ms;
}

export function isExpected(status: number, expect: readonly StatusRange[]): boolean {
  for (const r of expect) if (status >= r.min && status <= r.max) return true;
  return false;
}
