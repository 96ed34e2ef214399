/**
 * The Athena side of `logs`: `logs athena://db.table` (the summary computed by Athena) and
 * `logs athena-table s3://.../ --database D --table T [--apply]` (the AWS-documented table; a dry
 * run unless --apply). Flags are parsed by logs.ts; this file calls the library and prints.
 */
import { ExitCode, UsageError } from '../../common/errors.js';
import { safeForTerminal } from '../../common/terminal.js';
import type { LogFilter } from '../../logs/aggregate.js';
import { AthenaQueryRunner, type AthenaSettings } from '../../logs/athena/client.js';
import { albAthenaDdl } from '../../logs/athena/ddl.js';
import { type AthenaLogAnalysis, analyseOnAthena, parseAthenaSource } from '../../logs/athena/summary.js';
import type { AwsOptions } from '../../logs/sources.js';
import type { CliContext } from '../context.js';
import { numberFlag } from '../flags.js';

/** The flags of `logs` for Athena sources and `logs athena-table` (logs.ts adds them to its table). */
export const ATHENA_FLAGS = {
  workgroup: {
    type: 'string',
    arg: 'W',
    help: 'Athena workgroup (default primary)',
    section: 'Athena (athena://db.table and athena-table):',
  },
  output: {
    type: 'string',
    arg: 'S3URL',
    help: 'Athena result location s3://bucket/prefix/ (unless the workgroup sets one)',
  },
  catalog: { type: 'string', arg: 'C', help: 'Athena data catalog (default AwsDataCatalog)' },
  'max-scan': {
    type: 'string',
    arg: 'GB',
    help: 'refuse to query when the logs under the window exceed GB (compressed, listed first)',
  },
  database: { type: 'string', arg: 'D', help: 'athena-table: the database to create the table in' },
  table: { type: 'string', arg: 'T', help: 'athena-table: the table name' },
  apply: { type: 'boolean', help: 'athena-table: create them (a dry run prints the statements)' },
} as const;

export interface AthenaFlags {
  workgroup?: string | undefined;
  output?: string | undefined;
  catalog?: string | undefined;
  'max-scan'?: string | undefined;
  database?: string | undefined;
  table?: string | undefined;
  apply?: boolean | undefined;
}

/** Flags win over the source's own `?workgroup=&output=&catalog=`. */
function settingsFrom(base: AthenaSettings, flags: AthenaFlags): AthenaSettings {
  if (flags.output !== undefined && !/^s3:\/\/[^/]+/.test(flags.output))
    throw new UsageError(`logs: --output expects s3://bucket/prefix/, got "${flags.output}"`);
  return {
    ...base,
    workGroup: flags.workgroup ?? base.workGroup,
    outputLocation: flags.output ?? base.outputLocation,
    catalog: flags.catalog ?? base.catalog,
  };
}

/** One stderr line: what Athena scanned and what it cost, with the query ids. */
export function athenaReportLine(a: AthenaLogAnalysis): string {
  const mb = (a.athena.bytesScanned / 1e6).toFixed(3);
  // Query ids come from the service: printed only once made safe for a terminal.
  const ids = safeForTerminal(a.athena.queries.map((q) => q.id).join(', '));
  const listed =
    a.athena.listedBytes === undefined ? '' : `; listed ${(a.athena.listedBytes / 1e6).toFixed(3)} MB first`;
  return `athena: ${a.athena.queries.length} quer${a.athena.queries.length === 1 ? 'y' : 'ies'} (${ids}), scanned ${mb} MB, about $${a.athena.costUsd.toFixed(6)} at $5/TB (10 MB minimum a query)${listed}\n`;
}

export async function runAthenaLogs(
  spec: string,
  flags: AthenaFlags,
  query: { sinceMs?: number | undefined; untilMs?: number | undefined; filter: LogFilter; top: number },
  aws: AwsOptions,
  ctx: CliContext,
): Promise<AthenaLogAnalysis> {
  const source = parseAthenaSource(spec);
  const maxScanGb = numberFlag('logs', 'max-scan', flags['max-scan'], { min: 0 });
  const runner = await AthenaQueryRunner.create({
    aws,
    settings: settingsFrom(source.settings, flags),
    signal: ctx.signal,
  });
  try {
    return await analyseOnAthena(runner, source, {
      sinceMs: query.sinceMs,
      untilMs: query.untilMs,
      filter: query.filter,
      topPaths: query.top,
      maxScanBytes: maxScanGb === undefined ? undefined : maxScanGb * 1e9,
      aws,
      signal: ctx.signal,
    });
  } finally {
    runner.close();
  }
}

export async function runAthenaTable(
  positionals: string[],
  flags: AthenaFlags,
  aws: AwsOptions,
  ctx: CliContext,
): Promise<number> {
  if (positionals.length !== 1) {
    throw new UsageError(
      'logs athena-table: give the log folder s3://bucket/[prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/',
    );
  }
  if (!flags.database || !flags.table)
    throw new UsageError('logs athena-table: --database and --table are required');
  const statements = albAthenaDdl({
    location: positionals[0] as string,
    database: flags.database,
    table: flags.table,
  });
  if (!flags.apply) {
    const shown = statements.map((s) => `${s.split('\n').map(safeForTerminal).join('\n')};`);
    ctx.stdout.write(`${shown.join('\n\n')}\n`);
    ctx.stderr.write(
      'dry run: nothing was created (run again with --apply to create the database and table)\n',
    );
    return ExitCode.ok;
  }
  const runner = await AthenaQueryRunner.create({
    aws,
    settings: settingsFrom({ database: 'default' }, flags),
    signal: ctx.signal,
  });
  try {
    for (const sql of statements) {
      const done = await runner.run(sql);
      const what = sql.split('\n')[0]?.replace(/ \($/, '') ?? '';
      ctx.stdout.write(`${safeForTerminal(`${what}: ${done.record.state} (query ${done.record.id})`)}\n`);
    }
  } finally {
    runner.close();
  }
  ctx.stdout.write(`query it with: throttlescope logs athena://${flags.database}.${flags.table}\n`);
  return ExitCode.ok;
}
