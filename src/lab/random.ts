import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids on the request path (trace ids, connection ids, log file suffixes), drawn
 * from a refilled pool: one `randomFillSync` per 4 KiB instead of one per request.
 */
const POOL = Buffer.allocUnsafe(4096);
let offset = POOL.length;

/** Where the next `size` bytes of the pool start (refilled when they would run past its end). */
function take(size: number): number {
  if (offset + size > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const start = offset;
  offset += size;
  return start;
}

export function randomChunk(size: number): Buffer {
  const start = take(size);
  return Buffer.from(POOL.subarray(start, start + size));
}

export function randomHex(bytes: number): string {
  const start = take(bytes);
  return POOL.toString('hex', start, start + bytes);
}

/** `bytes` random bytes as URL-safe base64 without padding. */
export function randomBase64url(bytes: number): string {
  const start = take(bytes);
  return POOL.toString('base64url', start, start + bytes);
}
