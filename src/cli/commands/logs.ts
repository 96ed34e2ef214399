import type { Readable } from 'node:stream';
import { ExitCode, ThrottlescopeError, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { type LogFilter, parseStatusFilter } from '../../logs/aggregate.js';
import { analyseAlbLogs } from '../../logs/analyse.js';
import { undocumentedErrorReasons } from '../../logs/error-reasons.js';
import { renderLogAnalysis } from '../../logs/render.js';
import type { Command } from '../context.js';
import { AWS_FLAGS, awsConnectionFrom, helpText, numberFlag, parseFlags, timeWindowFlags } from '../flags.js';
import { progressFor, readProgress } from '../progress.js';

const FLAGS = {
  since: {
    type: 'string',
    arg: 'T',
    help: 'keep entries at or after T (ISO-8601 UTC, epoch seconds, or -15m)',
  },
  until: { type: 'string', arg: 'T', help: 'keep entries before T' },
  status: { type: 'string', arg: 'LIST', help: 'elb_status_code filter, e.g. 502 or 5xx or 502,504' },
  reason: { type: 'string', arg: 'LIST', help: 'error_reason filter, e.g. LambdaThrottling' },
  'target-group': {
    type: 'string',
    multiple: true,
    arg: 'TG',
    help: 'target group name, targetgroup/name/id or ARN (repeatable)',
  },
  records: { type: 'string', arg: 'FILE', help: 'write the matching entries as JSON lines' },
  top: { type: 'string', arg: 'N', help: 'failing paths to show (default 10)' },
  json: { type: 'boolean', help: 'print the summary as one JSON document (docs/logs.md)' },
  ...AWS_FLAGS,
  concurrency: { type: 'string', arg: 'N', help: 'parallel S3 downloads (default 8)' },
} as const;

const usage = helpText({
  usage: 'Usage: throttlescope logs <source...> [options]',
  about: `Analyse ALB access logs. A source is a file (.log or .gz), a directory (read recursively),
- for stdin, or s3://bucket/prefix (AWS SDK default credentials). Progress (files and bytes read)
goes to stderr: a live line on a terminal, a plain line every 5 s otherwise, none with --json.`,
  flags: FLAGS,
  footer: `Exit: 0 read (skipped lines among good ones are a warning), 2 usage, 3 nothing could be read
(every line malformed, or a source failed: missing, unreadable, truncated gzip), 4 S3 refused.`,
});

export const command: Command = {
  name: 'logs',
  summary: 'analyse ALB access logs',
  usage,
  flagTables: [FLAGS],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags('logs', FLAGS, argv);
    if (positionals.length === 0)
      throw new UsageError('logs: give at least one source (file, directory, -, or s3://bucket/prefix)');
    const { sinceMs, untilMs } = timeWindowFlags('logs', values, Date.now());
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

    const progress = progressFor(ctx, { json: values.json === true });
    const analysis = await analyseAlbLogs(positionals, {
      sinceMs,
      untilMs,
      filter,
      recordsPath: values.records,
      concurrency,
      signal: ctx.signal,
      stdin: ctx.stdin as Readable,
      aws: awsConnectionFrom(values, ctx.env),
      onProgress: (p) => progress.update(readProgress(p)),
    }).finally(() => progress.done());
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
        : renderLogAnalysis(analysis, top),
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
