/**
 * The log summary computed by Athena: the same LogAnalysis document the local engine produces
 * (aggregate.ts), from one query over the AWS-documented table, its rows streamed and folded
 * here. Where Athena's table reads a line differently from our parser, the difference is in
 * docs/athena.md.
 */
import type { AwsConnection } from '../../common/aws.js';
import { ThrottlescopeError, UsageError } from '../../common/errors.js';
import type { LogFilter, LogSummary, MinuteBucket, PathCount } from '../aggregate.js';
import type { LogAnalysis } from '../analyse.js';
import { S3LogSource } from '../sources/s3.js';
import type { ReadStats } from '../sources.js';
import {
  ATHENA_ERROR_CODES,
  AthenaQueryRunner,
  type AthenaSettings,
  type CompletedQuery,
  type QueryRecord,
} from './client.js';
import { checkAthenaName } from './ddl.js';
import {
  type AthenaTableRef,
  type AthenaWindow,
  failedTracesQuery,
  SUMMARY_COLUMNS,
  SUMMARY_SETS,
  summaryQuery,
  TRACE_COLUMNS,
} from './sql.js';

/** `athena://<database>.<table>[?workgroup=W&output=s3://bucket/prefix/&catalog=C]` */
export interface AthenaSource extends AthenaTableRef {
  settings: AthenaSettings;
}

export const isAthenaSource = (spec: string): boolean => spec.startsWith('athena://');

export function parseAthenaSource(spec: string): AthenaSource {
  const m = /^athena:\/\/([^./?]+)\.([^./?]+)(?:\?(.*))?$/.exec(spec);
  if (!m) throw new UsageError(`expected athena://<database>.<table>, got "${spec}"`);
  const params = new URLSearchParams(m[3] ?? '');
  for (const key of params.keys()) {
    if (!['workgroup', 'output', 'catalog'].includes(key)) {
      throw new UsageError(`${spec}: unknown parameter "${key}" (workgroup, output, catalog)`);
    }
  }
  return {
    database: checkAthenaName('database', m[1] as string),
    table: checkAthenaName('table', m[2] as string),
    settings: {
      database: m[1],
      workGroup: params.get('workgroup') ?? undefined,
      outputLocation: params.get('output') ?? undefined,
      catalog: params.get('catalog') ?? undefined,
    },
  };
}

export interface AthenaScanReport {
  queries: QueryRecord[];
  bytesScanned: number;
  costUsd: number;
  /** With --max-scan: the stored size of the objects under the window's partitions, listed first. */
  listedBytes?: number | undefined;
}

export interface AthenaLogAnalysis extends LogAnalysis {
  athena: AthenaScanReport;
}

export interface AthenaAnalyseOptions extends AthenaWindow {
  filter?: LogFilter | undefined;
  topPaths?: number | undefined;
  /** Refuse to query when the objects under the window's partitions exceed this many bytes. */
  maxScanBytes?: number | undefined;
  /** For --max-scan: lists S3 (the table's location) with these. */
  aws?: AwsConnection | undefined;
  signal?: AbortSignal | undefined;
}

function columnIndex(q: CompletedQuery, wanted: readonly string[]): number[] {
  const index = wanted.map((c) => q.columns.indexOf(c));
  const missing = wanted.filter((_, i) => (index[i] as number) < 0);
  if (missing.length > 0) {
    throw new ThrottlescopeError(
      ATHENA_ERROR_CODES.badResult,
      `Athena query ${q.record.id} returned columns ${q.columns.join(', ')}; missing ${missing.join(', ')}`,
    );
  }
  return index;
}

const count = (v: string | null): number => (v === null ? 0 : Number(v));

const inc = (m: Record<string, number>, k: string, by: number) => {
  m[k] = (m[k] ?? 0) + by;
};

/** The N paths with most failures (ties: path order), kept while paths stream by in path order. */
class TopPaths {
  readonly top: PathCount[] = [];
  constructor(private readonly n: number) {}
  offer(p: PathCount): void {
    const worse = (a: PathCount, b: PathCount) =>
      a.failures < b.failures || (a.failures === b.failures && a.path > b.path);
    if (this.top.length >= this.n && !worse(this.top[this.top.length - 1] as PathCount, p)) return;
    let i = this.top.length;
    while (i > 0 && worse(this.top[i - 1] as PathCount, p)) i--;
    this.top.splice(i, 0, p);
    if (this.top.length > this.n) this.top.pop();
  }
}

/**
 * The stored size of the objects a query of the window would read: the table's projected day
 * folders (or its location) listed in S3 by the S3 log source (one prefix per day of the window
 * at an ALB region folder), as Athena bills the compressed bytes it reads. Objects whose names
 * put them outside the window count too: Athena reads whole `day` partitions.
 */
export async function listedScanBytes(
  runner: AthenaQueryRunner,
  source: AthenaTableRef,
  window: AthenaWindow,
  aws: AwsConnection,
  signal?: AbortSignal,
): Promise<number> {
  const params = await runner.tableParameters(source.database, source.table);
  const template = params['storage.location.template'];
  const placeholder = `\${day}`;
  const location = template?.includes(placeholder)
    ? template.slice(0, template.indexOf(placeholder))
    : params.location;
  if (!location?.startsWith('s3://')) {
    throw new ThrottlescopeError(
      ATHENA_ERROR_CODES.badResult,
      `--max-scan: table ${source.database}.${source.table} names no S3 location to list`,
    );
  }
  const s3 = new S3LogSource(location.endsWith('/') ? location : `${location}/`, { aws });
  let bytes = 0;
  try {
    for await (const o of s3.list({ sinceMs: window.sinceMs, untilMs: window.untilMs }, signal))
      bytes += o.size ?? 0;
  } finally {
    s3.close();
  }
  return bytes;
}

/**
 * `logs athena://db.table`: the summary as the local engine makes it, from one Athena query.
 * Without a window every partition is read (Athena bills the bytes; --max-scan guards).
 */
export async function analyseOnAthena(
  runner: AthenaQueryRunner,
  source: AthenaTableRef,
  options: AthenaAnalyseOptions = {},
): Promise<AthenaLogAnalysis> {
  const window: AthenaWindow = { sinceMs: options.sinceMs, untilMs: options.untilMs };
  let listedBytes: number | undefined;
  if (options.maxScanBytes !== undefined) {
    listedBytes = await listedScanBytes(runner, source, window, options.aws ?? {}, options.signal);
    if (listedBytes > options.maxScanBytes) {
      throw new ThrottlescopeError(
        ATHENA_ERROR_CODES.scanLimit,
        `--max-scan: the logs under the window's partitions hold ${(listedBytes / 1e9).toFixed(3)} GB (compressed), over the ${(options.maxScanBytes / 1e9).toFixed(3)} GB allowed; nothing was queried (narrow --since/--until or raise --max-scan)`,
      );
    }
  }
  const q = await runner.run(summaryQuery(source, window, options.filter ?? {}));
  const [iSet, iKind, iMinute, iStatus, iReason, iTg, iPath, iEntries, iFirst, iLast, iObjects] = columnIndex(
    q,
    SUMMARY_COLUMNS,
  ) as number[] as [number, number, number, number, number, number, number, number, number, number, number];

  const kinds: Record<string, number> = {};
  let objects = 0;
  let requests = 0;
  let firstTime: string | null = null;
  let lastTime: string | null = null;
  const byElbStatus: Record<string, number> = {};
  const byErrorReason: Record<string, number> = {};
  const byTargetGroup = new Map<string, { requests: number; byErrorReason: Record<string, number> }>();
  const minutes = new Map<string, Omit<MinuteBucket, 'minute'>>();
  const top = new TopPaths(options.topPaths ?? 10);
  let path: PathCount | undefined;

  for await (const row of q.rows()) {
    const set = Number(row[iSet]);
    const n = count(row[iEntries] ?? null);
    if (set === SUMMARY_SETS.total) {
      objects = count(row[iObjects] ?? null);
    } else if (set === SUMMARY_SETS.byKind) {
      inc(kinds, row[iKind] ?? 'null', n);
    } else if (set === SUMMARY_SETS.counted && row[iKind] === 'counted') {
      const status = row[iStatus] ?? '-';
      const reason = row[iReason] ?? null;
      const tgKey = row[iTg] ?? '-';
      const minute = row[iMinute] as string;
      requests += n;
      const first = row[iFirst] ?? null;
      const last = row[iLast] ?? null;
      if (first !== null && (firstTime === null || first < firstTime)) firstTime = first;
      if (last !== null && (lastTime === null || last > lastTime)) lastTime = last;
      inc(byElbStatus, status, n);
      let tg = byTargetGroup.get(tgKey);
      if (!tg) {
        tg = { requests: 0, byErrorReason: {} };
        byTargetGroup.set(tgKey, tg);
      }
      tg.requests += n;
      let bucket = minutes.get(minute);
      if (!bucket) {
        bucket = { requests: 0, byElbStatus: {}, byErrorReason: {}, fiveXx: {} };
        minutes.set(minute, bucket);
      }
      bucket.requests += n;
      inc(bucket.byElbStatus, status, n);
      if (reason !== null) {
        inc(byErrorReason, reason, n);
        inc(tg.byErrorReason, reason, n);
        inc(bucket.byErrorReason, reason, n);
      }
      const code = Number(status);
      if (status !== '-' && code >= 500) inc(bucket.fiveXx, reason ?? `elb ${status}`, n);
    } else if (set === SUMMARY_SETS.paths && row[iPath] !== null && row[iPath] !== undefined) {
      const p = row[iPath] as string;
      if (path?.path !== p) {
        if (path) top.offer(path);
        path = { path: p, failures: 0, byErrorReason: {} };
      }
      path.failures += n;
      inc(path.byErrorReason, row[iReason] ?? (row[iStatus] as string), n);
    }
  }
  if (path) top.offer(path);

  const lines = (kinds.counted ?? 0) + (kinds.outside ?? 0) + (kinds.filtered ?? 0);
  const malformed = kinds.malformed ?? 0;
  const summary: LogSummary = {
    lines,
    malformed,
    files: objects,
    firstTime,
    lastTime,
    requests,
    byElbStatus,
    byErrorReason,
    byTargetGroup: Object.fromEntries(
      [...byTargetGroup.entries()].sort((a, b) => b[1].requests - a[1].requests || (a[0] < b[0] ? -1 : 1)),
    ),
    topFailingPaths: top.top,
    series: [...minutes.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([minute, b]) => ({ minute: `${minute}:00.000Z`, ...b })),
  };
  const read: ReadStats = {
    files: objects,
    skippedFiles: 0,
    lines,
    malformed,
    outsideWindow: kinds.outside ?? 0,
    bytes: runner.bytesScanned,
    errors: [],
  };
  return {
    summary,
    read,
    malformedExamples: [],
    errors: [],
    athena: {
      queries: [...runner.queries],
      bytesScanned: runner.bytesScanned,
      costUsd: runner.costUsd,
      listedBytes,
    },
  };
}

/** `analyseOnAthena` for one `athena://` source, its runner made and closed here (verify's use). */
export async function analyseAthenaSource(
  spec: string,
  aws: AwsConnection,
  options: Omit<AthenaAnalyseOptions, 'aws'> = {},
): Promise<AthenaLogAnalysis> {
  const source = parseAthenaSource(spec);
  const runner = await AthenaQueryRunner.create({ aws, settings: source.settings, signal: options.signal });
  try {
    return await analyseOnAthena(runner, source, { ...options, aws });
  } finally {
    runner.close();
  }
}

export interface AthenaLoggedFailure {
  timeMs: number;
  elbStatusCode: number | null;
  errorReason: string | null;
  targetGroup: string;
  path: string | null;
}

/** Diagnose's lookup: the failed entries of these trace roots, in one bounded query. */
export async function failedTracesOnAthena(
  runner: AthenaQueryRunner,
  source: AthenaTableRef,
  window: AthenaWindow,
  roots: readonly string[],
): Promise<Map<string, AthenaLoggedFailure>> {
  const out = new Map<string, AthenaLoggedFailure>();
  if (roots.length === 0) return out;
  const q = await runner.run(failedTracesQuery(source, window, roots));
  const [iRoot, iTime, iStatus, iReason, iTg, iPath] = columnIndex(q, TRACE_COLUMNS) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  for await (const row of q.rows()) {
    const root = row[iRoot];
    if (!root) continue;
    const status = row[iStatus];
    const p = row[iPath] ?? null;
    out.set(root, {
      timeMs: Date.parse(row[iTime] ?? ''),
      elbStatusCode: status === null || status === undefined ? null : Number(status),
      errorReason: row[iReason] ?? null,
      targetGroup: row[iTg] ?? '-',
      path: p === '-' ? null : p,
    });
  }
  return out;
}
