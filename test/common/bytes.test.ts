import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { putAscii, putDigits, putInteger, putUint, putUtf8, RepeatedColumn } from '../../src/common/bytes.js';

const written = (put: (buf: Buffer, at: number) => number): string => {
  const buf = Buffer.alloc(64, 0x2a);
  const end = put(buf, 3);
  expect(buf.subarray(0, 3).toString('latin1')).toBe('***');
  expect(buf[end]).toBe(0x2a);
  return buf.toString('latin1', 3, end);
};

describe('bytes', () => {
  it('putUint writes any non-negative safe integer as String() does, around the int32 edges too', () => {
    const edges = [0, 9, 10, 99, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 999_999_999, 1e9, 1796466406363, 2 ** 53 - 1];
    for (const n of edges) expect(written((b, at) => putUint(b, at, n))).toBe(String(n));
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(written((b, at) => putUint(b, at, n))).toBe(String(n));
      }),
    );
  });

  it('putInteger writes negatives, fractions and non-finite numbers as String() does', () => {
    for (const n of [-1, -0, 0.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY, 42])
      expect(written((b, at) => putInteger(b, at, n))).toBe(String(n));
  });

  it('putDigits writes exactly that many digits, zero-padded', () => {
    expect(written((b, at) => putDigits(b, at, 7, 3))).toBe('007');
    expect(written((b, at) => putDigits(b, at, 0, 6))).toBe('000000');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.nat(), (digits, x) => {
        const n = x % 10 ** digits;
        expect(written((b, at) => putDigits(b, at, n, digits))).toBe(String(n).padStart(digits, '0'));
      }),
    );
  });

  it('putAscii writes the string at the offset', () => {
    expect(written((b, at) => putAscii(b, at, 'HTTP/1.1\t-'))).toBe('HTTP/1.1\t-');
  });
  it('putUtf8 writes what Buffer.write writes, whatever the UTF-16 units (lone surrogates too)', () => {
    const units = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 20,
    });
    fc.assert(
      fc.property(fc.oneof(units, fc.string({ unit: 'binary', maxLength: 20 })), (s) => {
        const buf = Buffer.alloc(3 * s.length + 8, 0x2a);
        const end = putUtf8(buf, 3, s);
        expect(buf.subarray(3, end).equals(Buffer.from(s, 'utf8'))).toBe(true);
        expect(buf[end]).toBe(0x2a);
      }),
    );
  });
  it('RepeatedColumn puts what its encoder puts, for repeated, changed and longer values, whatever the buffer held since', () => {
    const values = fc.array(
      fc.constantFrom('', 'a', 'GET', 'é漢', 'x'.repeat(70), 'x'.repeat(200), 'arn:aws:x'),
      {
        maxLength: 60,
      },
    );
    fc.assert(
      fc.property(values, (vs) => {
        const column = new RepeatedColumn(putUtf8);
        for (const v of vs) {
          // The buffer is scribbled over between puts, as a batch's chunk is.
          const buf = Buffer.alloc(3 * v.length + 8, 0x2a);
          const end = column.put(buf, 2, v);
          expect(buf.subarray(2, end).equals(Buffer.from(v, 'utf8'))).toBe(true);
          expect(buf[end]).toBe(0x2a);
        }
      }),
    );
  });
});
