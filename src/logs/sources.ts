import { createReadStream } from 'node:fs';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { ExitCode, ThrottlescopeError } from '../common/errors.js';
import { inflateChunkSize, inflateSingleGzipMember, isInflateScratch } from './gzip.js';
import { type AlbParseError, parseAlbLine } from './parse-line.js';
import type { AlbLogRecord } from './record.js';
import { albLogDayPrefix, keyMayOverlap, parseAlbLogKey } from './s3-key.js';
import { type AlbLineFields, AlbLineScanner } from './scan-line.js';
import { WasmBlockScanner, type WasmLineFields, type WasmLineSink } from './wasm-scanner.js';

/** Where a line came from, for messages (`file:line`). */
export interface LineRef {
  source: string;
  line: number;
}

export interface LogVisitor {
  record(record: AlbLogRecord, ref: LineRef): void;
  malformed?(error: AlbParseError, ref: LineRef, text: string): void;
}

/**
 * For aggregation: each entry as the few fields aggregation reads (`scanAlbLine`), in one reused
 * object, valid only during the call. Lines are accepted and rejected as `record` would. When
 * `fields` returns true, that entry is also parsed into a full record and handed to `record`: the
 * few entries a caller wants whole cost a parse, the rest only a scan.
 */
export interface LogFieldVisitor {
  // biome-ignore lint/suspicious/noConfusingVoidType: a visitor that only counts returns nothing
  fields(fields: AlbLineFields): boolean | void;
  record?(record: AlbLogRecord, ref: LineRef): void;
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
  /**
   * Aggregation reads lines with the WebAssembly scanner when it is built (`'auto'`); `'js'` reads
   * them with the JavaScript scanner only (for tests and benchmarks that compare the two).
   */
  scanner?: 'auto' | 'js' | undefined;
}

interface Counters {
  stats: ReadStats;
  visitor: LogVisitor | LogFieldVisitor;
  options: ReadOptions;
  /** Files known and files finished, for progress. */
  files: { total: number; done: number };
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const NEWLINE = 10;
/**
 * Bytes decoded into one string at a time: big enough to amortise calls, small enough for V8's
 * young generation. Records are slices of it (and callers may keep records): smaller blocks then.
 */
const SCAN_BLOCK = 64 * 1024;
const RECORD_BLOCK = 16 * 1024;
/** zlib output chunk for streamed gzip: fewer thread-pool round trips than the 16 KiB default. */
const GUNZIP_CHUNK = 512 * 1024;
/** Files up to this size are read whole... */
const WHOLE_FILE_MAX = 16 * 1024 * 1024;
/** ...and, when gzip, inflated in one synchronous call if they expand to at most this. */
const INFLATE_WHOLE_MAX = 32 * 1024 * 1024;

// One WebAssembly scanner per thread (module state is per thread), made on first use.
let wasmScanner: WasmBlockScanner | null | undefined;
function threadWasmScanner(): WasmBlockScanner | null {
  if (wasmScanner === undefined) wasmScanner = WasmBlockScanner.create();
  return wasmScanner;
}

/**
 * Splits bytes into lines and hands each to the visitor, parsed (or, for a field visitor, scanned
 * in place). Bytes are decoded as UTF-8 a block of whole lines at a time: a newline byte never
 * occurs inside a multi-byte character, so the text is the same as decoding the whole stream.
 * A field visitor's whole lines are read from the bytes by the WebAssembly scanner when it is
 * built; the lines it hands back are decoded and scanned here.
 */
class LineReader implements WasmLineSink {
  lineNo = 0;
  /** The bytes of an unfinished line, in pieces (joined once its newline arrives). */
  private carry: Buffer[] = [];
  private readonly scanner: AlbLineScanner | null;
  private readonly fieldVisitor: LogFieldVisitor | null;
  private readonly sinceMs: number;
  private readonly untilMs: number;
  private readonly block: number;
  private readonly wasm: WasmBlockScanner | null;

  constructor(
    private readonly source: string,
    private readonly ctx: Counters,
  ) {
    this.fieldVisitor = 'fields' in ctx.visitor ? ctx.visitor : null;
    this.scanner = this.fieldVisitor === null ? null : new AlbLineScanner();
    this.block = this.scanner === null ? RECORD_BLOCK : SCAN_BLOCK;
    this.sinceMs = ctx.options.sinceMs ?? Number.NEGATIVE_INFINITY;
    this.untilMs = ctx.options.untilMs ?? Number.POSITIVE_INFINITY;
    this.wasm = this.fieldVisitor !== null && ctx.options.scanner !== 'js' ? threadWasmScanner() : null;
  }

  /** WasmLineSink: a line the WebAssembly scanner read. */
  fields(fields: WasmLineFields): void {
    this.lineNo++;
    if (this.scanned(fields)) this.wholeRecord(fields.lineText());
  }

  /**
   * Counts a line either scanner accepted and hands its fields to the visitor (inside the window);
   * true when the visitor asks for its whole record.
   */
  private scanned(fields: AlbLineFields): boolean {
    const stats = this.ctx.stats;
    stats.lines++;
    if (fields.timeMs < this.sinceMs || fields.timeMs >= this.untilMs) {
      stats.outsideWindow++;
      return false;
    }
    return (this.fieldVisitor as LogFieldVisitor).fields(fields) === true;
  }

  /** The record of a line a scanner accepted (so the parser accepts it too), for the visitor that asked for it. */
  private wholeRecord(line: string): void {
    (this.fieldVisitor as LogFieldVisitor).record?.(parseAlbLine(line), {
      source: this.source,
      line: this.lineNo,
    });
  }

  /** WasmLineSink: an empty line. */
  empty(): void {
    this.lineNo++;
  }

  /** WasmLineSink: a line the WebAssembly scanner left to this one (unusual shapes, and errors). */
  other(buf: Buffer, from: number, to: number): void {
    this.text(buf.toString('utf8', from, to));
  }

  /** Reads the whole lines of `buf`; a trailing partial line waits for the next push or `end`. */
  push(buf: Buffer): void {
    let start = 0;
    const n = buf.length;
    const block = this.block;
    if (this.carry.length > 0) {
      const nl = buf.indexOf(NEWLINE);
      if (nl < 0) {
        this.carry.push(Buffer.from(buf));
        return;
      }
      this.carry.push(buf.subarray(0, nl + 1));
      const line = Buffer.concat(this.carry);
      this.carry = [];
      this.text(line.toString('utf8'));
      start = nl + 1;
    }
    const wasm = this.wasm;
    if (wasm !== null) {
      const end = buf.lastIndexOf(NEWLINE) + 1;
      while (start < end) {
        start = wasm.read(buf, start, end, this);
        if (start < end) {
          // A line longer than the scanner's block.
          const nl = buf.indexOf(NEWLINE, start) + 1;
          this.text(buf.toString('utf8', start, nl));
          start = nl;
        }
        if (this.ctx.options.signal?.aborted) return;
      }
    }
    while (start < n) {
      let end: number;
      if (n - start <= block) {
        end = buf.lastIndexOf(NEWLINE) + 1;
        if (end <= start) break;
      } else {
        end = buf.lastIndexOf(NEWLINE, start + block - 1) + 1;
        if (end <= start) {
          end = buf.indexOf(NEWLINE, start + block) + 1;
          if (end === 0) break;
        }
      }
      this.text(buf.toString('utf8', start, end));
      start = end;
      if (this.ctx.options.signal?.aborted) return;
    }
    // Copied: the caller may reuse its buffer.
    if (start < n) this.carry.push(Buffer.from(buf.subarray(start)));
  }

  /** The last line, when the input does not end with a newline. */
  end(): void {
    if (this.carry.length === 0) return;
    const rest = Buffer.concat(this.carry).toString('utf8');
    this.carry = [];
    this.text(rest);
  }

  /** The lines of `text`: whole lines, each ending with a newline except the last line of an input. */
  private text(text: string): void {
    this.scanner?.setText(text);
    let p = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.line(text, p, nl);
      p = nl + 1;
      nl = text.indexOf('\n', p);
    }
    if (p < text.length) this.line(text, p, text.length);
  }

  private line(text: string, from: number, to: number): void {
    this.lineNo++;
    const len = to - from;
    if (len === 0 || (len === 1 && text.charCodeAt(from) === 13)) return;
    const stats = this.ctx.stats;
    const scanner = this.scanner;
    const fieldVisitor = this.fieldVisitor;
    if (scanner !== null && fieldVisitor !== null) {
      try {
        scanner.scan(from, to);
      } catch (error) {
        stats.malformed++;
        fieldVisitor.malformed?.(
          error as AlbParseError,
          { source: this.source, line: this.lineNo },
          text.slice(from, to),
        );
        return;
      }
      if (this.scanned(scanner)) this.wholeRecord(text.slice(from, to));
      return;
    }
    const visitor = this.ctx.visitor as LogVisitor;
    const line = from === 0 && to === text.length ? text : text.slice(from, to);
    let record: AlbLogRecord;
    try {
      record = parseAlbLine(line);
    } catch (error) {
      stats.malformed++;
      visitor.malformed?.(error as AlbParseError, { source: this.source, line: this.lineNo }, line);
      return;
    }
    stats.lines++;
    if (record.timeMs < this.sinceMs || record.timeMs >= this.untilMs) {
      stats.outsideWindow++;
      return;
    }
    visitor.record(record, { source: this.source, line: this.lineNo });
  }
}

const hasBom = (b: Buffer) => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/**
 * Frees memory that nothing else references, now: transferring the ArrayBuffer moves its memory
 * to a new owner that is unreachable at once and collected young. Left alone, a file's buffers
 * outlive a minor GC or two while the file is read, get promoted, and wait for a full collection:
 * some 70 MB of dead buffers per thread.
 */
function release(buffer: ArrayBufferLike): void {
  try {
    if (buffer instanceof ArrayBuffer) structuredClone(buffer, { transfer: [buffer] });
  } catch {
    // Not transferable (it cannot be detached): the collector frees it in its own time.
  }
}

/**
 * A file read whole, if it has at most `max` bytes, into memory of its own (never Node's shared
 * buffer pool, so that `release` may free it). Null when larger (it may have grown since stat).
 */
async function readWhole(handle: FileHandle, max: number): Promise<Buffer | null> {
  const size = (await handle.stat()).size;
  if (size > max) return null;
  const buf = Buffer.allocUnsafeSlow(size + 1);
  let got = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
    if (got > size) {
      release(buf.buffer);
      return null;
    }
  }
  return buf.subarray(0, got);
}

/**
 * A file read whole: inflated in one synchronous call (no thread-pool round trip per chunk, no
 * fresh output buffer per chunk). Returns false, having read no line, when it must be streamed
 * instead: too large once inflated, or damaged (the stream keeps the lines before the damage).
 * Releases `buf`.
 */
function consumeWhole(buf: Buffer, source: string, ctx: Counters): boolean {
  let bytes = buf;
  let inflated: ArrayBufferLike | undefined;
  if (buf[0] === GZIP_MAGIC_0 && buf[1] === GZIP_MAGIC_1) {
    // The gzip trailer holds the inflated size (mod 2^32, of the last member only: a hint).
    const size = buf.length < 18 ? Number.POSITIVE_INFINITY : buf.readUInt32LE(buf.length - 4);
    if (size > INFLATE_WHOLE_MAX) {
      release(buf.buffer);
      return false;
    }
    const chunkSize = inflateChunkSize(size);
    const single = inflateSingleGzipMember(buf, INFLATE_WHOLE_MAX);
    if (single !== null) bytes = single;
    else {
      try {
        bytes = gunzipSync(buf, { maxOutputLength: INFLATE_WHOLE_MAX, chunkSize });
      } catch {
        release(buf.buffer);
        return false;
      }
    }
    // zlib's own output buffer (not a concatenation, and too large for the pool): ours to free.
    // The thread's reused inflate buffer is kept for the next file.
    if (
      !isInflateScratch(bytes) &&
      bytes.buffer.byteLength === chunkSize &&
      chunkSize >= Buffer.poolSize >>> 1
    )
      inflated = bytes.buffer;
  } else if (hasBom(buf)) {
    bytes = buf.subarray(3); // as TextDecoder, which the streamed path uses, drops it
  }
  ctx.stats.bytes += buf.length;
  const reader = new LineReader(source, ctx);
  reader.push(bytes);
  reader.end();
  release(buf.buffer);
  if (inflated) release(inflated);
  return true;
}

/** Feeds a byte stream (plain or gzip, detected by its magic bytes) line by line to the visitor. */
async function consumeStream(stream: Readable, source: string, ctx: Counters): Promise<void> {
  const { stats, options } = ctx;
  const reader = new LineReader(source, ctx);
  let decoded: AsyncIterable<Buffer>;
  const first = await firstChunk(stream);
  if (first === null) return;
  stats.bytes += first.chunk.length;
  if (first.chunk[0] === GZIP_MAGIC_0 && first.chunk[1] === GZIP_MAGIC_1) {
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
    first.rest.on('error', (e) => gunzip.destroy(e));
    gunzip.write(first.chunk);
    first.rest.on('data', (c: Buffer) => {
      stats.bytes += c.length;
    });
    first.rest.pipe(gunzip);
    decoded = gunzip;
  } else {
    // As TextDecoder, which this path used to decode with, a leading BOM is dropped.
    const withoutBom = (b: Buffer) => (hasBom(b) ? b.subarray(3) : b);
    decoded = (async function* () {
      // The first three bytes decide; they may come in more than one chunk.
      let head: Buffer | null = first.chunk;
      if (head.length >= 3) {
        yield withoutBom(head);
        head = null;
      }
      for await (const c of first.rest) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        stats.bytes += b.length;
        if (head === null) yield b;
        else {
          head = Buffer.concat([head, b]);
          if (head.length >= 3) {
            yield withoutBom(head);
            head = null;
          }
        }
      }
      if (head !== null) yield head;
    })();
  }
  try {
    for await (const chunk of decoded) {
      if (options.signal?.aborted) break;
      reader.push(chunk);
    }
  } catch (error) {
    // Keep what was read; the damaged tail is reported by name.
    reader.end();
    throw new ThrottlescopeError(
      'TS_LOG_SOURCE',
      `${source}: ${describeStreamError(error)} after ${reader.lineNo} lines (the lines before it were kept)`,
      { exitCode: ExitCode.input, cause: error },
    );
  }
  reader.end();
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

async function readSources(
  specs: readonly string[],
  visitor: LogVisitor | LogFieldVisitor,
  options: ReadOptions,
): Promise<ReadStats> {
  const stats = emptyReadStats();
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
        let streamIt = true;
        try {
          const whole = await readWhole(handle, WHOLE_FILE_MAX);
          if (whole !== null) streamIt = !consumeWhole(whole, file, ctx);
        } catch (error) {
          await handle.close();
          throw error;
        }
        if (!streamIt) await handle.close();
        else
          await consumeStream(
            createReadStream('', { fd: handle, start: 0, highWaterMark: 256 * 1024 }),
            file,
            ctx,
          );
      } catch (error) {
        stats.errors.push(sourceError(file, error));
      }
      ctx.files.done++;
      progress(file);
    }
  }
  return stats;
}
