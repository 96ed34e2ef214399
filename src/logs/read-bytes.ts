/**
 * One object's bytes to its format's line reader: gzip told from its magic bytes (a whole buffer
 * inflated in one call, a stream through zlib), a leading byte-order mark dropped, the bytes read
 * counted. The same for every source.
 */
import type { Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { ThrottlescopeError } from '../common/errors.js';
import type { LogFormat } from './formats.js';
import { inflateChunkSize, inflateSingleGzipMember, isInflateScratch } from './gzip.js';
import type { LineCounts, LineReaderTarget } from './line-reader.js';

/** A line reader's target that also counts the bytes read (as stored: compressed for gzip). */
export interface ByteReadTarget extends LineReaderTarget {
  stats: LineCounts & { bytes: number };
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/** zlib output chunk for streamed gzip: fewer thread-pool round trips than the 16 KiB default. */
const GUNZIP_CHUNK = 512 * 1024;
/** Gzip read whole is inflated in one synchronous call if it expands to at most this. */
const INFLATE_WHOLE_MAX = 32 * 1024 * 1024;

const hasBom = (b: Buffer) => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/**
 * Frees memory that nothing else references, now: transferring the ArrayBuffer moves its memory
 * to a new owner that is unreachable at once and collected young. Left alone, a file's buffers
 * outlive a minor GC or two while the file is read, get promoted, and wait for a full collection:
 * some 70 MB of dead buffers per thread.
 */
export function release(buffer: ArrayBufferLike): void {
  try {
    if (buffer instanceof ArrayBuffer) structuredClone(buffer, { transfer: [buffer] });
  } catch {
    // Not transferable (it cannot be detached): the collector frees it in its own time.
  }
}

/**
 * A file read whole: inflated in one synchronous call (no thread-pool round trip per chunk, no
 * fresh output buffer per chunk). Returns false, having read no line, when it must be streamed
 * instead: too large once inflated, or damaged (the stream keeps the lines before the damage).
 * Releases `buf`.
 */
export function consumeWhole(buf: Buffer, source: string, ctx: ByteReadTarget, format: LogFormat): boolean {
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
  const reader = format.lineReader(source, ctx);
  reader.push(bytes);
  reader.end();
  release(buf.buffer);
  if (inflated) release(inflated);
  return true;
}

/** Feeds a byte stream (plain or gzip, detected by its magic bytes) line by line to the visitor. */
export async function consumeStream(
  stream: Readable,
  source: string,
  ctx: ByteReadTarget,
  format: LogFormat,
): Promise<void> {
  const { stats, options } = ctx;
  const reader = format.lineReader(source, ctx);
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
      { cause: error },
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
