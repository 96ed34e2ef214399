import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ExitCode, ThrottlescopeError } from '../common/errors.js';
import { type AggregatorState, LogAggregator, type LogFilter, type LogSummary } from './aggregate.js';
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

interface WorkerResult {
  state: AggregatorState;
  stats: ReadStats;
  examples: string[];
}

/**
 * Local files split across worker threads, each aggregating its share; the states merge into the
 * same summary a single thread would produce. Only for aggregation (no per-record callbacks).
 */
async function analyseInParallel(
  files: string[],
  workers: number,
  options: AnalyseOptions,
  listing: ReadStats,
): Promise<LogAnalysis> {
  // Largest files first, each to the least-loaded worker: shares of similar size.
  const sized = files
    .map((f) => ({ f, size: statSync(f, { throwIfNoEntry: false })?.size ?? 0 }))
    .sort((a, b) => b.size - a.size);
  const shares = Array.from({ length: workers }, () => ({ files: [] as string[], bytes: 0 }));
  for (const x of sized) {
    const least = shares.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    least.files.push(x.f);
    least.bytes += x.size;
  }
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const results = await Promise.all(
    shares
      .filter((s) => s.files.length > 0)
      .map(
        (s) =>
          new Promise<WorkerResult>((resolve, reject) => {
            const workerData = {
              files: s.files.sort(),
              filter: options.filter ?? {},
              sinceMs: options.sinceMs,
              untilMs: options.untilMs,
              maxExamples: options.maxExamples ?? 5,
            };
            const entry = new URL(`./parallel-worker${ts ? '.ts' : '.js'}`, here).href;
            // From TypeScript sources (tests, tsx) the thread first registers the same loader.
            const worker = ts
              ? new Worker(
                  `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
                  { eval: true, workerData },
                )
              : new Worker(new URL(entry), { workerData });
            const stop = () => void worker.terminate();
            options.signal?.addEventListener('abort', stop, { once: true });
            worker.once('message', (m: WorkerResult) => resolve(m));
            worker.once('error', reject);
            worker.once('exit', (code) => {
              options.signal?.removeEventListener('abort', stop);
              if (code !== 0)
                reject(new ThrottlescopeError('TS_INTERNAL', `log reader thread exited with code ${code}`));
            });
          }),
      ),
  );
  const aggregator = new LogAggregator(options.filter);
  const read: ReadStats = {
    ...listing,
    files: 0,
    lines: 0,
    malformed: 0,
    outsideWindow: 0,
    bytes: 0,
    errors: [...listing.errors],
  };
  const examples: MalformedExample[] = [];
  // Merge in file order so "first examples" are the same as a single thread's.
  results.sort((a, b) => (a.examples[0] ?? '~').localeCompare(b.examples[0] ?? '~'));
  for (const r of results) {
    aggregator.merge(r.state);
    read.files += r.stats.files;
    read.lines += r.stats.lines;
    read.malformed += r.stats.malformed;
    read.outsideWindow += r.stats.outsideWindow;
    read.bytes += r.stats.bytes;
    read.skippedFiles += r.stats.skippedFiles;
    read.errors.push(...r.stats.errors);
    for (const e of r.examples)
      if (examples.length < (options.maxExamples ?? 5)) examples.push({ message: e });
  }
  return {
    summary: aggregator.summary({ lines: read.lines, malformed: read.malformed, files: read.files }),
    read,
    malformedExamples: examples,
    errors: read.errors,
  };
}

/** Reads the sources once and aggregates them; nothing is printed. */
export async function analyseAlbLogs(
  sources: readonly string[],
  options: AnalyseOptions = {},
): Promise<LogAnalysis> {
  const workers = options.workers ?? Math.min(4, availableParallelism());
  const localOnly = sources.every((s) => s !== '-' && !s.startsWith('s3://'));
  if (workers > 1 && localOnly && !options.recordsPath && !options.onRecord) {
    const listing: ReadStats = {
      files: 0,
      skippedFiles: 0,
      lines: 0,
      malformed: 0,
      outsideWindow: 0,
      bytes: 0,
      errors: [],
    };
    const files: string[] = [];
    for (const s of sources) {
      try {
        files.push(...(await listLocal(s, options, listing)));
      } catch {
        files.push(s); // the reader names the problem
      }
    }
    // Threads pay off only on enough data; a few small files are read faster right here.
    const bytes = files.reduce((n, f) => n + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
    if (files.length >= 2 && bytes >= (options.parallelMinBytes ?? 8 * 1024 * 1024)) {
      return analyseInParallel(files, Math.min(workers, files.length), options, listing);
    }
  }
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
