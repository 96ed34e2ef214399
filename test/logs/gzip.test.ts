import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseAlbLogs } from '../../src/logs/analyse.js';
import { inflateSingleGzipMember, isInflateScratch } from '../../src/logs/gzip.js';
import { DOC_HTTPS, DOC_LAMBDA_FAILED, DOC_LAMBDA_OK, THROTTLED_NEW } from '../helpers/alb-lines.js';

const REAL_LINES = [DOC_LAMBDA_OK, DOC_LAMBDA_FAILED, DOC_HTTPS, THROTTLED_NEW];

const MAX = 32 * 1024 * 1024;

/** A gzip member written by hand, with the optional header fields RFC 1952 allows. */
function member(
  data: Buffer,
  opts: { extra?: Buffer; name?: string; comment?: string; headerCrc?: boolean } = {},
): Buffer {
  let flags = 0;
  const parts: Buffer[] = [];
  if (opts.extra) {
    flags |= 0x04;
    const len = Buffer.alloc(2);
    len.writeUInt16LE(opts.extra.length);
    parts.push(len, opts.extra);
  }
  if (opts.name !== undefined) {
    flags |= 0x08;
    parts.push(Buffer.from(`${opts.name}\0`, 'latin1'));
  }
  if (opts.comment !== undefined) {
    flags |= 0x10;
    parts.push(Buffer.from(`${opts.comment}\0`, 'latin1'));
  }
  const head = Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3]);
  if (opts.headerCrc) {
    flags |= 0x02;
    head[3] = flags;
    const h = Buffer.alloc(2);
    h.writeUInt16LE(crc32(Buffer.concat([head, ...parts])) & 0xffff);
    parts.push(h);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([head, ...parts, deflateRawSync(data), trailer]);
}

describe('inflateSingleGzipMember', () => {
  const text = Buffer.from(`${REAL_LINES.join('\n')}\n`);

  it('inflates what gzip writes, byte for byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 9 }), (bytes, level) => {
        const data = Buffer.from(bytes);
        expect(inflateSingleGzipMember(gzipSync(data, { level }), MAX)?.equals(data)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('inflates into one reused buffer, grown when a file needs more, each result whole until the next call', () => {
    const small = Buffer.from('a'.repeat(100_000));
    const large = Buffer.from(
      Array.from({ length: 300_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''),
    );
    const first = inflateSingleGzipMember(gzipSync(small), MAX);
    expect(first?.equals(small)).toBe(true);
    expect(isInflateScratch(first as Buffer)).toBe(true);
    const grown = inflateSingleGzipMember(gzipSync(large), MAX) as Buffer;
    expect(grown.equals(large)).toBe(true);
    expect(isInflateScratch(grown)).toBe(true);
    // The next file lands in the same memory (so nothing may keep a result past the next call).
    const again = inflateSingleGzipMember(gzipSync(small), MAX) as Buffer;
    expect(again.equals(small)).toBe(true);
    expect(again.buffer).toBe(grown.buffer);
    expect(grown.subarray(0, small.length).equals(small)).toBe(true);
    expect(isInflateScratch(small)).toBe(false);
  });

  it('skips every optional header field (extra, name, comment, header CRC)', () => {
    const forms = [
      member(text, { extra: Buffer.from('AB\x02\x00hi', 'latin1') }),
      member(text, { name: 'x.log' }),
      member(text, { comment: 'made by hand' }),
      member(text, { headerCrc: true }),
      member(text, { extra: Buffer.alloc(0), name: '', comment: 'c', headerCrc: true }),
    ];
    for (const gz of forms) expect(inflateSingleGzipMember(gz, MAX)?.toString()).toBe(text.toString());
  });

  it('declines, for the general path, what is not exactly one sound member', () => {
    const gz = gzipSync(text);
    const badCrc = Buffer.from(gz);
    badCrc.writeUInt32LE((badCrc.readUInt32LE(gz.length - 8) ^ 1) >>> 0, gz.length - 8);
    const badSize = Buffer.from(gz);
    badSize.writeUInt32LE(text.length + 1, gz.length - 4);
    const reserved = Buffer.from(gz);
    reserved[3] = 0x20;
    const flipped = Buffer.from(gz);
    flipped[20] = (flipped[20] as number) ^ 0xff;
    for (const bad of [
      Buffer.concat([gz, gz]), // two members
      Buffer.concat([gz, Buffer.from('junk')]),
      gz.subarray(0, gz.length - 3),
      gz.subarray(0, Math.floor(gz.length / 2)),
      badCrc,
      badSize,
      reserved,
      flipped,
      text, // not gzip
      Buffer.from([0x1f, 0x8b, 8]),
    ]) {
      expect(inflateSingleGzipMember(bad, MAX)).toBeNull();
    }
    expect(inflateSingleGzipMember(gz, text.length - 1)).toBeNull(); // larger than allowed
  });

  it('leaves a two-member file and a damaged one to the general reader, which reads or names them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-gzip-'));
    const half = Math.floor(REAL_LINES.length / 2);
    const a = Buffer.from(`${REAL_LINES.slice(0, half).join('\n')}\n`);
    const b = Buffer.from(`${REAL_LINES.slice(half).join('\n')}\n`);
    await writeFile(join(dir, 'two.log.gz'), Buffer.concat([gzipSync(a), gzipSync(b)]));
    const two = await analyseAlbLogs([join(dir, 'two.log.gz')], { workers: 1 });
    expect(two.read.lines).toBe(REAL_LINES.length);
    expect(two.errors).toEqual([]);

    const gz = gzipSync(text);
    const badCrc = Buffer.from(gz);
    badCrc.writeUInt32LE((badCrc.readUInt32LE(gz.length - 8) ^ 1) >>> 0, gz.length - 8);
    await writeFile(join(dir, 'crc.log.gz'), badCrc);
    const damaged = await analyseAlbLogs([join(dir, 'crc.log.gz')], { workers: 1 });
    expect(damaged.errors.map((e) => e.message)).toEqual([expect.stringMatching(/crc\.log\.gz: .*corrupt/)]);
  });
});
