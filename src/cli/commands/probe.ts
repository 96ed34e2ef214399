/**
 * `throttlescope probe <url...>` and `throttlescope probe report <DIR>`: parse flags, call the
 * probe library, render, return the exit code. Progress goes to stderr (live view on a TTY, one
 * plain line per interval otherwise); the summary (or --json) goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeCause, ExitCode, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import {
  DEFAULT_GRACE_MS,
  DEFAULT_HAR_BODY_MAX_BYTES,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_OPEN_CONNECTIONS,
  DEFAULT_RATE,
  DEFAULT_TIMEOUT_MS,
  type ProbeOptionsInput,
  parseDurationFlag,
  parseHeader,
  parseProbeOptions,
  parseRate,
} from '../../probe/options.js';
import { jsonDocument, progressLines, renderSummary } from '../../probe/render.js';
import { readProbeDir } from '../../probe/report.js';
import { type ProbeProgress, runResolved } from '../../probe/runner.js';
import type { CliContext, Command } from '../context.js';
import { numberFlag, withUsage } from '../flags.js';

const USAGE = `Usage:
  throttlescope probe [options] <url...>
  throttlescope probe report <DIR> [--json] [--fail-on-error]

Send requests to each URL side by side, record every one, keep the failing exchanges, and say
whether failures come in streaks and which hop (CloudFront, ALB, API Gateway, function URL,
application, network) produced them.

Load (choose one; default: a gentle ${DEFAULT_RATE} request/s per URL):
  --rate R              open model: R requests/s per URL (5, 0.2/s, 30/m); latency from intended time
  --arrivals KIND       constant (default) or poisson
  --seed N              seed for poisson arrivals (reproducible schedules)
  --connections N       open model: sockets per URL (default ${DEFAULT_OPEN_CONNECTIONS})
  --max-in-flight N     open model: beyond N waiting requests per URL, drop sends (default ${DEFAULT_MAX_IN_FLIGHT})
  -c, --concurrency C   closed loop: C requests in flight per URL, next as soon as one returns
Bounds (at least one; Ctrl-C always stops cleanly):
  -n, --count N         requests per URL
  -d, --duration D      wall time (30s, 5m, 2h)
  --forever             no bound: run until Ctrl-C
Request:
  -X, --method M        HTTP method (default GET)
  -H, --header 'K: V'   request header (repeatable)
  --body TEXT           request body;  --body-file PATH  body from a file
  --timeout D           whole-exchange timeout (default ${DEFAULT_TIMEOUT_MS / 1000}s)
  --no-keepalive        a new connection for every request
  --keepalive-timeout D idle time before a kept-alive socket is closed (default 4s)
  --insecure            do not verify TLS certificates
  --trace-query NAME    also send the trace root as ?NAME=1-... (appears in the ALB log's request)
Verdict:
  --expect LIST         statuses counted as success (default 2xx,3xx; e.g. 200-299 or 200,204)
  --fail-on-error       exit ${ExitCode.verdict} when any request failed
Output:
  -o, --out DIR         write requests.jsonl, failures.har, run.json, summary.json
  --no-redact           keep Authorization, Cookie, Set-Cookie, tokens and signatures in --out
  --har-body-max BYTES  body bytes kept per failing exchange (default ${DEFAULT_HAR_BODY_MAX_BYTES})
  --json                print the summary as one JSON document
  --interval D          progress interval (default 1s on a terminal, 5s otherwise)
  --grace D             after Ctrl-C, time in-flight requests get to finish (default ${DEFAULT_GRACE_MS / 1000}s)
  -q, --quiet           no progress lines

Exit: 0 done (failures found are data, see the summary); ${ExitCode.verdict} failures with --fail-on-error;
${ExitCode.usage} bad flags; ${ExitCode.input} report DIR unreadable; ${ExitCode.environment} --out unwritable; ${ExitCode.interrupted} stopped by Ctrl-C (summary still printed).
Docs: docs/probe.md
`;

const OPTIONS = {
  rate: { type: 'string' },
  arrivals: { type: 'string' },
  seed: { type: 'string' },
  connections: { type: 'string' },
  'max-in-flight': { type: 'string' },
  concurrency: { type: 'string', short: 'c' },
  count: { type: 'string', short: 'n' },
  duration: { type: 'string', short: 'd' },
  forever: { type: 'boolean' },
  method: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  body: { type: 'string' },
  'body-file': { type: 'string' },
  timeout: { type: 'string' },
  'no-keepalive': { type: 'boolean' },
  'keepalive-timeout': { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  'trace-query': { type: 'string' },
  expect: { type: 'string' },
  'fail-on-error': { type: 'boolean' },
  out: { type: 'string', short: 'o' },
  'no-redact': { type: 'boolean' },
  'har-body-max': { type: 'string' },
  json: { type: 'boolean' },
  interval: { type: 'string' },
  grace: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

type Values = ReturnType<typeof parseFlags>['values'];

function parseFlags(argv: string[]) {
  return withUsage('probe', () =>
    parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }),
  );
}

function durationOrUndefined(flag: string, text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDurationFlag(flag, text);
}

/** Flags → library input (exported for tests). */
export function optionsFromFlags(values: Values, positionals: string[], cwd: string): ProbeOptionsInput {
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const [name, value] = parseHeader(h);
    headers[name] = value;
  }
  if (values.body !== undefined && values['body-file'] !== undefined) {
    throw new UsageError('--body and --body-file: give one of them');
  }
  let body = values.body;
  if (values['body-file'] !== undefined) {
    try {
      body = readFileSync(resolve(cwd, values['body-file']), 'utf8');
    } catch (error) {
      throw new UsageError(`--body-file: cannot read "${values['body-file']}": ${describeCause(error)}`);
    }
  }
  const method = values.method ?? (body !== undefined ? 'POST' : undefined);
  return {
    urls: positionals,
    rate: values.rate === undefined ? undefined : parseRate(values.rate),
    arrivals: values.arrivals as ProbeOptionsInput['arrivals'],
    seed: numberFlag('probe', 'seed', values.seed, { integer: true }),
    connections: numberFlag('probe', 'connections', values.connections, { integer: true, min: 1 }),
    maxInFlight: numberFlag('probe', 'max-in-flight', values['max-in-flight'], { integer: true, min: 1 }),
    concurrency: numberFlag('probe', 'concurrency', values.concurrency, { integer: true, min: 1 }),
    count: numberFlag('probe', 'count', values.count, { integer: true, min: 1 }),
    durationMs: durationOrUndefined('--duration', values.duration),
    forever: values.forever ?? false,
    method,
    headers,
    body,
    timeoutMs: durationOrUndefined('--timeout', values.timeout),
    keepAlive: !values['no-keepalive'],
    keepAliveTimeoutMs: durationOrUndefined('--keepalive-timeout', values['keepalive-timeout']),
    insecure: values.insecure ?? false,
    traceQuery: values['trace-query'],
    expect: values.expect,
    outDir: values.out === undefined ? undefined : resolve(cwd, values.out),
    redact: !values['no-redact'],
    harBodyMaxBytes: numberFlag('probe', 'har-body-max', values['har-body-max'], { integer: true, min: 0 }),
    progressIntervalMs: durationOrUndefined('--interval', values.interval),
    graceMs: values.grace === undefined ? undefined : parseGrace(values.grace),
  };
}

function parseGrace(text: string): number {
  if (text.trim() === '0') return 0;
  return parseDurationFlag('--grace', text);
}

/** Live view on a TTY: rewrites one line per URL in place. */
class LiveView {
  private drawn = 0;
  constructor(private readonly ctx: CliContext) {}
  draw(p: ProbeProgress): void {
    const lines = progressLines(p, this.ctx.stderr.columns);
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const l of lines) out += `\r\x1b[2K${l}\n`;
    this.drawn = lines.length;
    this.ctx.stderr.write(out);
  }
}

async function runReport(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = withUsage('probe report', () =>
    parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, 'fail-on-error': { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    }),
  );
  if (positionals.length !== 1) {
    throw new UsageError('probe report: expected one directory (the --out DIR of a probe run)');
  }
  const dir = resolve(ctx.cwd, positionals[0]!);
  const report = await readProbeDir(dir);
  if (report.skippedLines > 0) {
    ctx.stderr.write(
      `probe report: skipped ${report.skippedLines} unreadable line(s) in requests.jsonl (first at line ${report.skippedAt.join(', ')})\n`,
    );
  }
  if (values.json) ctx.stdout.write(jsonDocument(report.summary, report.run));
  else
    ctx.stdout.write(
      renderSummary(report.summary, report.run, [`from ${safeForTerminal(dir)}: ${report.records} records`]),
    );
  return values['fail-on-error'] && report.summary.failed > 0 ? ExitCode.verdict : ExitCode.ok;
}

export async function runProbeCommand(argv: string[], ctx: CliContext): Promise<number> {
  if (argv[0] === 'report') return runReport(argv.slice(1), ctx);
  const { values, positionals } = parseFlags(argv);
  if (positionals.length === 0) {
    throw new UsageError(
      'probe: expected at least one http:// or https:// URL (see: throttlescope probe --help)',
    );
  }
  const input = optionsFromFlags(values, positionals, ctx.cwd);
  const tty = ctx.stderr.isTTY === true;
  if (input.progressIntervalMs === undefined) input.progressIntervalMs = tty ? 1_000 : 5_000;
  const options = parseProbeOptions(input);
  if (options.defaultedRate) {
    ctx.stderr.write(
      `probe: no --rate or --concurrency given: probing gently at ${DEFAULT_RATE} request/s per URL. Raise it with --rate 20 (open model) or --concurrency 4 (closed loop, as fast as responses come back).\n`,
    );
  }
  if (options.forever) ctx.stderr.write('probe: running until Ctrl-C (--forever)\n');
  const live = tty && !values.quiet ? new LiveView(ctx) : undefined;
  const onProgress = values.quiet
    ? undefined
    : (p: ProbeProgress) => {
        if (live) live.draw(p);
        else for (const l of progressLines(p)) ctx.stderr.write(`${l}\n`);
      };
  const onAbort = () => {
    ctx.stderr.write(
      `\nprobe: stopping; in-flight requests get up to ${options.graceMs / 1000}s, then the summary is written\n`,
    );
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let result: Awaited<ReturnType<typeof runResolved>>;
  try {
    result = await runResolved(options, { signal: ctx.signal, ...(onProgress ? { onProgress } : {}) });
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  const { summary, run } = result;
  if (values.json) {
    ctx.stdout.write(jsonDocument(summary, run));
  } else {
    const extra: string[] = [];
    if (run.outDir) {
      extra.push(
        `recorded in ${safeForTerminal(run.outDir)}: requests.jsonl (${summary.total} lines), failures.har (${summary.failed} entries); rebuild with: throttlescope probe report ${safeForTerminal(run.outDir)}`,
      );
    }
    ctx.stdout.write(renderSummary(summary, run, extra));
  }
  if (result.interrupted) return ExitCode.interrupted;
  if (values['fail-on-error'] && summary.failed > 0) return ExitCode.verdict;
  return ExitCode.ok;
}

export const command: Command = {
  name: 'probe',
  summary: 'soak/stress a URL and record every failure',
  usage: USAGE,
  run: runProbeCommand,
};
