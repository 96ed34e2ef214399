import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ExitCode, ThrottlescopeError } from '../common/errors.js';
import { type AlbParseError, parseAlbLine } from './parse-line.js';
import type { AlbLogRecord } from './record.js';
import { albLogDayPrefix, keyMayOverlap, parseAlbLogKey } from './s3-key.js';

/** Where a line came from, for messages (`file:line`). */
export interface LineRef {
  source: string;
  line: number;
}

export interface LogVisitor {
  record(record: AlbLogRecord, ref: LineRef): void;
  malformed?(error: AlbParseError, ref: LineRef, text: string): void;
}

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

export interface AwsOptions {
  region?: string | undefined;
  profile?: string | undefined;
  endpointUrl?: string | undefined;
}

export interface ReadOptions {
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
  aws?: AwsOptions | undefined;
  /** Parallel S3 downloads. */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: ReadProgress) => void) | undefined;
  /** Stream read for the `-` source. */
  stdin?: Readable | undefined;
}

interface Counters {
  stats: ReadStats;
  visitor: LogVisitor;
  options: ReadOptions;
  /** Files known and files finished, for progress. */
  files: { total: number; done: number };
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** Feeds a byte stream (plain or gzip, detected by its magic bytes) line by line to the visitor. */
async function consumeStream(stream: Readable, source: string, ctx: Counters): Promise<void> {
  const { stats, visitor, options } = ctx;
  let lineNo = 0;
  let rest = '';
  const handle = (text: string) => {
    lineNo++;
    if (text.length === 0 || (text.length === 1 && text.charCodeAt(0) === 13)) return;
    let record: AlbLogRecord;
    try {
      record = parseAlbLine(text);
    } catch (error) {
      stats.malformed++;
      visitor.malformed?.(error as AlbParseError, { source, line: lineNo }, text);
      return;
    }
    stats.lines++;
    if (
      (options.sinceMs !== undefined && record.timeMs < options.sinceMs) ||
      (options.untilMs !== undefined && record.timeMs >= options.untilMs)
    ) {
      stats.outsideWindow++;
      return;
    }
    visitor.record(record, { source, line: lineNo });
  };

  let decoded: AsyncIterable<string>;
  const first = await firstChunk(stream);
  if (first === null) return;
  stats.bytes += first.chunk.length;
  if (first.chunk[0] === GZIP_MAGIC_0 && first.chunk[1] === GZIP_MAGIC_1) {
    const gunzip = createGunzip();
    first.rest.on('error', (e) => gunzip.destroy(e));
    gunzip.write(first.chunk);
    first.rest.on('data', (c: Buffer) => {
      stats.bytes += c.length;
    });
    first.rest.pipe(gunzip);
    gunzip.setEncoding('utf8');
    decoded = gunzip;
  } else {
    decoded = (async function* () {
      const decoder = new TextDecoder('utf-8');
      yield decoder.decode(first.chunk, { stream: true });
      for await (const c of first.rest) {
        stats.bytes += (c as Buffer).length;
        yield decoder.decode(c as Buffer, { stream: true });
      }
      yield decoder.decode();
    })();
  }
  try {
    for await (const chunk of decoded) {
      if (options.signal?.aborted) break;
      let start = 0;
      let nl = chunk.indexOf('\n');
      if (nl >= 0 && rest.length > 0) {
        handle(rest + chunk.slice(0, nl));
        rest = '';
        start = nl + 1;
        nl = chunk.indexOf('\n', start);
      }
      while (nl >= 0) {
        handle(chunk.slice(start, nl));
        start = nl + 1;
        nl = chunk.indexOf('\n', start);
      }
      rest += chunk.slice(start);
    }
  } catch (error) {
    // Keep what was read; the damaged tail is reported by name.
    if (rest.length > 0) handle(rest);
    throw new ThrottlescopeError(
      'TS_LOG_SOURCE',
      `${source}: ${describeStreamError(error)} after ${lineNo} lines (the lines before it were kept)`,
      { exitCode: ExitCode.input, cause: error },
    );
  }
  if (rest.length > 0) handle(rest);
}

function describeStreamError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'Z_BUF_ERROR') return 'gzip file is truncated (unexpected end of file)';
  if (code === 'Z_DATA_ERROR') return 'gzip data is corrupt';
  return error instanceof Error ? error.message : String(error);
}

/** Reads the first chunk so the format can be sniffed; returns the stream for the rest. */
async function firstChunk(stream: Readable): Promise<{ chunk: Buffer; rest: Readable } | null> {
  return await new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) return;
      cleanup();
      resolve({ chunk: Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk), rest: stream });
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

function sourceError(source: string, error: unknown): SourceError {
  if (error instanceof ThrottlescopeError) return { source, message: error.message };
  const code = (error as { code?: string }).code;
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : error instanceof Error
            ? error.message
            : String(error);
  return { source, message: `${source}: ${why}` };
}

/** Files under a path (itself when it is a file), skipping AWS-named files outside the window. */
export async function listLocal(path: string, options: ReadOptions, stats: ReadStats): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    const key = parseAlbLogKey(e.name);
    if (key && !keyMayOverlap(key.endMs, options.sinceMs, options.untilMs)) {
      stats.skippedFiles++;
      continue;
    }
    // A directory may hold other files (READMEs, manifests): take logs by name when named as AWS does.
    if (!key && !/\.(log|gz|txt)$/i.test(e.name)) continue;
    files.push(full);
  }
  return files.sort();
}

export interface S3Location {
  bucket: string;
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m?.[1]) {
    throw new ThrottlescopeError('TS_USAGE', `expected s3://bucket[/prefix], got "${url}"`, {
      exitCode: ExitCode.usage,
    });
  }
  return { bucket: m[1], prefix: m[2] ?? '' };
}

const REGION_ROOT = /(^|\/)AWSLogs\/\d{12}\/elasticloadbalancing\/[a-z0-9-]+\/?$/;
const MAX_DAYS_LISTED_ONE_BY_ONE = 62;

/**
 * The prefixes to list: at the region folder with a window, one per day (S3 lists a day's keys
 * without walking the whole history); otherwise the given prefix.
 */
export function s3ListPrefixes(prefix: string, sinceMs?: number, untilMs?: number): string[] {
  if (sinceMs === undefined || !REGION_ROOT.test(prefix)) return [prefix];
  const end = untilMs ?? Date.now();
  // A file's folder is its delivery day; a window's last minutes may be delivered the next day.
  const firstDay = Math.floor(sinceMs / 86_400_000);
  const lastDay = Math.floor((end + 10 * 60_000) / 86_400_000);
  if (lastDay - firstDay + 1 > MAX_DAYS_LISTED_ONE_BY_ONE) return [prefix];
  const m = /^(.*?)(?:\/)?AWSLogs\/(\d{12})\/elasticloadbalancing\/([a-z0-9-]+)\/?$/.exec(prefix);
  if (!m) return [prefix];
  const prefixes: string[] = [];
  for (let day = firstDay; day <= lastDay; day++) {
    prefixes.push(albLogDayPrefix(m[1] ?? '', m[2] as string, m[3] as string, day * 86_400_000));
  }
  return prefixes;
}

async function readS3(url: string, ctx: Counters, progress: () => void): Promise<number> {
  const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  type ListPage = import('@aws-sdk/client-s3').ListObjectsV2CommandOutput;
  const { awsClientConfig, toRemoteError } = await import('../common/aws.js');
  const { bucket, prefix } = parseS3Url(url);
  const { stats, options } = ctx;
  const client = new S3Client({
    ...(await awsClientConfig(options.aws ?? {})),
    forcePathStyle: Boolean(options.aws?.endpointUrl),
  });
  try {
    const keys: { key: string; size: number }[] = [];
    for (const listPrefix of s3ListPrefixes(prefix, options.sinceMs, options.untilMs)) {
      let token: string | undefined;
      do {
        let page: ListPage;
        try {
          page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: listPrefix, ContinuationToken: token }),
            { abortSignal: options.signal },
          );
        } catch (error) {
          throw toRemoteError(error, `S3 ListObjectsV2 s3://${bucket}/${listPrefix}`);
        }
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          const parsed = parseAlbLogKey(o.Key);
          if (parsed && !keyMayOverlap(parsed.endMs, options.sinceMs, options.untilMs)) {
            stats.skippedFiles++;
            continue;
          }
          keys.push({ key: o.Key, size: o.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    }
    ctx.files.total += keys.length;
    progress();
    let next = 0;
    const worker = async () => {
      while (next < keys.length && !options.signal?.aborted) {
        const { key } = keys[next++] as { key: string };
        const name = `s3://${bucket}/${key}`;
        stats.files++;
        try {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
            abortSignal: options.signal,
          });
          await consumeStream(object.Body as Readable, name, ctx);
        } catch (error) {
          stats.errors.push(
            error instanceof ThrottlescopeError
              ? { source: name, message: error.message }
              : { source: name, message: toRemoteError(error, `S3 GetObject ${name}`).message },
          );
        }
        ctx.files.done++;
        progress();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
    return keys.length;
  } finally {
    client.destroy();
  }
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
  const stats: ReadStats = {
    files: 0,
    skippedFiles: 0,
    lines: 0,
    malformed: 0,
    outsideWindow: 0,
    bytes: 0,
    errors: [],
  };
  const ctx: Counters = { stats, visitor, options, files: { total: 0, done: 0 } };
  const progress = (source: string) =>
    options.onProgress?.({
      filesDone: ctx.files.done,
      filesTotal: ctx.files.total,
      bytes: stats.bytes,
      source,
    });
  for (const spec of specs) {
    if (options.signal?.aborted) break;
    if (spec === '-') {
      ctx.files.total++;
      stats.files++;
      try {
        await consumeStream(options.stdin ?? (process.stdin as Readable), 'stdin', ctx);
      } catch (error) {
        stats.errors.push(sourceError('stdin', error));
      }
      ctx.files.done++;
      progress('stdin');
      continue;
    }
    if (spec.startsWith('s3://')) {
      try {
        await readS3(spec, ctx, () => progress(spec));
      } catch (error) {
        stats.errors.push(sourceError(spec, error));
      }
      continue;
    }
    let files: string[];
    try {
      files = await listLocal(spec, options, stats);
    } catch (error) {
      stats.errors.push(sourceError(spec, error));
      continue;
    }
    ctx.files.total += files.length;
    for (const file of files) {
      if (options.signal?.aborted) break;
      stats.files++;
      try {
        // Opening first turns a missing/unreadable file into a named error before streaming.
        const handle = await open(file, 'r');
        await consumeStream(createReadStream('', { fd: handle, highWaterMark: 256 * 1024 }), file, ctx);
      } catch (error) {
        stats.errors.push(sourceError(file, error));
      }
      ctx.files.done++;
      progress(file);
    }
  }
  return stats;
}
