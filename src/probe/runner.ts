/**
 * Runs a probe: one stream per URL, side by side, in the open model (intended send times fixed by
 * the rate; latency measured from them) or a closed loop (C workers, each sending as soon as its
 * previous response is back). Always bounded: by count per URL, by duration, or (explicitly,
 * `forever`) by the abort signal. Every completed request becomes a record (summary, JSONL, and a
 * HAR entry when it failed). The library never prints or exits: progress goes to `onProgress`.
 */
import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { SlotSet } from '../common/slot-set.js';
import { isoUtc } from '../common/time.js';
import { newTraceRoot, TRACE_HEADER } from '../common/trace-id.js';
import { classifyOrigin, classifyTransportError, cloudFrontTrace, normaliseHeaders } from './classify.js';
import { createClient, createPool, Exchange, type PoolSettings } from './client.js';
import { harEntry } from './har.js';
import {
  isExpected,
  type LoadModel,
  type ProbeOptions,
  type ProbeOptionsInput,
  parseProbeOptions,
  type StatusRange,
} from './options.js';
import { type ProbeRecord, roundMs } from './record.js';
import { FILES, type OutputError, Recorder } from './recorder.js';
import { redactHeaders, redactUrl } from './redact.js';
import { ArrivalSchedule, waitUntil } from './scheduler.js';
import { type ProbeSummary, SummaryBuilder } from './summary.js';

export type StopReason = 'count' | 'duration' | 'signal' | 'output-error';

export interface UrlProgress {
  url: string;
  total: number;
  succeeded: number;
  failed: number;
  byStatus: Record<string, number>;
  byError: Record<string, number>;
  p50: number | null;
  p99: number | null;
  currentStreak: number;
  /** Completions per second over the last interval. */
  rate: number;
  inFlight: number;
  dropped: number;
}

export interface ProbeProgress {
  elapsedMs: number;
  urls: UrlProgress[];
}

export interface ProbeHooks {
  /** Stops the run (Ctrl-C): in-flight requests get `graceMs` to finish, then the summary is built. */
  signal?: AbortSignal;
  onProgress?: (progress: ProbeProgress) => void;
  onRecord?: (record: ProbeRecord) => void;
}

/** What was run and how it ended (run.json; the `run` key of --json). */
export interface RunInfo {
  tool: 'throttlescope probe';
  version: 1;
  startedAt: string;
  endedAt: string | null;
  elapsedMs: number | null;
  stoppedBy: StopReason | null;
  urls: string[];
  model: LoadModel;
  count: number | null;
  durationMs: number | null;
  forever: boolean;
  method: string;
  headers: Record<string, string>;
  timeoutMs: number;
  keepAlive: boolean;
  expect: StatusRange[];
  traceQuery: string | null;
  redact: boolean;
  /** Open model: sends skipped because --max-in-flight requests were already waiting. */
  dropped: number;
  /** Sends lagging their intended time: p99 of (sent - intended), ms (open model). */
  sendLagP99Ms: number | null;
  outDir: string | null;
  files: typeof FILES | null;
}

export interface ProbeResult {
  summary: ProbeSummary;
  run: RunInfo;
  interrupted: boolean;
}

interface Target {
  index: number;
  path: string;
  /** URL as recorded (redacted). */
  display: string;
  /** URL as sent, without the trace token (for HAR). */
  href: string;
  origin: string;
  settings: PoolSettings;
  /**
   * The connections to the URL's origin, made when the run starts: one Pool of `connections`
   * sockets (open model), or one Client per worker (closed loop). All are destroyed at the end.
   */
  dispatchers: Dispatcher[];
  started: number;
  inFlight: number;
  dropped: number;
  lastTotal: number;
}

/**
 * Trace roots in common/trace-id's format (`1-<8 hex epoch seconds>-<24 hex random>`), made
 * cheaply: the seconds prefix is rebuilt once a second and the random part is read from a block of
 * random bytes drawn 4096 ids at a time.
 */
export class TraceIds {
  // Hex of a block of random bytes, converted in one call: each id is then a substring.
  private hex = randomBytes(12 * 4096).toString('hex');
  private at = 0;
  private second = Number.NaN;
  private prefix = '';

  next(nowMs: number): string {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = newTraceRoot(nowMs, EMPTY); // "1-xxxxxxxx-"
    }
    if (this.at + 24 > this.hex.length) {
      this.hex = randomBytes(12 * 4096).toString('hex');
      this.at = 0;
    }
    const hex = this.hex.slice(this.at, this.at + 24);
    this.at += 24;
    return this.prefix + hex;
  }
}
const EMPTY = Buffer.alloc(0);

/** ISO-8601 of epoch ms, reusing the last string within the same millisecond. */
let isoMs = Number.NaN;
let isoText = '';
function isoCached(ms: number): string {
  const whole = Math.floor(ms);
  if (whole !== isoMs) {
    isoMs = whole;
    isoText = isoUtc(whole);
  }
  return isoText;
}

/** Keeps the bigger of the two snippet sizes: origin classification needs the start of the body. */
const ORIGIN_SNIPPET_BYTES = 4096;

/** Bounded sample of send lags for the p99 (reservoir-free: a fixed ring of recent sends). */
class LagRing {
  private readonly values = new Float64Array(65_536);
  private n = 0;
  add(v: number): void {
    this.values[this.n % this.values.length] = v;
    this.n++;
  }
  p99(): number | null {
    const len = Math.min(this.n, this.values.length);
    if (len === 0) return null;
    const sorted = Array.from(this.values.subarray(0, len)).sort((a, b) => a - b);
    return roundMs(sorted[Math.min(len - 1, Math.floor(len * 0.99))] ?? 0);
  }
}

export async function runProbe(input: ProbeOptionsInput, hooks: ProbeHooks = {}): Promise<ProbeResult> {
  const options = parseProbeOptions(input);
  return runResolved(options, hooks);
}

export async function runResolved(options: ProbeOptions, hooks: ProbeHooks = {}): Promise<ProbeResult> {
  const startEpoch = Date.now();
  const displayUrls = options.urls.map((u) => redactUrl(u, options.redact));
  const run: RunInfo = {
    tool: 'throttlescope probe',
    version: 1,
    startedAt: isoUtc(startEpoch),
    endedAt: null,
    elapsedMs: null,
    stoppedBy: null,
    urls: displayUrls,
    model: options.model,
    count: options.count ?? null,
    durationMs: options.durationMs ?? null,
    forever: options.forever,
    method: options.method,
    headers: redactHeaders(options.headers, options.redact),
    timeoutMs: options.timeoutMs,
    keepAlive: options.keepAlive,
    expect: options.expect,
    traceQuery: options.traceQuery ?? null,
    redact: options.redact,
    dropped: 0,
    sendLagP99Ms: null,
    outDir: options.outDir ?? null,
    files: options.outDir ? FILES : null,
  };

  const stop = new AbortController();
  let stoppedBy: StopReason | undefined;
  let outputError: OutputError | undefined;
  const inFlight = new SlotSet<ProbeExchange>();
  let graceTimer: NodeJS.Timeout | undefined;
  const stopInFlight = () => {
    inFlight.forEach(stopExchange);
  };
  const requestStop = (reason: StopReason) => {
    if (stop.signal.aborted) return;
    stoppedBy ??= reason;
    stop.abort();
    if (reason === 'signal' || reason === 'output-error') {
      graceTimer = setTimeout(stopInFlight, reason === 'signal' ? options.graceMs : 0);
    }
  };

  /** An unexpected exception while recording: the run stops and rethrows it. */
  let fatal: { error: unknown } | undefined;
  const failRun = (error: unknown) => {
    fatal ??= { error };
    if (stop.signal.aborted) return;
    stop.abort();
    graceTimer = setTimeout(stopInFlight, 0);
  };

  const recorder = options.outDir
    ? await Recorder.open(options.outDir, run, (e) => {
        outputError ??= e;
        requestStop('output-error');
      })
    : undefined;

  const builder = new SummaryBuilder(displayUrls);
  const traceIds = new TraceIds();
  const lags = new LagRing();
  const expect = options.expect;
  const capture = (status: number) => !isExpected(status, expect);
  const captureBytes = Math.max(options.harBodyMaxBytes, ORIGIN_SNIPPET_BYTES);
  const model = options.model;
  const targets: Target[] = options.urls.map((href, index) => {
    const u = new URL(href);
    const settings = {
      connections: model.kind === 'closed' ? model.concurrency : model.connections,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      timeoutMs: options.timeoutMs,
      insecure: options.insecure,
    };
    return {
      index,
      path: `${u.pathname}${u.search}`,
      display: displayUrls[index] ?? href,
      href,
      origin: u.origin,
      settings,
      dispatchers: [],
      started: 0,
      inFlight: 0,
      dropped: 0,
      lastTotal: 0,
    };
  });
  const baseHeaders = options.headers;
  const baseHeaderList = Object.keys(baseHeaders)
    .filter((h) => h.toLowerCase() !== TRACE_HEADER)
    .flatMap((h) => [h, baseHeaders[h] as string]);
  /** The headers sent, as the HAR file writes them (built only for failures). */
  const headerObject = (list: string[]) => {
    const o: Record<string, string> = {};
    for (let i = 0; i + 1 < list.length; i += 2) o[list[i] as string] = list[i + 1] as string;
    return o;
  };
  let seq = 0;

  const startPerf = performance.now();
  const progressTimer = hooks.onProgress
    ? setInterval(() => hooks.onProgress?.(progressOf()), options.progressIntervalMs)
    : undefined;
  // Timeouts: every exchange in flight is checked this often (at most 1/20 of --timeout late).
  const sweepEveryMs = Math.max(1, Math.min(50, options.timeoutMs / 20));
  const timeoutSweeper = setInterval(() => {
    const now = performance.now();
    inFlight.forEach((ex) => {
      ex.expireIfDue(now);
    });
  }, sweepEveryMs);
  const durationTimer =
    options.durationMs !== undefined && options.model.kind === 'closed'
      ? setTimeout(() => requestStop('duration'), options.durationMs)
      : undefined;
  const onAbort = () => requestStop('signal');
  if (hooks.signal?.aborted) requestStop('signal');
  else hooks.signal?.addEventListener('abort', onAbort, { once: true });

  function progressOf(): ProbeProgress {
    const elapsedMs = performance.now() - startPerf;
    return {
      elapsedMs,
      urls: targets.map((t) => {
        const s = builder.perUrl[t.index]!;
        const byStatus: Record<string, number> = {};
        for (const [k, v] of [...s.byStatus].sort((a, b) => a[0] - b[0])) byStatus[String(k)] = v;
        const byError: Record<string, number> = {};
        for (const [k, v] of Object.entries(s.byError)) if (v > 0) byError[k] = v;
        const q = s.quick();
        const rate = ((s.total - t.lastTotal) * 1000) / options.progressIntervalMs;
        t.lastTotal = s.total;
        return {
          url: t.display,
          total: s.total,
          succeeded: s.succeeded,
          failed: s.failed,
          byStatus,
          byError,
          p50: q.p50,
          p99: q.p99,
          currentStreak: s.current?.failures ?? 0,
          rate,
          inFlight: t.inFlight,
          dropped: t.dropped,
        };
      }),
    };
  }

  /** What happens when an exchange ends: the same function for every request (no closure each). */
  const onSettled = (exchange: Exchange): void => {
    const ex = exchange as ProbeExchange;
    const t = ex.target;
    inFlight.delete(ex);
    t.inFlight--;
    // This runs inside undici's response callbacks: an exception must not escape into them.
    try {
      if (ex.stopped) builder.skip(ex.seq);
      else recordOutcome(ex);
    } catch (error) {
      failRun(error);
    }
    // After a transport error undici is still failing the connection's other requests and
    // wants its queue left alone: the next send waits for the next turn of the event loop.
    if (ex.error === null) ex.after();
    else setImmediate(ex.after);
  };

  /** Sends one request; `after` runs once its outcome is recorded (synchronously from its end). */
  function send(t: Target, d: Dispatcher, intendedPerf: number | undefined, after: () => void): void {
    const sentPerf = performance.now();
    const root = traceIds.next(performance.timeOrigin + sentPerf);
    const traceId = `Root=${root}`;
    const path = options.traceQuery
      ? `${t.path}${t.path.includes('?') ? '&' : '?'}${options.traceQuery}=${root}`
      : t.path;
    const headers =
      baseHeaderList.length === 0 ? [TRACE_HEADER, traceId] : [...baseHeaderList, TRACE_HEADER, traceId];
    if (intendedPerf !== undefined) lags.add(sentPerf - intendedPerf);
    const ex = new ProbeExchange(
      d,
      { path, method: options.method, headers, body: options.body, reset: !options.keepAlive },
      options.timeoutMs,
      capture,
      captureBytes,
      onSettled,
    );
    ex.seq = ++seq;
    ex.urlSeq = ++t.started;
    ex.target = t;
    ex.intended = intendedPerf ?? sentPerf;
    ex.sentPerf = sentPerf;
    ex.traceId = traceId;
    ex.path = path;
    ex.sentHeaders = headers;
    ex.after = after;
    inFlight.add(ex);
    t.inFlight++;
    ex.start(sentPerf);
  }

  function recordOutcome(ex: ProbeExchange): void {
    const t = ex.target;
    const record = toRecord(ex, expect);
    builder.add(record);
    if (recorder) {
      recorder.write(record);
      if (!record.ok) {
        const harOutcome =
          ex.body && ex.body.length > options.harBodyMaxBytes
            ? { ...ex, body: ex.body.subarray(0, options.harBodyMaxBytes), bodyTruncated: true }
            : ex;
        const url = options.traceQuery ? new URL(ex.path, t.href).href : t.href;
        recorder.writeFailure(
          harEntry(
            record,
            { method: options.method, url, headers: headerObject(ex.sentHeaders), body: options.body },
            harOutcome,
            ex.sentPerf,
            options.redact,
            options.harBodyMaxBytes,
          ),
        );
      }
    }
    hooks.onRecord?.(record);
  }

  const countReached = (t: Target) => options.count !== undefined && t.started >= options.count;

  /**
   * One closed-loop worker: each request is sent from the end of the one before (no promise or
   * timer between them, as a connection's request loop in undici's own benchmarks).
   */
  function closedWorker(t: Target, d: Dispatcher): Promise<void> {
    // `send` calls `next` synchronously only after a response (which never completes inside the
    // dispatch call); after an error it waits a turn of the event loop, so this cannot recurse.
    return new Promise<void>((resolve) => {
      const next = (): void => {
        if (stop.signal.aborted || countReached(t)) {
          resolve();
          return;
        }
        if (recorder?.congested) {
          void recorder.drained().then(next);
          return;
        }
        send(t, d, undefined, next);
      };
      next();
    });
  }

  async function openDriver(t: Target, model: Extract<LoadModel, { kind: 'open' }>): Promise<void> {
    const pool = createPool(t.origin, t.settings);
    t.dispatchers.push(pool);
    const schedule = new ArrivalSchedule(model.rate, model.arrivals, model.seed + t.index * 7919);
    const pending = new Set<Promise<void>>();
    let burst = 0;
    while (!stop.signal.aborted && !countReached(t)) {
      const offset = schedule.next();
      if (options.durationMs !== undefined && offset >= options.durationMs) break;
      const due = startPerf + offset;
      if (due > performance.now()) {
        burst = 0;
        await waitUntil(due, stop.signal);
        if (stop.signal.aborted) break;
      } else if (++burst >= 64) {
        // Far behind schedule: let responses be processed between bursts.
        burst = 0;
        await new Promise<void>((r) => setImmediate(r));
        if (stop.signal.aborted) break;
      }
      if (recorder?.congested) await recorder.drained();
      if (t.inFlight >= model.maxInFlight) {
        t.dropped++;
        continue;
      }
      const p = new Promise<void>((resolve) => send(t, pool, due, resolve));
      pending.add(p);
      p.finally(() => pending.delete(p));
    }
    await Promise.all(pending);
  }

  try {
    const drivers =
      model.kind === 'closed'
        ? targets.flatMap((t) =>
            Array.from({ length: model.concurrency }, () => {
              const client = createClient(t.origin, t.settings);
              t.dispatchers.push(client);
              return closedWorker(t, client);
            }),
          )
        : targets.map((t) => openDriver(t, model));
    await Promise.all(drivers);
  } finally {
    clearInterval(timeoutSweeper);
    if (progressTimer) clearInterval(progressTimer);
    if (durationTimer) clearTimeout(durationTimer);
    if (graceTimer) clearTimeout(graceTimer);
    hooks.signal?.removeEventListener('abort', onAbort);
    stopInFlight();
    await Promise.all(targets.flatMap((t) => t.dispatchers.map((d) => d.destroy().catch(() => {}))));
  }

  if (fatal) {
    recorder?.destroy();
    throw fatal.error;
  }
  stoppedBy ??= options.count !== undefined && targets.every(countReached) ? 'count' : 'duration';
  if (hooks.signal?.aborted && stoppedBy !== 'output-error') stoppedBy = 'signal';
  builder.finish();
  const summary = builder.summary();
  const endEpoch = Date.now();
  run.endedAt = isoUtc(endEpoch);
  run.elapsedMs = endEpoch - startEpoch;
  run.stoppedBy = stoppedBy;
  run.dropped = targets.reduce((s, t) => s + t.dropped, 0);
  run.sendLagP99Ms = options.model.kind === 'open' ? lags.p99() : null;
  if (recorder) {
    if (outputError) {
      recorder.destroy();
      throw outputError;
    }
    // summary.json is the same document as --json.
    await recorder.close({ run, summary: { ...summary, run } });
  }
  if (outputError) throw outputError;
  return { summary, run, interrupted: stoppedBy === 'signal' };
}

/** An exchange with the runner's bookkeeping for its request (set before it starts). */
class ProbeExchange extends Exchange {
  /** Its index in the run's exchanges in flight (a SlotSet: see there why not a Set). */
  slot = -1;
  seq = 0;
  urlSeq = 0;
  target!: Target;
  /** performance.now() of the intended and the actual send. */
  intended = 0;
  sentPerf = 0;
  traceId = '';
  path = '';
  sentHeaders: string[] = EMPTY_HEADERS;
  after: () => void = noop;
}
const EMPTY_HEADERS: string[] = [];
const noop = (): void => {};
const stopExchange = (ex: ProbeExchange): void => ex.stop();

/** The most specific code in an error's cause chain, else its class name (HTTPParserError). */
function firstCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  const name = error instanceof Error ? error.name : undefined;
  return name && name !== 'Error' ? name : undefined;
}

function toRecord(o: ProbeExchange, expect: readonly StatusRange[]): ProbeRecord {
  const { seq, urlSeq, target: t, intended: intendedPerf, sentPerf, traceId } = o;
  const origin0 = performance.timeOrigin;
  const sent = roundMs(origin0 + sentPerf);
  const record: ProbeRecord = {
    seq,
    urlIndex: t.index,
    urlSeq,
    url: t.display,
    intended: roundMs(origin0 + intendedPerf),
    sent,
    at: isoCached(sent),
    latencyMs: roundMs(o.endAt - intendedPerf),
    serviceMs: roundMs(o.endAt - sentPerf),
    status: o.status,
    bytes: o.bytes,
    traceId,
    ok: false,
    error: null,
    origin: null,
  };
  if (o.error) {
    record.error = classifyTransportError(o.error);
    const code = firstCode(o.error);
    if (code) record.errorCode = code;
    record.origin = 'network';
  } else if (o.status !== null && isExpected(o.status, expect)) {
    record.ok = true;
  } else if (o.status !== null) {
    const snippet = o.body ? o.body.subarray(0, ORIGIN_SNIPPET_BYTES).toString('utf8') : '';
    const headers = normaliseHeaders(o.headers ?? {});
    record.origin = classifyOrigin(headers, snippet);
    const cf = cloudFrontTrace(headers, snippet);
    if (cf) {
      record.cloudfront = cf.hop;
      if (cf.cached) record.cached = true;
    }
  } else {
    record.error = 'other';
    record.origin = 'network';
  }
  return record;
}
