import * as zlib from 'node:zlib';

const FTEXT_RESERVED = 0xe0;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;

// zlib.crc32 arrived in Node 20.15; without it the fast path is simply not taken.
const crc32: ((data: Uint8Array) => number) | undefined = (
  zlib as unknown as { crc32?: (data: Uint8Array) => number }
).crc32;

/** The output buffer for `size` inflated bytes: one chunk that holds it all (no concatenation of pieces). */
export const inflateChunkSize = (size: number): number => Math.max(64 * 1024, size + 1);

/** The internals of Node's zlib engines that `inflateRawReusing` relies on (lib/zlib.js). */
interface ZlibEngineInternals {
  _outBuffer?: unknown;
  _outOffset?: unknown;
  _chunkSize?: unknown;
  _processChunk?: unknown;
  bytesWritten: number;
}

/** This thread's inflate output buffer, reused from file to file (see inflateRawReusing). */
let scratch: Buffer | null = null;

/** Whether `buf` lies in the reused inflate buffer (then it is overwritten by the next inflate, and never to be freed). */
export const isInflateScratch = (buf: Buffer): boolean => scratch !== null && buf.buffer === scratch.buffer;

/**
 * Raw inflate whose output lands in one buffer reused by every call on this thread; the result is
 * valid until the next call. Why: a fresh output buffer of 10+ MB per file is fresh memory, and the
 * kernel's page faults on its first touch cost as much as the inflate itself (see
 * docs/performance.md). Node's synchronous inflate writes into its engine's output buffer and
 * returns a slice of it when everything fits; the engine here is handed the reused buffer as that
 * buffer. This relies on internals of Node's lib/zlib.js, so it checks that they are there and
 * inflates the ordinary way otherwise.
 */
function inflateRawReusing(
  deflated: Buffer,
  size: number,
  maxOutputLength: number,
): { buffer: Buffer; consumed: number } {
  const want = inflateChunkSize(size);
  const engine = new zlib.InflateRaw({ maxOutputLength }) as unknown as ZlibEngineInternals;
  if (
    typeof engine._processChunk === 'function' &&
    Buffer.isBuffer(engine._outBuffer) &&
    engine._outOffset === 0 &&
    typeof engine._chunkSize === 'number'
  ) {
    if (scratch === null || scratch.length < want) scratch = Buffer.allocUnsafeSlow(want);
    engine._outBuffer = scratch;
    engine._chunkSize = scratch.length;
    const buffer = (engine._processChunk as (chunk: Buffer, flush: number) => Buffer).call(
      engine,
      deflated,
      zlib.constants.Z_FINISH,
    );
    return { buffer, consumed: engine.bytesWritten };
  }
  const r = zlib.inflateRawSync(deflated, { info: true, chunkSize: want, maxOutputLength }) as unknown as {
    buffer: Buffer;
    engine: { bytesWritten: number };
  };
  return { buffer: r.buffer, consumed: r.engine.bytesWritten };
}

/**
 * Inflates a file that is exactly one gzip member (as every ALB log object is), checking its
 * CRC-32 and size as gunzip does; null when it is anything else (several members, trailing bytes,
 * damage, too large), for the caller's general path, which then reports what is wrong. The result
 * may lie in this thread's reused buffer (`isInflateScratch`): valid until the next call.
 *
 * Why not gunzipSync: Node's inflate computes the CRC while it copies the output, at well under
 * half the speed of zlib.crc32 over the finished buffer; raw inflate plus one crc32 call takes
 * about half the time per line (see docs/performance.md).
 */
export function inflateSingleGzipMember(buf: Buffer, maxOutputLength: number): Buffer | null {
  if (crc32 === undefined) return null;
  const n = buf.length;
  if (n < 18 || buf[0] !== 0x1f || buf[1] !== 0x8b || buf[2] !== 8) return null;
  const flags = buf[3] as number;
  if (flags & FTEXT_RESERVED) return null;
  let p = 10;
  if (flags & FEXTRA) {
    if (p + 2 > n) return null;
    p += 2 + buf.readUInt16LE(p);
  }
  if (flags & FNAME) {
    const end = buf.indexOf(0, p);
    if (end < 0) return null;
    p = end + 1;
  }
  if (flags & FCOMMENT) {
    const end = buf.indexOf(0, p);
    if (end < 0) return null;
    p = end + 1;
  }
  if (flags & FHCRC) p += 2;
  const trailer = n - 8;
  if (p >= trailer) return null;
  const size = buf.readUInt32LE(n - 4);
  if (size > maxOutputLength) return null;
  let out: Buffer;
  let consumed: number;
  try {
    ({ buffer: out, consumed } = inflateRawReusing(buf.subarray(p, trailer), size, maxOutputLength));
  } catch {
    return null;
  }
  if (p + consumed !== trailer || out.length !== size || crc32(out) !== buf.readUInt32LE(trailer)) {
    return null;
  }
  return out;
}
