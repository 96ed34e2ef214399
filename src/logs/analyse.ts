import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ExitCode, ThrottlescopeError } from '../common/errors.js';
import { LogAggregator, type LogFilter, type LogSummary } from './aggregate.js';
import type { AlbParseError } from './parse-line.js';
import type { AlbLogRecord } from './record.js';
import { listLocal, type ReadOptions, type ReadStats, readAlbLogs, type SourceError } from './sources.js';

export interface AnalyseOptions extends ReadOptions {
  filter?: LogFilter | undefined;
  /** Write every entry that passes the filters as JSON lines to this path. */
  recordsPath?: string | undefined;
  /** Malformed-line examples to keep for the report. */
  maxExamples?: number | undefined;
  /** Also hand each matching record to the caller (diagnose joins them to probe failures). */
  onRecord?: ((record: AlbLogRecord) => void) | undefined;
  /** Worker threads for local files (default: one per core, up to 4); 1 = read in this thread. */
  workers?: number | undefined;
  /** Below this many bytes on disk, threads cost more than they save (default 8 MiB). */
  parallelMinBytes?: number | undefined;
}

export interface MalformedExample {
  /** `file:line: field ...: expected ...` */
  message: string;
}

export interface LogAnalysis {
  summary: LogSummary;
  read: ReadStats;
  malformedExamples: MalformedExample[];
  errors: SourceError[];
}

async function closeStream(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

/** Reads the sources once and aggregates them; nothing is printed. */
export async function analyseAlbLogs(
  sources: readonly string[],
  options: AnalyseOptions = {},
): Promise<LogAnalysis> {
  const aggregator = new LogAggregator(options.filter);
  const examples: MalformedExample[] = [];
  const maxExamples = options.maxExamples ?? 5;
  let records: WriteStream | undefined;
  let writeError: Error | undefined;
  if (options.recordsPath) {
    records = createWriteStream(options.recordsPath);
    records.on('error', (e) => {
      writeError = e;
    });
    await new Promise<void>((resolve) => {
      records?.once('open', () => resolve());
      records?.once('error', () => resolve());
    });
    if (writeError) {
      throw new ThrottlescopeError(
        'TS_OUTPUT_UNWRITABLE',
        `cannot write ${options.recordsPath}: ${writeError.message}`,
        {
          exitCode: ExitCode.environment,
        },
      );
    }
  }
  const read = await readAlbLogs(
    sources,
    {
      record(r) {
        if (!aggregator.add(r)) return;
        options.onRecord?.(r);
        if (records && !writeError) {
          const { verbatim: _v, ...plain } = r;
          records.write(`${JSON.stringify(plain)}\n`);
        }
      },
      malformed(error: AlbParseError, ref) {
        if (examples.length < maxExamples)
          examples.push({ message: `${ref.source}:${ref.line}: ${error.message}` });
      },
    },
    options,
  );
  if (records) await closeStream(records).catch((e: Error) => (writeError ??= e));
  if (writeError) {
    throw new ThrottlescopeError(
      'TS_OUTPUT_UNWRITABLE',
      `writing ${options.recordsPath} failed: ${writeError.message}`,
      {
        exitCode: ExitCode.environment,
      },
    );
  }
  return {
    summary: aggregator.summary({ lines: read.lines, malformed: read.malformed, files: read.files }),
    read,
    malformedExamples: examples,
    errors: read.errors,
  };
}
