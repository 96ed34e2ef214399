/**
 * The Amazon Athena subset on its wire protocol (JSON 1.1, `X-Amz-Target: AmazonAthena.<Op>`):
 * StartQueryExecution, GetQueryExecution, GetQueryResults (paged, the first row of a SELECT's
 * first page is the header, at most 1000 rows a page), StopQueryExecution and GetTableMetadata,
 * with Athena's error shapes. Queries run one at a time on the lab's DuckDB engine
 * (../athena/engine.ts), which is loaded on the first call; each SELECT's result is also written
 * as CSV under the OutputLocation in the lab's S3, as Athena does (cloudfront-athena-facts.md B2).
 */
import { randomUUID } from 'node:crypto';
import {
  EngineMissingError,
  LabAthenaEngine,
  QueryCancelled,
  QueryFailedError,
  splitS3,
} from '../athena/engine.js';
import { parseStatement, UnsupportedStatementError } from '../athena/hive-ddl.js';
import type { LabBackend } from '../backend.js';
import { type AwsRequest, type AwsResponse, decodeToken, encodeToken, header } from './http.js';

export const ATHENA_TARGET_PREFIX = 'AmazonAthena.';
const MAX_RESULTS = 1000;
/** Executions kept for GetQueryExecution/GetQueryResults; older ones are forgotten. */
const HISTORY = 1000;

type State = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

interface Execution {
  id: string;
  query: string;
  database: string;
  catalog: string;
  workGroup: string;
  outputLocation: string;
  statementType: 'DDL' | 'DML' | 'UTILITY';
  state: State;
  reason?: string | undefined;
  errorType?: number | undefined;
  submittedMs: number;
  startedMs?: number | undefined;
  completedMs?: number | undefined;
  scannedBytes: number;
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
}

export interface LabAthenaOptions {
  /** Queued plus running queries before StartQueryExecution answers TooManyRequestsException (Athena's "Active DML queries"). */
  maxActiveQueries?: number;
  /** Workgroups and their result locations; `primary` (no result location) always exists. */
  workGroups?: Record<string, { outputLocation?: string | undefined }>;
}

export class AthenaApiError extends Error {
  constructor(
    readonly code:
      | 'InvalidRequestException'
      | 'TooManyRequestsException'
      | 'InternalServerException'
      | 'MetadataException',
    message: string,
    readonly extra: Record<string, string> = {},
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** One lab's Athena: its engine, its executions, its queue. */
export class LabAthena {
  readonly engine: LabAthenaEngine;
  private readonly executions = new Map<string, Execution>();
  private readonly tokens = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  private active = 0;
  private current: string | undefined;
  private readonly maxActive: number;
  private readonly workGroups: Record<string, { outputLocation?: string | undefined }>;

  constructor(
    private readonly backend: LabBackend,
    options: LabAthenaOptions = {},
  ) {
    this.engine = new LabAthenaEngine(backend.s3);
    this.maxActive = options.maxActiveQueries ?? 20;
    this.workGroups = { primary: {}, ...options.workGroups };
  }

  async start(input: Record<string, unknown>): Promise<string> {
    const query = input.QueryString;
    if (typeof query !== 'string' || query.length < 1 || query.length > 262_144) {
      throw new AthenaApiError('InvalidRequestException', 'QueryString must be 1 to 262144 characters', {
        AthenaErrorCode: 'INVALID_INPUT',
      });
    }
    const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined;
    if (token !== undefined) {
      const known = this.tokens.get(token);
      if (known !== undefined) return known;
    }
    const context = (input.QueryExecutionContext ?? {}) as { Database?: string; Catalog?: string };
    const workGroup = typeof input.WorkGroup === 'string' ? input.WorkGroup : 'primary';
    const group = this.workGroups[workGroup];
    if (!group) {
      throw new AthenaApiError('InvalidRequestException', `WorkGroup ${workGroup} is not found.`, {
        AthenaErrorCode: 'INVALID_INPUT',
      });
    }
    const catalog = (context.Catalog ?? 'AwsDataCatalog').toLowerCase();
    if (catalog !== 'awsdatacatalog') {
      throw new AthenaApiError(
        'InvalidRequestException',
        `The lab's Athena has one catalog, AwsDataCatalog; got ${context.Catalog}`,
        {
          AthenaErrorCode: 'INVALID_INPUT',
        },
      );
    }
    const result = (input.ResultConfiguration ?? {}) as { OutputLocation?: string };
    const output = result.OutputLocation ?? group.outputLocation;
    if (!output) {
      throw new AthenaApiError(
        'InvalidRequestException',
        'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.',
        { AthenaErrorCode: 'INVALID_INPUT' },
      );
    }
    if (!/^s3:\/\/[^/]+/.test(output)) {
      throw new AthenaApiError(
        'InvalidRequestException',
        `outputLocation is not a valid S3 path: ${output}`,
        {
          AthenaErrorCode: 'INVALID_INPUT',
        },
      );
    }
    try {
      await this.engine.ready();
    } catch (error) {
      if (error instanceof EngineMissingError)
        throw new AthenaApiError('InvalidRequestException', error.message, {
          AthenaErrorCode: 'ENGINE_UNAVAILABLE',
        });
      throw error;
    }
    if (this.active >= this.maxActive) {
      throw new AthenaApiError(
        'TooManyRequestsException',
        `You have exceeded the limit for the number of queries you can run concurrently (${this.maxActive}). Reduce the number of concurrent queries submitted by this account. Contact customer support to request a concurrent query limit increase.`,
        { Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED' },
      );
    }
    const database = (context.Database ?? 'default').toLowerCase();
    let statementType: Execution['statementType'] = 'DDL';
    try {
      statementType = parseStatement(query, database).kind === 'query' ? 'DML' : 'DDL';
    } catch (error) {
      if (error instanceof UnsupportedStatementError)
        throw new AthenaApiError('InvalidRequestException', error.message, {
          AthenaErrorCode: 'INVALID_INPUT',
        });
      // Any other problem of the text is the statement's failure, reported when it runs.
    }
    const id = randomUUID();
    if (token !== undefined) this.tokens.set(token, id);
    const execution: Execution = {
      id,
      query,
      database,
      catalog: 'AwsDataCatalog',
      workGroup,
      outputLocation: output.endsWith('/') ? output : `${output}/`,
      statementType,
      state: 'QUEUED',
      submittedMs: Date.now(),
      scannedBytes: 0,
      columns: [],
      rows: [],
    };
    this.remember(execution);
    this.active++;
    this.queue = this.queue.then(() => this.run(execution));
    return id;
  }

  private remember(e: Execution): void {
    this.executions.set(e.id, e);
    if (this.executions.size > HISTORY) {
      for (const [id, old] of this.executions) {
        if (this.executions.size <= HISTORY) break;
        if (old.state !== 'QUEUED' && old.state !== 'RUNNING') this.executions.delete(id);
      }
    }
  }

  private async run(e: Execution): Promise<void> {
    try {
      if (e.state !== 'QUEUED') return;
      e.state = 'RUNNING';
      e.startedMs = Date.now();
      this.current = e.id;
      try {
        const result = await this.engine.execute(e.query, e.database);
        if ((e.state as State) === 'CANCELLED') return;
        e.statementType = result.statementType;
        e.columns = result.columns;
        e.rows = result.rows;
        e.scannedBytes = result.scannedBytes;
        this.writeResult(e);
        e.state = 'SUCCEEDED';
      } catch (error) {
        if (error instanceof QueryCancelled || (e.state as State) === 'CANCELLED') {
          e.state = 'CANCELLED';
          e.reason = 'Query cancelled by user';
        } else {
          e.state = 'FAILED';
          e.reason = error instanceof Error ? error.message : String(error);
          e.errorType = error instanceof QueryFailedError ? error.errorType : 401;
        }
      }
    } finally {
      this.current = undefined;
      e.completedMs ??= Date.now();
      this.active--;
    }
  }

  /** Athena writes a SELECT's result as `<id>.csv` (every value quoted, NULL empty) and a DDL's as `<id>.txt`. */
  private writeResult(e: Execution): void {
    const { bucket, prefix } = splitS3(e.outputLocation);
    if (e.statementType === 'DML') {
      const quote = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
      const lines = [
        e.columns.map((c) => quote(c.name)).join(','),
        ...e.rows.map((r) => r.map(quote).join(',')),
      ];
      this.backend.s3.put(bucket, `${prefix}${e.id}.csv`, Buffer.from(`${lines.join('\n')}\n`), 'text/csv');
    } else {
      this.backend.s3.put(bucket, `${prefix}${e.id}.txt`, Buffer.alloc(0), 'text/plain');
    }
  }

  private find(input: Record<string, unknown>): Execution {
    const id = input.QueryExecutionId;
    if (typeof id !== 'string' || id === '') {
      throw new AthenaApiError('InvalidRequestException', 'QueryExecutionId is required', {
        AthenaErrorCode: 'INVALID_INPUT',
      });
    }
    const e = this.executions.get(id);
    if (!e) {
      throw new AthenaApiError('InvalidRequestException', `QueryExecution ${id} was not found`, {
        AthenaErrorCode: 'INVALID_INPUT',
      });
    }
    return e;
  }

  describe(input: Record<string, unknown>): unknown {
    const e = this.find(input);
    const done = e.completedMs !== undefined;
    const ext = e.statementType === 'DML' ? 'csv' : 'txt';
    return {
      QueryExecution: {
        QueryExecutionId: e.id,
        Query: e.query,
        StatementType: e.statementType,
        ResultConfiguration: { OutputLocation: `${e.outputLocation}${e.id}.${ext}` },
        QueryExecutionContext: { Database: e.database, Catalog: e.catalog },
        Status: {
          State: e.state,
          ...(e.reason ? { StateChangeReason: e.reason } : {}),
          SubmissionDateTime: e.submittedMs / 1000,
          ...(done ? { CompletionDateTime: (e.completedMs as number) / 1000 } : {}),
          ...(e.state === 'FAILED'
            ? {
                AthenaError: {
                  ErrorCategory: e.errorType === 401 ? 1 : 2,
                  ErrorType: e.errorType ?? 1002,
                  Retryable: false,
                  ErrorMessage: e.reason,
                },
              }
            : {}),
        },
        Statistics: {
          EngineExecutionTimeInMillis: e.startedMs && done ? (e.completedMs as number) - e.startedMs : 0,
          DataScannedInBytes: e.scannedBytes,
          TotalExecutionTimeInMillis: done
            ? (e.completedMs as number) - e.submittedMs
            : Date.now() - e.submittedMs,
          QueryQueueTimeInMillis: (e.startedMs ?? Date.now()) - e.submittedMs,
        },
        WorkGroup: e.workGroup,
        EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
      },
    };
  }

  results(input: Record<string, unknown>): unknown {
    const e = this.find(input);
    if (e.state === 'FAILED') {
      throw new AthenaApiError('InvalidRequestException', e.reason ?? 'Query failed', {
        AthenaErrorCode: 'INVALID_INPUT',
      });
    }
    if (e.state !== 'SUCCEEDED') {
      throw new AthenaApiError(
        'InvalidRequestException',
        `Query has not yet finished. Current state: ${e.state}`,
        {
          AthenaErrorCode: 'INVALID_INPUT',
        },
      );
    }
    const max = input.MaxResults === undefined ? MAX_RESULTS : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
      throw new AthenaApiError(
        'InvalidRequestException',
        `1 validation error detected: Value '${String(input.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_RESULTS}`,
        { AthenaErrorCode: 'INVALID_INPUT' },
      );
    }
    let offset = 0;
    if (typeof input.NextToken === 'string') {
      const t = decodeToken(input.NextToken) as { id?: string; offset?: number } | undefined;
      if (!t || t.id !== e.id || typeof t.offset !== 'number') {
        throw new AthenaApiError('InvalidRequestException', 'The NextToken is not valid for this query', {
          AthenaErrorCode: 'INVALID_INPUT',
        });
      }
      offset = t.offset;
    }
    // A SELECT's result starts with its header row (on the first page only: it is row 0).
    const header = e.statementType === 'DML' ? 1 : 0;
    const total = e.rows.length + header;
    const end = Math.min(total, offset + max);
    const rows: { Data: { VarCharValue?: string }[] }[] = [];
    for (let i = offset; i < end; i++) {
      const values =
        header === 1 && i === 0 ? e.columns.map((c) => c.name) : (e.rows[i - header] as (string | null)[]);
      rows.push({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) });
    }
    return {
      UpdateCount: 0,
      ResultSet: {
        Rows: rows,
        ResultSetMetadata: {
          ColumnInfo: e.columns.map((c) => ({
            CatalogName: 'hive',
            SchemaName: '',
            TableName: '',
            Name: c.name,
            Label: c.name,
            Type: c.type,
            Precision: 0,
            Scale: 0,
            Nullable: 'UNKNOWN',
            CaseSensitive: c.type === 'varchar',
          })),
        },
      },
      ...(end < total ? { NextToken: encodeToken({ id: e.id, offset: end }) } : {}),
    };
  }

  stop(input: Record<string, unknown>): unknown {
    const e = this.find(input);
    if (e.state === 'QUEUED' || e.state === 'RUNNING') {
      const running = e.state === 'RUNNING' && this.current === e.id;
      e.state = 'CANCELLED';
      e.reason = 'Query cancelled by user';
      e.completedMs = Date.now();
      if (running) this.engine.interrupt();
    }
    return {};
  }

  tableMetadata(input: Record<string, unknown>): unknown {
    const db = String(input.DatabaseName ?? '').toLowerCase();
    const name = String(input.TableName ?? '').toLowerCase();
    const catalog = String(input.CatalogName ?? '').toLowerCase();
    if (catalog !== 'awsdatacatalog') {
      throw new AthenaApiError('MetadataException', `Catalog ${String(input.CatalogName)} was not found`);
    }
    const t = this.engine.table(db, name);
    if (!t) {
      throw new AthenaApiError('MetadataException', `Table ${name} not found in database ${db}`);
    }
    return {
      TableMetadata: {
        Name: t.name,
        TableType: 'EXTERNAL_TABLE',
        Columns: t.columns.map((c) => ({ Name: c.name, Type: c.type })),
        PartitionKeys: t.partitions.map((p) => ({ Name: p.name, Type: p.type })),
        Parameters: {
          EXTERNAL: 'TRUE',
          location: t.location,
          'serde.serialization.lib': t.serde,
          ...t.properties,
        },
      },
    };
  }
}

const labs = new WeakMap<LabBackend, LabAthena>();

/** The Athena of a lab backend (made on first use; `options` apply then only). */
export function labAthena(backend: LabBackend, options?: LabAthenaOptions): LabAthena {
  let a = labs.get(backend);
  if (!a) {
    a = new LabAthena(backend, options);
    labs.set(backend, a);
  }
  return a;
}

export function looksLikeAthena(req: AwsRequest): boolean {
  return header(req, 'x-amz-target')?.startsWith(ATHENA_TARGET_PREFIX) ?? false;
}

function json(
  req: AwsRequest,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): AwsResponse {
  return {
    status,
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'x-amzn-RequestId': req.requestId,
      ...extraHeaders,
    },
    body: JSON.stringify(body),
  };
}

/** Handles one request already routed to Athena. */
export async function handleAthena(backend: LabBackend, req: AwsRequest): Promise<AwsResponse> {
  const target = header(req, 'x-amz-target') ?? '';
  const op = target.startsWith(ATHENA_TARGET_PREFIX) ? target.slice(ATHENA_TARGET_PREFIX.length) : target;
  try {
    let input: Record<string, unknown>;
    try {
      const text = req.body.toString('utf8');
      const parsed = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      throw new AthenaApiError('InvalidRequestException', 'The request body is not a valid JSON object.');
    }
    const athena = labAthena(backend);
    switch (op) {
      case 'StartQueryExecution':
        return json(req, 200, { QueryExecutionId: await athena.start(input) });
      case 'GetQueryExecution':
        return json(req, 200, athena.describe(input));
      case 'GetQueryResults':
        return json(req, 200, athena.results(input));
      case 'StopQueryExecution':
        return json(req, 200, athena.stop(input));
      case 'GetTableMetadata':
        return json(req, 200, athena.tableMetadata(input));
      default:
        throw new AthenaApiError(
          'InvalidRequestException',
          `The lab's Athena serves StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution and GetTableMetadata; not ${op || '(no X-Amz-Target)'}`,
        );
    }
  } catch (error) {
    const e =
      error instanceof AthenaApiError
        ? error
        : new AthenaApiError(
            'InternalServerException',
            error instanceof Error ? error.message : String(error),
            {},
            500,
          );
    return json(
      req,
      e.status,
      { __type: e.code, Message: e.message, ...e.extra },
      { 'x-amzn-ErrorType': e.code },
    );
  }
}
