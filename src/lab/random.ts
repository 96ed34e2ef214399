import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids on the request path (trace ids, connection ids, log file suffixes), drawn
 * from a refilled pool: one `randomFillSync` per 4 KiB instead of one per request.
 */
const POOL = Buffer.allocUnsafe(4096);
let offset = POOL.length;

export function randomChunk(size: number): Buffer {
  if (offset + size > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const out = Buffer.from(POOL.subarray(offset, offset + size));
  offset += size;
  return out;
}

export function randomHex(bytes: number): string {
  if (offset + bytes > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const out = POOL.toString('hex', offset, offset + bytes);
  offset += bytes;
  return out;
}

/** `bytes` random bytes as URL-safe base64 without padding. */
export function randomBase64url(bytes: number): string {
  if (offset + bytes > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const out = POOL.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return out;
}
