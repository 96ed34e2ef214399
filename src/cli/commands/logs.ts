import { parseArgs } from 'node:util';
import { ExitCode, ThrottlescopeError, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { parseTimeBound } from '../../common/time.js';
import { type LogFilter, type LogSummary, parseStatusFilter } from '../../logs/aggregate.js';
import { analyseAlbLogs, type LogAnalysis } from '../../logs/analyse.js';
import { explainErrorReason, undocumentedErrorReasons } from '../../logs/error-reasons.js';
import type { Command } from '../context.js';
import { numberFlag, withUsage } from '../flags.js';
import { pct, stackedBars, table } from '../render/table.js';

const usage = `Usage: throttlescope logs <source...> [options]

Analyse ALB access logs. A source is a file (.log or .gz), a directory (read recursively),
- for stdin, or s3://bucket/prefix (AWS SDK default credentials).

Options:
  --since T              keep entries at or after T (ISO-8601 UTC, epoch seconds, or -15m)
  --until T              keep entries before T
  --status LIST          elb_status_code filter, e.g. 502 or 5xx or 502,504
  --reason LIST          error_reason filter, e.g. LambdaThrottling
  --target-group TG      target group name, targetgroup/name/id or ARN (repeatable)
  --records FILE         write the matching entries as JSON lines
  --top N                failing paths to show (default 10)
  --json                 print the summary as one JSON document (docs/logs.md)
  --region R             AWS region for s3:// sources
  --profile P            AWS profile for s3:// sources
  --endpoint-url URL     S3-compatible endpoint (e.g. the lab's)
  --concurrency N        parallel S3 downloads (default 8)

Exit: 0 read (skipped lines among good ones are a warning), 2 usage, 3 nothing could be read
(every line malformed, or a source failed: missing, unreadable, truncated gzip), 4 S3 refused.
`;

function render(a: LogAnalysis, top: number): string {
  const s: LogSummary = a.summary;
  const out: string[] = [];
  const range = s.firstTime ? `${s.firstTime} .. ${s.lastTime}` : 'no entries';
  out.push(`ALB access logs: ${s.files} file(s), ${s.lines.toLocaleString('en-US')} entries, ${range}`);
  if (s.requests !== s.lines) out.push(`  ${s.requests.toLocaleString('en-US')} entries match the filters`);
  const failed5xx = Object.entries(s.byElbStatus)
    .filter(([k]) => k.startsWith('5'))
    .reduce((n, [, v]) => n + v, 0);
  out.push(
    `  5xx from the load balancer: ${failed5xx.toLocaleString('en-US')} (${pct(failed5xx, s.requests)})`,
  );
  out.push('', 'By elb_status_code:');
  out.push(
    table(
      Object.entries(s.byElbStatus)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => [k, v, pct(v, s.requests)]),
    ),
  );
  const reasons = Object.entries(s.byErrorReason).sort((x, y) => y[1] - x[1]);
  if (reasons.length > 0) {
    out.push('', 'By error_reason:');
    out.push(table(reasons.map(([k, v]) => [k, v, pct(v, s.requests), explainErrorReason(k)])));
  }
  const tgs = Object.entries(s.byTargetGroup);
  if (tgs.length > 0) {
    out.push('', 'By target group:');
    out.push(
      table(
        tgs.map(([tg, v]) => [
          tg,
          v.requests,
          Object.entries(v.byErrorReason)
            .sort((x, y) => y[1] - x[1])
            .map(([r, n]) => `${r} ${n} (${pct(n, v.requests)})`)
            .join(', ') || 'no errors',
        ]),
      ),
    );
  }
  if (s.topFailingPaths.length > 0) {
    out.push('', `Top failing paths (5xx, top ${top}):`);
    out.push(
      table(
        s.topFailingPaths.map((p) => [
          p.path,
          p.failures,
          Object.entries(p.byErrorReason)
            .sort((x, y) => y[1] - x[1])
            .map(([r, n]) => `${r} ${n}`)
            .join(', '),
        ]),
      ),
    );
  }
  const errorMinutes = s.series.map((m) => ({
    label: m.minute.slice(0, 16).replace('T', ' '),
    counts: m.fiveXx,
  }));
  if (errorMinutes.some((m) => Object.keys(m.counts).length > 0)) {
    out.push('', '5xx per minute by reason (UTC):');
    out.push(stackedBars(errorMinutes));
  }
  return `${out.join('\n')}\n`;
}

export const command: Command = {
  name: 'logs',
  summary: 'analyse ALB access logs',
  usage,
  async run(argv, ctx) {
    const { values, positionals } = withUsage('logs', () =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          since: { type: 'string' },
          until: { type: 'string' },
          status: { type: 'string' },
          reason: { type: 'string' },
          'target-group': { type: 'string', multiple: true },
          records: { type: 'string' },
          top: { type: 'string' },
          json: { type: 'boolean', default: false },
          region: { type: 'string' },
          profile: { type: 'string' },
          'endpoint-url': { type: 'string' },
          concurrency: { type: 'string' },
        },
      }),
    );
    if (positionals.length === 0)
      throw new UsageError('logs: give at least one source (file, directory, -, or s3://bucket/prefix)');
    const now = Date.now();
    const sinceMs = values.since ? parseTimeBound(values.since, '--since', now) : undefined;
    const untilMs = values.until ? parseTimeBound(values.until, '--until', now) : undefined;
    if (sinceMs !== undefined && untilMs !== undefined && untilMs <= sinceMs) {
      throw new UsageError('logs: --until must be after --since');
    }
    const filter: LogFilter = {};
    if (values.status) {
      const statuses = parseStatusFilter(values.status);
      if (!statuses)
        throw new UsageError(
          `logs: --status expects codes or classes like 502 or 5xx, got "${values.status}"`,
        );
      filter.statuses = statuses;
    }
    if (values.reason) filter.reasons = new Set(values.reason.split(',').map((r) => r.trim()));
    if (values['target-group']) filter.targetGroups = values['target-group'];
    const top = numberFlag('logs', 'top', values.top, { min: 1, integer: true }) ?? 10;
    const concurrency = numberFlag('logs', 'concurrency', values.concurrency, { min: 1, integer: true });

    const showProgress = !values.json && ctx.stderr.isTTY === true;
    let lastDraw = 0;
    const analysis = await analyseAlbLogs(positionals, {
      sinceMs,
      untilMs,
      filter,
      recordsPath: values.records,
      concurrency,
      signal: ctx.signal,
      stdin: ctx.stdin as import('node:stream').Readable,
      aws: {
        region: values.region,
        profile: values.profile,
        endpointUrl: values['endpoint-url'] ?? ctx.env.AWS_ENDPOINT_URL,
      },
      onProgress: showProgress
        ? (p) => {
            const t = Date.now();
            if (t - lastDraw < 100 && p.filesDone < p.filesTotal) return;
            lastDraw = t;
            const mb = (p.bytes / 1e6).toFixed(1);
            ctx.stderr.write(`\r\x1b[K  reading ${p.filesDone}/${p.filesTotal} files, ${mb} MB`);
          }
        : undefined,
    });
    if (showProgress) ctx.stderr.write('\r\x1b[K');
    const { summary } = analysis;
    if (summary.lines === 0 && summary.malformed > 0 && analysis.errors.length === 0 && !ctx.signal.aborted) {
      // Every line was rejected: an all-zero summary would read as "no traffic", so none is printed.
      const first = analysis.malformedExamples[0]?.message;
      throw new ThrottlescopeError(
        'TS_LOG_UNREADABLE',
        `nothing could be read from ${positionals.join(', ')}: all ${summary.malformed.toLocaleString('en-US')} line(s) are malformed, none is an ALB access-log entry${first ? ` (first: ${first})` : ''}`,
      );
    }
    summary.topFailingPaths = summary.topFailingPaths.slice(0, top);
    const undocumented = undocumentedErrorReasons(Object.keys(summary.byErrorReason));
    ctx.stdout.write(
      values.json
        ? `${JSON.stringify({ ...summary, undocumentedErrorReasons: undocumented }, null, 2)}\n`
        : render(analysis, top),
    );
    for (const example of analysis.malformedExamples)
      ctx.stderr.write(`warning: skipped ${safeForTerminal(example.message)}\n`);
    if (summary.malformed > analysis.malformedExamples.length) {
      ctx.stderr.write(`warning: ${summary.malformed} malformed lines skipped in all\n`);
    }
    for (const e of analysis.errors) ctx.stderr.write(`error: ${safeForTerminal(e.message)}\n`);
    if (ctx.signal.aborted) return ExitCode.interrupted;
    if (analysis.errors.length > 0) {
      const remote = analysis.errors.some((e) => e.source.startsWith('s3://') && !/gzip/.test(e.message));
      return remote && summary.lines === 0 ? ExitCode.remote : ExitCode.input;
    }
    if (summary.files === 0) {
      throw new ThrottlescopeError('TS_LOG_SOURCE', `no log files found in ${positionals.join(', ')}`);
    }
    return ExitCode.ok;
  },
};
