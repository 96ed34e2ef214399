import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ThrottlescopeError } from '../common/errors.js';
import { type AggregatorState, LogAggregator, type LogFilter, type LogSummary } from './aggregate.js';
import { CloudFrontCollector, type CloudFrontPart } from './cloudfront/collect.js';
import type { CloudFrontSummary } from './cloudfront/summary.js';
import type { AlbParseError } from './parse-line.js';
import type { AlbLogRecord } from './record.js';
import type { AlbLineFields } from './scan-line.js';
import { LocalLogSource, logSourceFor } from './sources/index.js';
import {
  emptyReadStats,
  type LogFieldVisitor,
  type LogVisitor,
  localFilesOf,
  type ReadOptions,
  type ReadStats,
  readAlbLogFields,
  readAlbLogs,
  type SourceError,
} from './sources.js';

export interface AnalyseOptions extends ReadOptions {
  filter?: LogFilter | undefined;
  /** Write every entry that passes the filters as JSON lines to this path. */
  recordsPath?: string | undefined;
  /** Malformed-line examples to keep for the report. */
  maxExamples?: number | undefined;
  /** Also hand each matching record to the caller (diagnose joins them to probe failures). */
  onRecord?: ((record: AlbLogRecord) => void) | undefined;
  /**
   * With `onRecord`: only the entries for which this holds (judged on their scanned fields) are
   * parsed into records and handed over; the rest are only counted, at the scanners' speed.
   */
  recordsFor?: ((fields: AlbLineFields) => boolean) | undefined;
  /** Threads reading local files, this one included (default: one per core, up to 8); 1 = this thread only. */
  workers?: number | undefined;
  /** Below this many bytes on disk, threads cost more than they save (default 8 MiB). */
  parallelMinBytes?: number | undefined;
}

export interface MalformedExample {
  /** `file:line: field ...: expected ...` */
  message: string;
}

export interface LogAnalysis {
  /** ALB entries (`files` counts the ALB objects). */
  summary: LogSummary;
  /** CloudFront standard logs, when any object was one. */
  cloudfront?: CloudFrontSummary | undefined;
  read: ReadStats;
  malformedExamples: MalformedExample[];
  errors: SourceError[];
}

async function closeStream(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

/**
 * A small young generation for reader threads: what they allocate (decoded blocks, a few strings
 * per line) dies young, and a nursery that stays in cache is faster than the default one, and
 * holds less memory.
 */
const READER_LIMITS = { maxYoungGenerationSizeMb: 6 };

/** What reading one file gives: its own counts, merged in file order for a deterministic result. */
export interface FileResult {
  index: number;
  state: AggregatorState;
  stats: ReadStats;
  examples: string[];
  cloudfront: CloudFrontPart;
}

/** The job of every reader of a parallel scan (the worker threads and this thread). */
export interface ParallelJob {
  files: string[];
  /** Int32 at 0: the next file index to claim (Atomics.add), shared by all readers. */
  next: SharedArrayBuffer;
  filter: LogFilter;
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
  maxExamples: number;
  scanner?: ReadOptions['scanner'];
  format?: ReadOptions['format'];
}

/**
 * Reads files of a parallel job until none is left, claiming them one at a time so that fast
 * readers take more (no thread waits for another's share), and reports each file's result.
 */
export async function readClaimedFiles(
  job: ParallelJob,
  report: (result: FileResult) => void,
  signal?: AbortSignal,
): Promise<void> {
  const next = new Int32Array(job.next);
  while (!signal?.aborted) {
    const index = Atomics.add(next, 0, 1);
    if (index >= job.files.length) return;
    const aggregator = new LogAggregator(job.filter);
    const examples: string[] = [];
    const cloudfront = cloudFrontCollector(job.filter, job, (m) => {
      if (examples.length < job.maxExamples) examples.push(m);
    });
    const stats = await readAlbLogFields(
      [job.files[index] as string],
      {
        fields: (f) => {
          aggregator.add(f);
        },
        malformed: (error, ref) => {
          if (examples.length < job.maxExamples) examples.push(`${ref.source}:${ref.line}: ${error.message}`);
        },
      },
      {
        sinceMs: job.sinceMs,
        untilMs: job.untilMs,
        scanner: job.scanner,
        signal,
        format: job.format,
        cloudfront: cloudfront.reader,
      },
    );
    report({ index, state: aggregator.state(), stats, examples, cloudfront: cloudfront.part() });
  }
}

/**
 * Local files read by several threads (this one included), each file claimed by whichever reader
 * is free. Every file's counts are merged in file order, so the summary, the examples and the
 * errors are exactly those a single thread would produce. Only for aggregation.
 */
async function analyseInParallel(
  files: string[],
  readers: number,
  options: AnalyseOptions,
  listing: ReadStats,
): Promise<LogAnalysis> {
  const maxExamples = options.maxExamples ?? 5;
  const job: ParallelJob = {
    files,
    next: new SharedArrayBuffer(4),
    filter: options.filter ?? {},
    sinceMs: options.sinceMs,
    untilMs: options.untilMs,
    maxExamples,
    scanner: options.scanner,
    format: options.format,
  };
  const aggregator = new LogAggregator(options.filter);
  const cloudfront = cloudFrontCollector(options.filter ?? {}, options, () => {});
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
  // Results arrive in any order; they are merged as soon as all files before them are.
  const pending = new Map<number, FileResult>();
  let merged = 0;
  const report = (r: FileResult) => {
    pending.set(r.index, r);
    for (let next = pending.get(merged); next !== undefined; next = pending.get(merged)) {
      pending.delete(merged);
      merged++;
      aggregator.merge(next.state);
      cloudfront.merge(next.cloudfront);
      read.files += next.stats.files;
      read.lines += next.stats.lines;
      read.malformed += next.stats.malformed;
      read.outsideWindow += next.stats.outsideWindow;
      read.bytes += next.stats.bytes;
      read.skippedFiles += next.stats.skippedFiles;
      read.errors.push(...next.stats.errors);
      for (const e of next.examples) if (examples.length < maxExamples) examples.push({ message: e });
      options.onProgress?.({
        filesDone: merged,
        filesTotal: files.length,
        bytes: read.bytes,
        source: files[merged - 1] as string,
      });
    }
  };
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  const threads = Array.from(
    { length: readers - 1 },
    () =>
      new Promise<void>((resolve, reject) => {
        const entry = new URL(`./parallel-worker${ts ? '.ts' : '.js'}`, here).href;
        // From TypeScript sources (tests, tsx) the thread first registers the same loader.
        const worker = ts
          ? new Worker(
              `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
              { eval: true, workerData: job, resourceLimits: READER_LIMITS },
            )
          : new Worker(new URL(entry), { workerData: job, resourceLimits: READER_LIMITS });
        const stop = () => void worker.terminate();
        options.signal?.addEventListener('abort', stop, { once: true });
        worker.on('message', (m: FileResult) => report(m));
        worker.once('error', reject);
        worker.once('exit', (code) => {
          options.signal?.removeEventListener('abort', stop);
          if (code !== 0 && !options.signal?.aborted)
            reject(new ThrottlescopeError('TS_INTERNAL', `log reader thread exited with code ${code}`));
          else resolve();
        });
      }),
  );
  // This thread reads too, rather than wait.
  const mine = readClaimedFiles(job, report, options.signal);
  await Promise.all([mine, ...threads]);
  return {
    summary: aggregator.summary({
      lines: read.lines,
      malformed: read.malformed,
      files: read.files - cloudfront.stats.files,
    }),
    cloudfront: cloudfront.summary(),
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
  // One reader per core (this thread is one), never more than files; memory grows with readers.
  const workers = options.workers ?? Math.min(8, availableParallelism());
  const localOnly = sources.every((s) => logSourceFor(s) instanceof LocalLogSource);
  if (workers > 1 && localOnly && !options.recordsPath && !options.onRecord) {
    const listing = emptyReadStats();
    const files = await localFilesOf(sources, options, listing);
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
      );
    }
  }
  const malformed = (error: AlbParseError, ref: { source: string; line: number }) => {
    if (examples.length < maxExamples)
      examples.push({ message: `${ref.source}:${ref.line}: ${error.message}` });
  };
  const cloudfront = cloudFrontCollector(options.filter ?? {}, options, (message) => {
    if (examples.length < maxExamples) examples.push({ message });
  });
  const readOptions: ReadOptions = { ...options, cloudfront: cloudfront.reader };
  const onRecord = options.onRecord;
  const recordsFor = options.recordsFor;
  // Aggregation reads only the fields it counts; records are built only for those who want them.
  const read =
    records === undefined && (onRecord === undefined || recordsFor !== undefined)
      ? await readAlbLogFields(
          sources,
          {
            fields: (f) => aggregator.add(f) && recordsFor?.(f),
            record: (r) => onRecord?.(r),
            malformed,
          } satisfies LogFieldVisitor,
          readOptions,
        )
      : await readAlbLogs(
          sources,
          {
            record(r) {
              if (!aggregator.add(r)) return;
              onRecord?.(r);
              if (records && !writeError) {
                const { verbatim: _v, ...plain } = r;
                records.write(`${JSON.stringify(plain)}\n`);
              }
            },
            malformed,
          } satisfies LogVisitor,
          readOptions,
        );
  if (records) await closeStream(records).catch((e: Error) => (writeError ??= e));
  if (writeError) {
    throw new ThrottlescopeError(
      'TS_OUTPUT_UNWRITABLE',
      `writing ${options.recordsPath} failed: ${writeError.message}`,
    );
  }
  return {
    summary: aggregator.summary({
      lines: read.lines,
      malformed: read.malformed,
      files: read.files - cloudfront.stats.files,
    }),
    cloudfront: cloudfront.summary(),
    read,
    malformedExamples: examples,
    errors: read.errors,
  };
}

/** CloudFront objects met while reading: `--status` applies to their sc-status, the window to their time. */
function cloudFrontCollector(
  filter: LogFilter,
  window: { sinceMs?: number | undefined; untilMs?: number | undefined },
  example: (message: string) => void,
): CloudFrontCollector {
  return new CloudFrontCollector({ statuses: filter.statuses }, window, example);
}
