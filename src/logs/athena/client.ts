/**
 * Runs queries on Amazon Athena (or the lab's): StartQueryExecution (retried with backoff while
 * Athena answers TooManyRequestsException), GetQueryExecution polled until the query ends,
 * GetQueryResults paged by NextToken and streamed row by row (never held whole). A FAILED or
 * CANCELLED query is a typed error; an aborted run stops its query (StopQueryExecution) first.
 * Every query's id, bytes scanned and time are kept for the report.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetTableMetadataCommand,
  paginateGetQueryResults,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { type AwsConnection, awsClientConfig, toRemoteError } from '../../common/aws.js';
import { ThrottlescopeError } from '../../common/errors.js';

/** Error codes of the Athena path (docs/errors.md). */
export const ATHENA_ERROR_CODES = {
  /** Athena ran the query and it failed; the message carries Athena's reason. */
  queryFailed: 'TS_ATHENA_QUERY_FAILED',
  /** Someone else cancelled the query (StopQueryExecution, the console, a workgroup limit). */
  queryCancelled: 'TS_ATHENA_QUERY_CANCELLED',
  /** `--max-scan`: the objects under the window's partitions are larger than allowed; nothing was run. */
  scanLimit: 'TS_ATHENA_SCAN_LIMIT',
  /** A result that does not have the columns the query asked for. */
  badResult: 'TS_ATHENA_RESULT',
} as const;

/**
 * Athena's price for SQL queries: $5 per TB scanned, at least 10 MB a query, rounded up to the
 * MB; DDL and failed queries are free, cancelled ones pay for what they scanned
 * (cloudfront-athena-facts.md B2, from third-party pages: check the AWS pricing page).
 */
export const ATHENA_PRICE = {
  usdPerTb: 5,
  minimumBytes: 10 * 2 ** 20,
  roundBytes: 2 ** 20,
  tbBytes: 2 ** 40,
};

/** What one query cost at ATHENA_PRICE. */
export function queryCostUsd(bytesScanned: number, statementType: string | undefined, state: string): number {
  if (statementType !== 'DML' || state === 'FAILED') return 0;
  const billed = Math.max(
    ATHENA_PRICE.minimumBytes,
    Math.ceil(bytesScanned / ATHENA_PRICE.roundBytes) * ATHENA_PRICE.roundBytes,
  );
  return (billed / ATHENA_PRICE.tbBytes) * ATHENA_PRICE.usdPerTb;
}

export interface AthenaSettings {
  workGroup?: string | undefined;
  /** `s3://bucket/prefix/` for results; optional when the workgroup names one. */
  outputLocation?: string | undefined;
  catalog?: string | undefined;
  database?: string | undefined;
}

export interface QueryRecord {
  id: string;
  state: string;
  statementType?: string | undefined;
  bytesScanned: number;
  engineMs: number;
  totalMs: number;
  costUsd: number;
}

export interface Backoff {
  /** StartQueryExecution attempts while Athena answers TooManyRequestsException. */
  attempts: number;
  firstMs: number;
  maxMs: number;
}

export interface AthenaRunnerOptions {
  aws: AwsConnection;
  settings: AthenaSettings;
  signal?: AbortSignal | undefined;
  backoff?: Backoff | undefined;
  /** GetQueryExecution polling: first interval, doubled up to the max. */
  pollMs?: { firstMs: number; maxMs: number } | undefined;
  /** Rows per GetQueryResults page (Athena's maximum is 1000). */
  pageSize?: number | undefined;
}

export interface CompletedQuery {
  record: QueryRecord;
  /** The header (column names) of a SELECT's result. */
  columns: string[];
  /** The data rows, fetched page by page as they are read. */
  rows(): AsyncIterable<(string | null)[]>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const isThrottled = (e: unknown) => (e as { name?: string }).name === 'TooManyRequestsException';

export class AthenaQueryRunner {
  readonly queries: QueryRecord[] = [];

  private constructor(
    private readonly client: AthenaClient,
    private readonly o: AthenaRunnerOptions,
  ) {}

  static async create(o: AthenaRunnerOptions): Promise<AthenaQueryRunner> {
    const client = new AthenaClient({ ...(await awsClientConfig(o.aws)), maxAttempts: 1 });
    return new AthenaQueryRunner(client, o);
  }

  close(): void {
    this.client.destroy();
  }

  get bytesScanned(): number {
    return this.queries.reduce((n, q) => n + q.bytesScanned, 0);
  }

  get costUsd(): number {
    return this.queries.reduce((n, q) => n + q.costUsd, 0);
  }

  private interrupted(id: string | undefined): ThrottlescopeError {
    return new ThrottlescopeError(
      'TS_INTERRUPTED',
      id ? `interrupted: Athena query ${id} was stopped` : 'interrupted before the Athena query started',
    );
  }

  private async start(sql: string): Promise<string> {
    const { settings, signal } = this.o;
    const backoff = this.o.backoff ?? { attempts: 8, firstMs: 500, maxMs: 20_000 };
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw this.interrupted(undefined);
      try {
        const out = await this.client.send(
          new StartQueryExecutionCommand({
            QueryString: sql,
            WorkGroup: settings.workGroup,
            QueryExecutionContext: { Database: settings.database, Catalog: settings.catalog },
            ResultConfiguration: settings.outputLocation
              ? { OutputLocation: settings.outputLocation }
              : undefined,
          }),
          { abortSignal: signal },
        );
        if (!out.QueryExecutionId) throw new Error('StartQueryExecution returned no QueryExecutionId');
        return out.QueryExecutionId;
      } catch (error) {
        if (signal?.aborted) throw this.interrupted(undefined);
        if (!isThrottled(error) || attempt >= backoff.attempts)
          throw toRemoteError(error, 'Athena StartQueryExecution');
        // Full jitter: queries of other users compete for the same slots.
        const cap = Math.min(backoff.maxMs, backoff.firstMs * 2 ** (attempt - 1));
        await sleep(cap / 2 + Math.random() * (cap / 2), signal);
      }
    }
  }

  private async stop(id: string): Promise<void> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    } catch {
      // Best effort: the query is abandoned either way, and Athena ends it at its timeout.
    }
  }

  private async waitFor(id: string): Promise<QueryExecution> {
    const { signal } = this.o;
    const poll = this.o.pollMs ?? { firstMs: 200, maxMs: 2_000 };
    let wait = poll.firstMs;
    for (;;) {
      if (signal?.aborted) {
        await this.stop(id);
        throw this.interrupted(id);
      }
      let q: QueryExecution | undefined;
      try {
        q = (
          await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }), {
            abortSignal: signal,
          })
        ).QueryExecution;
      } catch (error) {
        if (signal?.aborted) continue;
        if (!isThrottled(error)) throw toRemoteError(error, `Athena GetQueryExecution ${id}`);
      }
      const state = q?.Status?.State;
      if (q && state !== 'QUEUED' && state !== 'RUNNING') return q;
      await sleep(wait, signal);
      wait = Math.min(poll.maxMs, wait * 2);
    }
  }

  /** The table's parameters (location, projection) from the data catalog. */
  async tableParameters(database: string, table: string): Promise<Record<string, string>> {
    try {
      const out = await this.client.send(
        new GetTableMetadataCommand({
          CatalogName: this.o.settings.catalog ?? 'AwsDataCatalog',
          DatabaseName: database,
          TableName: table,
          WorkGroup: this.o.settings.workGroup,
        }),
        { abortSignal: this.o.signal },
      );
      return out.TableMetadata?.Parameters ?? {};
    } catch (error) {
      throw toRemoteError(error, `Athena GetTableMetadata ${database}.${table}`);
    }
  }

  /** Runs one statement to its end; a SELECT's rows are then read through `rows()`. */
  async run(sql: string): Promise<CompletedQuery> {
    const id = await this.start(sql);
    const q = await this.waitFor(id);
    const state = q.Status?.State ?? 'UNKNOWN';
    const stats = q.Statistics ?? {};
    const record: QueryRecord = {
      id,
      state,
      statementType: q.StatementType,
      bytesScanned: stats.DataScannedInBytes ?? 0,
      engineMs: stats.EngineExecutionTimeInMillis ?? 0,
      totalMs: stats.TotalExecutionTimeInMillis ?? 0,
      costUsd: queryCostUsd(stats.DataScannedInBytes ?? 0, q.StatementType, state),
    };
    this.queries.push(record);
    if (state === 'FAILED') {
      const reason = q.Status?.AthenaError?.ErrorMessage ?? q.Status?.StateChangeReason ?? 'no reason given';
      throw new ThrottlescopeError(ATHENA_ERROR_CODES.queryFailed, `Athena query ${id} failed: ${reason}`);
    }
    if (state === 'CANCELLED') {
      throw new ThrottlescopeError(
        ATHENA_ERROR_CODES.queryCancelled,
        `Athena query ${id} was cancelled${q.Status?.StateChangeReason ? `: ${q.Status.StateChangeReason}` : ''}`,
      );
    }
    if (q.StatementType !== 'DML') {
      return {
        record,
        columns: [],
        rows: async function* () {
          /* a DDL statement has no rows */
        },
      };
    }
    return this.results(record);
  }

  /** Reads the first page (for the header), then streams the rest page by page. */
  private async results(record: QueryRecord): Promise<CompletedQuery> {
    const { signal } = this.o;
    const pages = paginateGetQueryResults(
      { client: this.client, pageSize: this.o.pageSize ?? 1000 },
      { QueryExecutionId: record.id },
    );
    const iterator = pages[Symbol.asyncIterator]();
    const operation = `Athena GetQueryResults ${record.id}`;
    const next = async () => {
      if (signal?.aborted) throw this.interrupted(record.id);
      try {
        return await iterator.next();
      } catch (error) {
        throw toRemoteError(error, operation);
      }
    };
    const first = await next();
    const firstRows = first.done ? [] : (first.value.ResultSet?.Rows ?? []);
    const toValues = (r: { Data?: { VarCharValue?: string }[] }) =>
      (r.Data ?? []).map((d) => d.VarCharValue ?? null);
    const header = firstRows[0] ? toValues(firstRows[0]).map((v) => v ?? '') : [];
    return {
      record,
      columns: header,
      async *rows() {
        for (const r of firstRows.slice(1)) yield toValues(r);
        if (first.done) return;
        for (;;) {
          const page = await next();
          if (page.done) return;
          for (const r of page.value.ResultSet?.Rows ?? []) yield toValues(r);
        }
      },
    };
  }
}
