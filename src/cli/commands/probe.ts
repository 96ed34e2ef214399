/**
 * `throttlescope probe <url...>` and `throttlescope probe report <DIR>`: parse flags, call the
 * probe library, render, return the exit code. Progress goes to stderr (live view on a TTY, one
 * plain line per interval otherwise); the summary (or --json) goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
import { flagHelp, numberFlag, parseFlags } from '../flags.js';
import { LiveProgress } from '../progress.js';

const FLAGS = {
  rate: {
    type: 'string',
    arg: 'R',
    help: 'open model: R requests/s per URL (5, 0.2/s, 30/m); latency from intended time',
    section: `Load (choose one; default: a gentle ${DEFAULT_RATE} request/s per URL):`,
  },
  arrivals: { type: 'string', arg: 'KIND', help: 'constant (default; also: uniform) or poisson' },
  seed: { type: 'string', arg: 'N', help: 'seed for poisson arrivals (reproducible schedules)' },
  connections: {
    type: 'string',
    arg: 'N',
    help: `open model: sockets per URL (default ${DEFAULT_OPEN_CONNECTIONS})`,
  },
  'max-in-flight': {
    type: 'string',
    arg: 'N',
    help: `open model: beyond N waiting requests per URL, drop sends (default ${DEFAULT_MAX_IN_FLIGHT})`,
  },
  concurrency: {
    type: 'string',
    short: 'c',
    arg: 'C',
    help: 'closed loop: C requests in flight per URL, next as soon as one returns',
  },
  count: {
    type: 'string',
    short: 'n',
    arg: 'N',
    help: 'requests per URL',
    section: 'Bounds (at least one; Ctrl-C always stops cleanly):',
  },
  duration: { type: 'string', short: 'd', arg: 'D', help: 'wall time (30s, 5m, 2h)' },
  forever: { type: 'boolean', help: 'no bound: run until Ctrl-C' },
  method: { type: 'string', short: 'X', arg: 'M', help: 'HTTP method (default GET)', section: 'Request:' },
  header: { type: 'string', short: 'H', multiple: true, arg: "'K: V'", help: 'request header (repeatable)' },
  body: { type: 'string', arg: 'TEXT', help: 'request body' },
  'body-file': { type: 'string', arg: 'PATH', help: 'body from a file' },
  timeout: {
    type: 'string',
    arg: 'D',
    help: `whole-exchange timeout (default ${DEFAULT_TIMEOUT_MS / 1000}s)`,
  },
  'no-keepalive': { type: 'boolean', help: 'a new connection for every request' },
  'keepalive-timeout': {
    type: 'string',
    arg: 'D',
    help: 'idle time before a kept-alive socket is closed (default 4s)',
  },
  insecure: { type: 'boolean', short: 'k', help: 'do not verify TLS certificates' },
  'trace-query': {
    type: 'string',
    arg: 'NAME',
    help: "also send the trace root as ?NAME=1-... (appears in the ALB log's request)",
  },
  expect: {
    type: 'string',
    arg: 'LIST',
    help: 'statuses counted as success (default 2xx,3xx; e.g. 200-299 or 200,204)',
    section: 'Verdict:',
  },
  'fail-on-error': { type: 'boolean', help: `exit ${ExitCode.verdict} when any request failed` },
  out: {
    type: 'string',
    short: 'o',
    arg: 'DIR',
    help: 'write requests.jsonl, failures.har, run.json, summary.json',
    section: 'Output:',
  },
  'no-redact': {
    type: 'boolean',
    help: 'keep Authorization, Cookie, Set-Cookie, tokens and signatures in --out',
  },
  'har-body-max': {
    type: 'string',
    arg: 'BYTES',
    help: `body bytes kept per failing exchange (default ${DEFAULT_HAR_BODY_MAX_BYTES})`,
  },
  json: { type: 'boolean', help: 'print the summary as one JSON document' },
  interval: { type: 'string', arg: 'D', help: 'progress interval (default 1s on a terminal, 5s otherwise)' },
  grace: {
    type: 'string',
    arg: 'D',
    help: `after Ctrl-C, time in-flight requests get to finish (default ${DEFAULT_GRACE_MS / 1000}s)`,
  },
  quiet: { type: 'boolean', short: 'q', help: 'no progress lines' },
} as const;

const REPORT_FLAGS = {
  json: { type: 'boolean', help: 'print the summary as one JSON document' },
  'fail-on-error': { type: 'boolean', help: `exit ${ExitCode.verdict} when any request failed` },
} as const;

const USAGE = `Usage:
  throttlescope probe [options] <url...>
  throttlescope probe report <DIR> [--json] [--fail-on-error]

Send requests to each URL side by side, record every one, keep the failing exchanges, and say
whether failures come in streaks and which hop (CloudFront, ALB, API Gateway, function URL,
application, network) produced them.

${flagHelp(FLAGS)}

Exit: 0 done (failures found are data, see the summary); ${ExitCode.verdict} failures with --fail-on-error;
${ExitCode.usage} bad flags; ${ExitCode.input} report DIR unreadable; ${ExitCode.environment} --out unwritable; ${ExitCode.interrupted} stopped by Ctrl-C (summary still printed).
Docs: docs/probe.md
`;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

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

async function runReport(argv: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseFlags('probe report', REPORT_FLAGS, argv);
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
  const { values, positionals } = parseFlags('probe', FLAGS, argv);
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
  // The runner paces progress (--interval); every report is drawn.
  const live = new LiveProgress(ctx.stderr, { plainEveryMs: 0, redrawEveryMs: 0 });
  const onProgress = values.quiet
    ? undefined
    : (p: ProbeProgress) => live.update(progressLines(p, tty ? ctx.stderr.columns : undefined));
  const onAbort = () =>
    live.log(
      `probe: stopping; in-flight requests get up to ${options.graceMs / 1000}s, then the summary is written`,
    );
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
  flagTables: [FLAGS, REPORT_FLAGS],
  run: runProbeCommand,
};
