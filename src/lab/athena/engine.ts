/**
 * The SQL engine behind the lab's Athena: DuckDB, in memory, one statement at a time. A table
 * made by CREATE EXTERNAL TABLE (RegexSerDe) is a DuckDB view that applies the table's own
 * `input.regex` to the lines of the objects under its projected locations in the lab's S3; each
 * query first loads the lines of the partitions it names (its `day` comparisons), as Athena reads
 * only those, and reports their stored (compressed) size as the bytes scanned.
 *
 * This is a test double for a distributed engine: the same SQL answers, not the same scale,
 * speed, limits or every Trino function (docs/athena.md).
 */
import { gunzipSync } from 'node:zlib';
import type { LabObjectStore } from '../backend.js';
import {
  AthenaStatementError,
  dayAllowed,
  type ExternalTable,
  type HiveType,
  parseStatement,
  partitionConstraint,
} from './hive-ddl.js';

type DuckDb = typeof import('@duckdb/node-api');
type Connection = import('@duckdb/node-api').DuckDBConnection;

/** Raised when the optional engine is not installed; the endpoint answers it as Athena would refuse. */
export class EngineMissingError extends Error {
  constructor(cause: unknown) {
    super(
      `the lab's Athena needs the optional dependency @duckdb/node-api, which could not be loaded (${cause instanceof Error ? cause.message : String(cause)}); install it with npm install @duckdb/node-api`,
    );
    this.name = 'EngineMissingError';
  }
}

/** A statement that ran and failed: Athena reports these as FAILED with this reason. */
export class QueryFailedError extends Error {
  constructor(
    message: string,
    readonly errorType: number,
  ) {
    super(message);
    this.name = 'QueryFailedError';
  }
}

export interface EngineResult {
  statementType: 'DDL' | 'DML' | 'UTILITY';
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
  scannedBytes: number;
}

const CATALOG = 'awsdatacatalog';
const INTERNAL_SCHEMA = '__lab_lines';

/**
 * Trino functions throttlescope's queries (and AWS's examples) use that DuckDB lacks or names
 * differently (cloudfront-athena-facts.md B3).
 */
const TRINO_MACROS = [
  // Trino parses ISO-8601 text to a timestamp with time zone.
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
  `CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)`,
  `CREATE OR REPLACE MACRO approx_percentile(x, p) AS approx_quantile(CAST(x AS DOUBLE), p)`,
  // Only for the pattern of AWS's examples, yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'; fmt is not read.
  `CREATE OR REPLACE MACRO parse_datetime(s, fmt) AS strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ')`,
];

let duckdbModule: Promise<DuckDb> | undefined;

/** @duckdb/node-api, imported on the first Athena call (it is an optional dependency). */
async function loadDuckDb(): Promise<DuckDb> {
  duckdbModule ??= import('@duckdb/node-api').catch((error: unknown) => {
    duckdbModule = undefined;
    throw new EngineMissingError(error);
  });
  return duckdbModule;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

const DUCK_TYPES: Record<HiveType, string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  float: 'FLOAT',
  boolean: 'BOOLEAN',
  smallint: 'SMALLINT',
  tinyint: 'TINYINT',
};

/** DuckDB's type names as Athena's ColumnInfo.Type spells them. */
function athenaType(duck: string): string {
  const t = duck.toUpperCase();
  if (t === 'VARCHAR') return 'varchar';
  if (t === 'INTEGER') return 'integer';
  if (t === 'BIGINT' || t === 'HUGEINT' || t === 'UBIGINT') return 'bigint';
  if (t === 'DOUBLE' || t === 'FLOAT') return 'double';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP')) return t.includes('TIME ZONE') ? 'timestamp with time zone' : 'timestamp';
  if (t.startsWith('DECIMAL')) return 'decimal';
  return t.toLowerCase();
}

/** The day folders of a projected `${day}` location, given the objects' keys under its base. */
const DAY_IN_KEY = /^(\d{4}\/\d{2}\/\d{2})\//;

export class LabAthenaEngine {
  private connection: Promise<Connection> | undefined;
  private readonly databases = new Set<string>(['default']);
  private readonly tables = new Map<string, ExternalTable>();
  private running: Connection | undefined;
  /** Set by interrupt(), cleared when the next statement starts: a stop that comes before DuckDB runs. */
  private cancelRequested = false;

  constructor(private readonly objects: LabObjectStore) {}

  private async connect(): Promise<Connection> {
    this.connection ??= (async () => {
      const duckdb = await loadDuckDb();
      const instance = await duckdb.DuckDBInstance.create(':memory:');
      const c = await instance.connect();
      await c.run(`ATTACH ':memory:' AS ${CATALOG}`);
      await c.run(`USE ${CATALOG}`);
      await c.run(`SET TimeZone = 'UTC'`);
      await c.run(`CREATE SCHEMA IF NOT EXISTS ${CATALOG}.${ident('default')}`);
      await c.run(`CREATE SCHEMA IF NOT EXISTS ${CATALOG}.${INTERNAL_SCHEMA}`);
      for (const m of TRINO_MACROS) await c.run(m);
      return c;
    })().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }

  /** Loads the engine, so that a missing one is reported when the query is submitted. */
  async ready(): Promise<void> {
    await this.connect();
  }

  /**
   * Stops the statement running now. DuckDB ignores an interrupt that arrives before its query
   * starts, so it is repeated until the statement ends, and a statement not yet at DuckDB is
   * cancelled before it gets there.
   */
  interrupt(): void {
    this.cancelRequested = true;
    const c = this.running;
    if (!c) return;
    c.interrupt();
    const again = setInterval(() => {
      if (this.running === c) c.interrupt();
      else clearInterval(again);
    }, 25);
    again.unref();
  }

  /** The table a DDL statement made (for GetTableMetadata), if any. */
  table(database: string, name: string): ExternalTable | undefined {
    return this.tables.get(`${database}.${name}`);
  }

  hasDatabase(name: string): boolean {
    return this.databases.has(name);
  }

  /** Runs one statement; a failure of the statement itself is a QueryFailedError. */
  async execute(sql: string, database: string): Promise<EngineResult> {
    this.cancelRequested = false;
    const c = await this.connect();
    let statement: ReturnType<typeof parseStatement>;
    try {
      statement = parseStatement(sql, database);
    } catch (error) {
      if (error instanceof AthenaStatementError) throw new QueryFailedError(error.message, 1002);
      throw error;
    }
    const ddl = (): EngineResult => ({ statementType: 'DDL', columns: [], rows: [], scannedBytes: 0 });
    switch (statement.kind) {
      case 'create-database': {
        if (this.databases.has(statement.name)) {
          if (statement.ifNotExists) return ddl();
          throw new QueryFailedError(`FAILED: Database ${statement.name} already exists`, 1002);
        }
        await c.run(`CREATE SCHEMA ${CATALOG}.${ident(statement.name)}`);
        this.databases.add(statement.name);
        return ddl();
      }
      case 'drop-database': {
        if (!this.databases.has(statement.name)) {
          if (statement.ifExists) return ddl();
          throw new QueryFailedError(`FAILED: Database does not exist: ${statement.name}`, 1002);
        }
        await c.run(`DROP SCHEMA ${CATALOG}.${ident(statement.name)} CASCADE`);
        this.databases.delete(statement.name);
        for (const key of [...this.tables.keys()])
          if (key.startsWith(`${statement.name}.`)) this.tables.delete(key);
        return ddl();
      }
      case 'create-table': {
        const t = statement.table;
        if (!this.databases.has(t.database)) {
          throw new QueryFailedError(`FAILED: Database does not exist: ${t.database}`, 1002);
        }
        const key = `${t.database}.${t.name}`;
        if (this.tables.has(key)) {
          if (statement.ifNotExists) return ddl();
          throw new QueryFailedError(`FAILED: Table ${key} already exists`, 1002);
        }
        await this.createView(c, t);
        this.tables.set(key, t);
        return ddl();
      }
      case 'drop-table': {
        const db = statement.database ?? database;
        const key = `${db}.${statement.name}`;
        if (!this.tables.has(key)) {
          if (statement.ifExists) return ddl();
          throw new QueryFailedError(`FAILED: Table ${key} does not exist`, 1002);
        }
        await c.run(`DROP VIEW ${CATALOG}.${ident(db)}.${ident(statement.name)}`);
        await c.run(`DROP TABLE ${CATALOG}.${INTERNAL_SCHEMA}.${ident(key)}`);
        this.tables.delete(key);
        return ddl();
      }
      default:
        return this.query(c, statement.sql, database);
    }
  }

  private async createView(c: Connection, t: ExternalTable): Promise<void> {
    const lines = `${CATALOG}.${INTERNAL_SCHEMA}.${ident(`${t.database}.${t.name}`)}`;
    await c.run(`CREATE OR REPLACE TABLE ${lines} (line VARCHAR, path VARCHAR, day VARCHAR)`);
    // RegexSerDe uses Matcher.matches(): the whole line, or every column is NULL.
    const regex = sqlString(`^(?:${t.serdeProperties['input.regex'] as string})$`);
    const names = `[${t.columns.map((col) => sqlString(col.name)).join(', ')}]`;
    const columns = t.columns.map((col) => {
      const field = `g[${sqlString(col.name)}]`;
      return col.type === 'string'
        ? `${field} AS ${ident(col.name)}`
        : `TRY_CAST(${field} AS ${DUCK_TYPES[col.type]}) AS ${ident(col.name)}`;
    });
    for (const p of t.partitions) columns.push(`day AS ${ident(p.name)}`);
    columns.push(`path AS "$path"`);
    await c.run(
      `CREATE OR REPLACE VIEW ${CATALOG}.${ident(t.database)}.${ident(t.name)} AS SELECT ${columns.join(', ')} FROM (SELECT CASE WHEN regexp_full_match(line, ${regex}) THEN regexp_extract(line, ${regex}, ${names}) END AS g, day, path FROM ${lines})`,
    );
  }

  /** Loads the lines of the partitions `sql` asks for into the table behind each view it reads. */
  private async loadLines(c: Connection, sql: string, database: string): Promise<number> {
    let referenced: readonly string[];
    try {
      referenced = c.getTableNames(sql, true);
    } catch {
      referenced = [];
    }
    let bytes = 0;
    for (const t of this.tables.values()) {
      const used = referenced.some((name) => {
        const parts = name.split('.').map((p) => p.replace(/^"|"$/g, '').toLowerCase());
        const n = parts[parts.length - 1];
        const db = parts.length >= 2 ? parts[parts.length - 2] : database;
        return n === t.name && db === t.database;
      });
      if (!used) continue;
      const lines = `${CATALOG}.${INTERNAL_SCHEMA}.${ident(`${t.database}.${t.name}`)}`;
      await c.run(`DELETE FROM ${lines}`);
      const appender = await c.createAppender(`${t.database}.${t.name}`, INTERNAL_SCHEMA, CATALOG);
      try {
        for (const { path, day } of this.locations(t, sql)) {
          const { bucket, prefix } = splitS3(path);
          for (const o of this.objects.list(bucket, prefix)) {
            const name = o.key.slice(o.key.lastIndexOf('/') + 1);
            // Hadoop's input formats skip hidden files.
            if (name === '' || name.startsWith('_') || name.startsWith('.')) continue;
            bytes += o.body.length;
            const text = (o.body[0] === 0x1f && o.body[1] === 0x8b ? gunzipSync(o.body) : o.body).toString(
              'utf8',
            );
            const location = `s3://${bucket}/${o.key}`;
            const split = text.split('\n');
            // Hadoop's LineRecordReader: no record after a final newline; CR before LF dropped.
            if (split[split.length - 1] === '') split.pop();
            for (const raw of split) {
              appender.appendVarchar(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
              appender.appendVarchar(location);
              if (day === null) appender.appendNull();
              else appender.appendVarchar(day);
              appender.endRow();
            }
          }
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
    }
    return bytes;
  }

  /** The S3 folders a query reads of a table: its projected days, or its location. */
  private locations(t: ExternalTable, sql: string): { path: string; day: string | null }[] {
    const partition = t.partitions[0];
    if (!partition) return [{ path: withSlash(t.location), day: null }];
    const template = t.properties['storage.location.template'] as string;
    const base = template.slice(0, template.indexOf(`\${${partition.name}}`));
    const range = (t.properties[`projection.${partition.name}.range`] ?? '').split(',');
    const first = range[0]?.trim() ?? '';
    const constraint = partitionConstraint(sql, partition.name);
    const { bucket, prefix } = splitS3(base);
    const days = new Set<string>();
    for (const o of this.objects.list(bucket, prefix)) {
      const m = DAY_IN_KEY.exec(o.key.slice(prefix.length));
      if (m) days.add(m[1] as string);
    }
    // The range's end (NOW on AWS) is not applied: the lab's clock may run ahead of the wall clock.
    return [...days]
      .filter((d) => d >= first && dayAllowed(d, constraint))
      .sort()
      .map((d) => ({ path: template.replace(`\${${partition.name}}`, d).replace(/\/?$/, '/'), day: d }));
  }

  private async query(c: Connection, sql: string, database: string): Promise<EngineResult> {
    if (!this.databases.has(database))
      throw new QueryFailedError(`SCHEMA_NOT_FOUND: Schema '${database}' does not exist`, 1002);
    await c.run(`USE ${CATALOG}.${ident(database)}`);
    const scannedBytes = await this.loadLines(c, sql, database);
    if (this.cancelRequested) throw new QueryCancelled();
    this.running = c;
    try {
      const reader = await c.runAndReadAll(sql.replace(/;\s*$/, ''));
      const types = reader.columnTypes().map((t) => athenaType(String(t)));
      const columns = reader.columnNames().map((name, i) => ({ name, type: types[i] as string }));
      const rows = reader
        .getRowsJson()
        .map((row) =>
          row.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))),
        );
      return { statementType: 'DML', columns, rows, scannedBytes };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/interrupt/i.test(message)) throw new QueryCancelled();
      throw new QueryFailedError(
        message.replace(/\s+/g, ' ').trim(),
        /Parser Error/.test(message) ? 1004 : 1002,
      );
    } finally {
      this.running = undefined;
    }
  }
}

/** The running statement was interrupted (StopQueryExecution). */
export class QueryCancelled extends Error {
  constructor() {
    super('Query was cancelled');
    this.name = 'QueryCancelled';
  }
}

function withSlash(s: string): string {
  return s.endsWith('/') ? s : `${s}/`;
}

export function splitS3(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new QueryFailedError(`not an S3 location: ${url}`, 1002);
  return { bucket: m[1] as string, prefix: m[2] ?? '' };
}
