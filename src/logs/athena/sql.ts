/**
 * The SQL that runs throttlescope's log summary on Athena, over the AWS-documented table (ddl.ts).
 * Pure: text in, text out. Written in the SQL common to Trino (Athena engine v3) and DuckDB (the
 * lab): string comparisons and substr on the ISO-8601 `time` rather than timestamp functions,
 * whose parsing, precision and rendering differ between the two (cloudfront-athena-facts.md B3).
 */
import type { LogFilter } from '../aggregate.js';
import { DELIVERY_INTERVAL_MS } from '../s3-key.js';

export interface AthenaTableRef {
  database: string;
  table: string;
}

export interface AthenaWindow {
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
}

/** A window's last entries may be delivered in the next day's folder (a file is named by its end). */
const DELIVERY_SLACK_MS = 2 * DELIVERY_INTERVAL_MS;

export const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `yyyy/MM/dd`, the projected `day` of the folder an entry at `ms` is delivered to. */
export function partitionDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

/** The first and last `day` partitions that can hold entries of the window (undefined = unbounded). */
export function partitionRange(w: AthenaWindow): { first?: string | undefined; last?: string | undefined } {
  return {
    first: w.sinceMs === undefined ? undefined : partitionDay(w.sinceMs),
    last: w.untilMs === undefined ? undefined : partitionDay(w.untilMs + DELIVERY_SLACK_MS),
  };
}

/**
 * ISO-8601 with six fraction digits, as the ALB writes `time`: compared as text with the same
 * result as the local engine's millisecond comparison (`2024-05-01T12:00:00.000500Z` is at or
 * after `...00.000000Z`, as its 12:00:00.000 is at or after 12:00:00.000).
 */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

const TIME_SHAPE = String.raw`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`;

/** `targetgroup/<name>/<id>` out of the ARN, `-` when absent: targetGroupDimension in SQL. */
const TARGET_GROUP = `CASE WHEN target_group_arn IS NULL OR target_group_arn = '-' THEN '-' WHEN strpos(target_group_arn, 'targetgroup/') > 0 THEN substr(target_group_arn, strpos(target_group_arn, 'targetgroup/')) ELSE target_group_arn END`;

/**
 * The path of the request URL, as `requestPath` reads it: after the first `://` up to the next
 * `/`, or from a leading `/`, up to `?`; `-` otherwise. regexp_extract returns NULL (Trino) or ''
 * (DuckDB) when nothing matches; nullif makes them one.
 */
const PATH = `CASE WHEN strpos(request_url, '://') > 1 THEN coalesce(nullif(regexp_extract(request_url, '^.*?://[^/]*(/[^?]*)', 1), ''), '/') WHEN substr(request_url, 1, 1) = '/' THEN regexp_extract(request_url, '^[^?]*', 0) ELSE '-' END`;

const REASON = `nullif(lambda_error_reason, '-')`;

function dayPredicate(w: AthenaWindow): string[] {
  const { first, last } = partitionRange(w);
  if (first !== undefined && last !== undefined)
    return [`day BETWEEN ${sqlString(first)} AND ${sqlString(last)}`];
  if (first !== undefined) return [`day >= ${sqlString(first)}`];
  if (last !== undefined) return [`day <= ${sqlString(last)}`];
  return [];
}

function windowPredicate(w: AthenaWindow): string[] {
  const out: string[] = [];
  if (w.sinceMs !== undefined) out.push(`time >= ${sqlString(isoMicros(w.sinceMs))}`);
  if (w.untilMs !== undefined) out.push(`time < ${sqlString(isoMicros(w.untilMs))}`);
  return out;
}

/** The filters of `logs` (--status, --reason, --target-group) as a predicate; matchesFilter in SQL. */
export function filterPredicate(f: LogFilter): string[] {
  const out: string[] = [];
  if (f.statuses) {
    const parts = [...f.statuses.codes].map((c) => `elb_status_code = ${Math.trunc(c)}`);
    for (const k of f.statuses.classes) parts.push(`elb_status_code BETWEEN ${k * 100} AND ${k * 100 + 99}`);
    out.push(parts.length > 0 ? `(${parts.join(' OR ')})` : 'FALSE');
  }
  if (f.reasons) {
    out.push(f.reasons.size > 0 ? `${REASON} IN (${[...f.reasons].map(sqlString).join(', ')})` : 'FALSE');
  }
  if (f.targetGroups && f.targetGroups.length > 0) {
    const parts = f.targetGroups.map((want) => {
      const w = sqlString(want);
      return `(${TARGET_GROUP}) = ${w} OR target_group_arn = ${w} OR split_part(${TARGET_GROUP}, '/', 2) = ${w}`;
    });
    out.push(`(${parts.join(' OR ')})`);
  }
  return out;
}

const from = (t: AthenaTableRef) => `${ident(t.database)}.${ident(t.table)}`;
const where = (conditions: string[]) => (conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '');

/** `grouping(kind, minute, status, reason, target_group, path)` of each grouping set (bit set = not grouped). */
export const SUMMARY_SETS = {
  total: 0b111111,
  byKind: 0b011111,
  counted: 0b000001,
  paths: 0b110010,
} as const;

/** The columns of a summary query's result, in order. */
export const SUMMARY_COLUMNS = [
  'grouping_set',
  'kind',
  'minute',
  'status',
  'reason',
  'target_group',
  'path',
  'entries',
  'first_time',
  'last_time',
  'objects',
] as const;

/**
 * One query, one scan, for the whole summary: every entry of the window's partitions is
 * `malformed` (the regex did not match it, or its time is not ISO-8601 UTC), `outside` the
 * window, `filtered` out, or `counted`; counted entries are grouped by minute, status, reason and
 * target group, and the 5xx ones by path. Grouping sets give the totals (and the objects read) in
 * the same pass. Rows come ordered by grouping set, then path, so paths can be ranked as they
 * stream by.
 */
export function summaryQuery(t: AthenaTableRef, w: AthenaWindow, filter: LogFilter = {}): string {
  const inWindow = windowPredicate(w);
  const matches = filterPredicate(filter);
  const kind = [
    `CASE`,
    `      WHEN type IS NULL OR NOT regexp_like(time, ${sqlString(TIME_SHAPE)}) THEN 'malformed'`,
    // coalesce: a comparison with NULL (an absent reason) is unknown, and must not count.
    inWindow.length > 0 ? `      WHEN NOT coalesce(${inWindow.join(' AND ')}, FALSE) THEN 'outside'` : '',
    matches.length > 0 ? `      WHEN NOT coalesce(${matches.join(' AND ')}, FALSE) THEN 'filtered'` : '',
    `      ELSE 'counted'`,
    `    END`,
  ]
    .filter((s) => s !== '')
    .join('\n');
  const counted = (expr: string) => `CASE WHEN kind = 'counted' THEN ${expr} END`;
  return `WITH entries AS (
  SELECT "$path" AS object, ${kind} AS kind,
    time, elb_status_code, lambda_error_reason, target_group_arn, request_url
  FROM ${from(t)}
  ${where(dayPredicate(w))}
), counted AS (
  SELECT object, kind,
    ${counted('substr(time, 1, 16)')} AS minute,
    ${counted(`coalesce(CAST(elb_status_code AS varchar), '-')`)} AS status,
    ${counted(REASON)} AS reason,
    ${counted(TARGET_GROUP)} AS target_group,
    CASE WHEN kind = 'counted' AND elb_status_code >= 500 THEN ${PATH} END AS path,
    ${counted('time')} AS time
  FROM entries
)
SELECT grouping(kind, minute, status, reason, target_group, path) AS grouping_set,
  kind, minute, status, reason, target_group, path,
  count(*) AS entries, min(time) AS first_time, max(time) AS last_time, count(DISTINCT object) AS objects
FROM counted
GROUP BY GROUPING SETS ((), (kind), (kind, minute, status, reason, target_group), (path, status, reason))
ORDER BY grouping_set, path, status, reason`;
}

/** The columns of a failed-trace query's result, in order. */
export const TRACE_COLUMNS = [
  'trace_root',
  'time',
  'elb_status_code',
  'reason',
  'target_group',
  'path',
] as const;

/**
 * The failed entries (4xx/5xx) of the window whose trace root is one of `roots`: how diagnose
 * finds the probe's failures in the logs. Bounded: at most one row per root and entry.
 */
export function failedTracesQuery(t: AthenaTableRef, w: AthenaWindow, roots: readonly string[]): string {
  const safe = roots.filter((r) => /^1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}$/.test(r));
  const root = `regexp_extract(trace_id, 'Root=(1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24})', 1)`;
  const conditions = [
    ...dayPredicate(w),
    ...windowPredicate(w),
    'elb_status_code >= 400',
    safe.length > 0 ? `${root} IN (${safe.map(sqlString).join(', ')})` : 'FALSE',
  ];
  return `SELECT ${root} AS trace_root, time, elb_status_code, ${REASON} AS reason, ${TARGET_GROUP} AS target_group,
  CASE WHEN request_url IS NULL THEN NULL ELSE ${PATH} END AS path
FROM ${from(t)}
${where(conditions)}
LIMIT ${Math.max(1, safe.length * 4)}`;
}
