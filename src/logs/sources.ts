/**
 * Reading ALB access logs from the sources the user names: each is a LogSource (sources/: local
 * files and directories, stdin, S3) that lists its objects and opens their bytes; each object's
 * bytes are decoded (read-bytes.ts) and read line by line by its format (formats.ts).
 */
import { mapBounded } from '../common/map-bounded.js';
import { formatOf, type LogWindow } from './formats.js';
import type { LineReaderOptions, LogFieldVisitor, LogVisitor } from './line-reader.js';
import { type ByteReadTarget, consumeStream, consumeWhole } from './read-bytes.js';
import {
  type LogObject,
  type LogSource,
  type LogSourceOptions,
  listLocalFiles,
  logSourceFor,
} from './sources/index.js';

// Where they were before the seam, for the modules and tests that import them from here.
export type { LineRef, LogFieldVisitor, LogVisitor } from './line-reader.js';
export { type AwsOptions, s3ListPrefixes } from './sources/index.js';

export interface SourceError {
  source: string;
  message: string;
}

export interface ReadStats {
  /** Files (or objects, or stdin) opened. */
  files: number;
  /** Files skipped without reading because their name puts them outside the window. */
  skippedFiles: number;
  lines: number;
  malformed: number;
  /** Entries parsed but outside --since/--until. */
  outsideWindow: number;
  bytes: number;
  /** Sources that failed (missing file, corrupt gzip, S3 error); what was read before is kept. */
  errors: SourceError[];
}

export interface ReadProgress {
  filesDone: number;
  filesTotal: number;
  bytes: number;
  source: string;
}

/** Options of a read of sources the caller made (readLogSources). */
export interface SourceReadOptions extends LineReaderOptions {
  onProgress?: ((progress: ReadProgress) => void) | undefined;
}

/** Options of a read of the sources the user names: the read's, and the sources' (S3, stdin). */
export interface ReadOptions extends SourceReadOptions, LogSourceOptions {}

interface Counters extends ByteReadTarget {
  stats: ReadStats;
  options: SourceReadOptions;
  /** Files known and files finished, for progress. */
  files: { total: number; done: number };
  progress(source: string): void;
}

/**
 * Reads ALB access logs from files, directories (recursive), `.gz` or plain, stdin (`-`) and
 * `s3://bucket/prefix`, feeding each entry inside the window to the visitor. A source that fails
 * is recorded in `errors` (naming it) and the others are still read.
 */
export async function readAlbLogs(
  specs: readonly string[],
  visitor: LogVisitor,
  options: ReadOptions = {},
): Promise<ReadStats> {
  return readSources(specs, visitor, options);
}

/**
 * `readAlbLogs` for aggregation: the same sources, lines, errors and statistics, but each entry
 * reaches the visitor as the fields aggregation reads, without building a record.
 */
export async function readAlbLogFields(
  specs: readonly string[],
  visitor: LogFieldVisitor,
  options: ReadOptions = {},
): Promise<ReadStats> {
  return readSources(specs, visitor, options);
}

export function emptyReadStats(): ReadStats {
  return { files: 0, skippedFiles: 0, lines: 0, malformed: 0, outsideWindow: 0, bytes: 0, errors: [] };
}

/**
 * The files under local paths (each itself when a file), for readers that share them out;
 * files whose name puts them outside the window are counted in `stats.skippedFiles`. A path that
 * cannot be listed is taken as a file, for its reader to name the problem.
 */
export async function localFilesOf(
  paths: readonly string[],
  window: LogWindow,
  stats: ReadStats,
): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    try {
      for await (const o of listLocalFiles(path, window)) {
        if (o.outsideWindow) stats.skippedFiles++;
        else files.push(o.name);
      }
    } catch {
      files.push(path);
    }
  }
  return files;
}

function readSources(
  specs: readonly string[],
  visitor: LogVisitor | LogFieldVisitor,
  options: ReadOptions,
): Promise<ReadStats> {
  return readLogSources(
    specs.map((spec) => logSourceFor(spec, options)),
    visitor,
    options,
  );
}

/**
 * `readAlbLogs` (a record visitor) or `readAlbLogFields` (a field visitor) over sources the caller
 * made: one of sources/, or its own LogSource. Closes them.
 */
export async function readLogSources(
  sources: readonly LogSource[],
  visitor: LogVisitor | LogFieldVisitor,
  options: SourceReadOptions = {},
): Promise<ReadStats> {
  const stats = emptyReadStats();
  const ctx: Counters = {
    stats,
    visitor,
    options,
    files: { total: 0, done: 0 },
    progress: (source) =>
      options.onProgress?.({
        filesDone: ctx.files.done,
        filesTotal: ctx.files.total,
        bytes: stats.bytes,
        source,
      }),
  };
  try {
    for (const source of sources) {
      if (options.signal?.aborted) break;
      await readSource(source, ctx);
    }
  } finally {
    for (const source of sources) source.close();
  }
  return stats;
}

/** Lists a source, then reads its objects, as many at a time as the source takes. */
async function readSource(source: LogSource, ctx: Counters): Promise<void> {
  const { stats, options } = ctx;
  const objects: LogObject[] = [];
  try {
    for await (const o of source.list(options, options.signal)) {
      if (o.outsideWindow) stats.skippedFiles++;
      else objects.push(o);
    }
  } catch (error) {
    stats.errors.push({ source: source.describe, message: source.failureMessage(error) });
    return;
  }
  ctx.files.total += objects.length;
  if (source.progressName !== undefined) ctx.progress(source.progressName);
  await mapBounded(
    objects,
    source.concurrency,
    async (object) => {
      stats.files++;
      try {
        await readObject(source, object, ctx);
      } catch (error) {
        stats.errors.push({ source: object.name, message: source.failureMessage(error, object) });
      }
      ctx.files.done++;
      ctx.progress(source.progressName ?? object.name);
    },
    options.signal,
  ).catch((error: unknown) => {
    // Interrupted: what was read is kept, and the caller sees the signal.
    if (!options.signal?.aborted) throw error;
  });
}

async function readObject(source: LogSource, object: LogObject, ctx: Counters): Promise<void> {
  const opened = await source.open(object, ctx.options.signal);
  const format = formatOf(object, ctx.options.format);
  try {
    if (opened.bytes !== null && consumeWhole(opened.bytes, object.name, ctx, format)) return;
    await consumeStream(opened.stream(), object.name, ctx, format);
  } finally {
    await opened.close();
  }
}
