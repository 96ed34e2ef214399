import type { Readable } from 'node:stream';
import { ExitCode, ThrottlescopeError, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import { type LogFilter, type LogSummary, parseStatusFilter } from '../../logs/aggregate.js';
import { analyseAlbLogs } from '../../logs/analyse.js';
import type { CloudFrontSummary } from '../../logs/cloudfront/summary.js';
import { undocumentedErrorReasons } from '../../logs/error-reasons.js';
import { renderLogAnalysis } from '../../logs/render.js';
import type { Command } from '../context.js';
import { AWS_FLAGS, awsConnectionFrom, helpText, numberFlag, parseFlags, timeWindowFlags } from '../flags.js';
import { progressFor, readProgress } from '../progress.js';
import { ATHENA_FLAGS, athenaReportLine, runAthenaLogs, runAthenaTable } from './logs-athena.js';

const FLAGS = {
  since: {
    type: 'string',
    arg: 'T',
    help: 'keep entries at or after T (ISO-8601 UTC, epoch seconds, or -15m)',
  },
  until: { type: 'string', arg: 'T', help: 'keep entries before T' },
  status: {
    type: 'string',
    arg: 'LIST',
    help: 'elb_status_code (CloudFront: sc-status) filter, e.g. 502 or 5xx or 502,504',
  },
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
  format: {
    type: 'string',
    arg: 'F',
    help: 'alb or cloudfront: read every file as that format (default: detected per file)',
  },
  ...AWS_FLAGS,
  concurrency: { type: 'string', arg: 'N', help: 'parallel S3 downloads (default 8)' },
  ...ATHENA_FLAGS,
} as const;

const usage = helpText({
  usage: `Usage: throttlescope logs <source...> [options]
       throttlescope logs athena://<database>.<table> [options]
       throttlescope logs athena-table s3://bucket/[prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/ --database D --table T [--apply]`,
  about: `Analyse ALB access logs and CloudFront standard logs (each file's format told by its name as AWS
writes it, else by its first line). A source is a file (.log or .gz), a directory (read recursively),
- for stdin, or s3://bucket/prefix (AWS SDK default credentials); or athena://db.table, where Amazon
Athena computes the same summary (docs/athena.md). athena-table prints the AWS-documented table for a
log folder (a dry run) and creates it with --apply. Progress (files and bytes read)
goes to stderr: a live line on a terminal, a plain line every 5 s otherwise, none with --json.`,
  flags: FLAGS,
  footer: `Exit: 0 read (skipped lines among good ones are a warning), 2 usage, 3 nothing could be read
(every line malformed, or a source failed: missing, unreadable, truncated gzip), 4 S3 refused.`,
});

/**
 * The `--json` document (docs/logs.md), the same from local sources and from Athena; with
 * `cloudfront` when CloudFront logs were read.
 */
function summaryJson(summary: LogSummary, cloudfront?: CloudFrontSummary): string {
  const undocumented = undocumentedErrorReasons(Object.keys(summary.byErrorReason));
  const doc = { ...summary, undocumentedErrorReasons: undocumented, ...(cloudfront ? { cloudfront } : {}) };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export const command: Command = {
  name: 'logs',
  summary: 'analyse ALB access logs and CloudFront standard logs',
  usage,
  flagTables: [FLAGS],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags('logs', FLAGS, argv);
    const aws = awsConnectionFrom(values, ctx.env);
    if (positionals[0] === 'athena-table') return runAthenaTable(positionals.slice(1), values, aws, ctx);
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
    const format = values.format;
    if (format !== undefined && format !== 'alb' && format !== 'cloudfront')
      throw new UsageError(`logs: --format expects alb or cloudfront, got "${format}"`);

    if (positionals.some((p) => p.startsWith('athena://'))) {
      if (positionals.length !== 1 || values.records)
        throw new UsageError('logs: an athena:// source is read alone, without other sources or --records');
      const analysis = await runAthenaLogs(
        positionals[0] as string,
        values,
        { sinceMs, untilMs, filter, top },
        aws,
        ctx,
      );
      ctx.stderr.write(athenaReportLine(analysis));
      const s = analysis.summary;
      if (s.lines === 0 && s.malformed > 0 && !ctx.signal.aborted) {
        throw new ThrottlescopeError(
          'TS_LOG_UNREADABLE',
          `nothing could be read from ${positionals[0]}: none of its ${s.malformed.toLocaleString('en-US')} row(s) matched the table's regex`,
        );
      }
      ctx.stdout.write(values.json ? summaryJson(s) : renderLogAnalysis(analysis, top));
      if (s.malformed > 0)
        ctx.stderr.write(`warning: ${s.malformed} lines did not match the table's regex\n`);
      return ExitCode.ok;
    }
    const progress = progressFor(ctx, { json: values.json === true });
    const analysis = await analyseAlbLogs(positionals, {
      sinceMs,
      untilMs,
      filter,
      recordsPath: values.records,
      concurrency,
      format,
      signal: ctx.signal,
      stdin: ctx.stdin as Readable,
      aws,
      onProgress: (p) => progress.update(readProgress(p)),
    }).finally(() => progress.done());
    const { summary, cloudfront } = analysis;
    const lines = summary.lines + (cloudfront?.lines ?? 0);
    const malformedLines = summary.malformed + (cloudfront?.malformed ?? 0);
    if (lines === 0 && malformedLines > 0 && analysis.errors.length === 0 && !ctx.signal.aborted) {
      // Every line was rejected: an all-zero summary would read as "no traffic", so none is printed.
      const first = analysis.malformedExamples[0]?.message;
      throw new ThrottlescopeError(
        'TS_LOG_UNREADABLE',
        `nothing could be read from ${positionals.join(', ')}: all ${malformedLines.toLocaleString('en-US')} line(s) are malformed, none is an ALB access-log ${cloudfront ? 'or CloudFront standard-log ' : ''}entry${first ? ` (first: ${first})` : ''}`,
      );
    }
    summary.topFailingPaths = summary.topFailingPaths.slice(0, top);
    ctx.stdout.write(values.json ? summaryJson(summary, cloudfront) : renderLogAnalysis(analysis, top));
    for (const example of analysis.malformedExamples)
      ctx.stderr.write(`warning: skipped ${safeForTerminal(example.message)}\n`);
    if (malformedLines > analysis.malformedExamples.length) {
      ctx.stderr.write(`warning: ${malformedLines} malformed lines skipped in all\n`);
    }
    for (const e of analysis.errors) ctx.stderr.write(`error: ${safeForTerminal(e.message)}\n`);
    if (ctx.signal.aborted) return ExitCode.interrupted;
    if (analysis.errors.length > 0) {
      const remote = analysis.errors.some((e) => e.source.startsWith('s3://') && !/gzip/.test(e.message));
      return remote && lines === 0 ? ExitCode.remote : ExitCode.input;
    }
    if (summary.files === 0 && !cloudfront) {
      throw new ThrottlescopeError('TS_LOG_SOURCE', `no log files found in ${positionals.join(', ')}`);
    }
    return ExitCode.ok;
  },
};
