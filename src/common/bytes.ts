/**
 * Writing text straight into a Buffer, for the writers that put a line per request (the probe's
 * requests.jsonl, the lab's ALB and CloudFront logs): no string per line to build, flatten and encode.
 * The caller makes sure there is room.
 */

/** Puts an ASCII string's bytes at `at`; returns where they end. */
export function putAscii(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  return at + n;
}

/** Puts a non-negative integer below 2^53 in decimal at `at`; returns where it ends. */
export function putUint(buf: Buffer, at: number, n: number): number {
  // Below 2^31 the digits come from int32 arithmetic; above, the top part is split off first.
  if (n >= 2147483648) {
    const high = Math.floor(n / 1e9);
    return putDigits(buf, putUint(buf, at, high), n - high * 1e9, 9);
  }
  const v = n | 0;
  let digits = 1;
  for (let m = v; m >= 10; m = (m / 10) | 0) digits++;
  return putDigits(buf, at, v, digits);
}

/** An integer as String() writes it: digit by digit when it is a non-negative safe integer. */
export function putInteger(buf: Buffer, at: number, n: number): number {
  return Number.isSafeInteger(n) && n >= 0 ? putUint(buf, at, n) : putAscii(buf, at, String(n));
}

/** Puts `n` (0 <= n < 2^31) in exactly `digits` digits, zero-padded; returns where they end. */
export function putDigits(buf: Buffer, at: number, n: number, digits: number): number {
  let v = n | 0;
  for (let i = at + digits - 1; i >= at; i--) {
    const q = (v / 10) | 0;
    buf[i] = 48 + v - q * 10;
    v = q;
  }
  return at + digits;
}

/**
 * Puts a string's UTF-8 bytes at `at` (room for 3 bytes per UTF-16 unit); returns where they end.
 * ASCII byte by byte; from the first other character on, Buffer.write's encoder (so surrogates
 * come out as Buffer.write writes them).
 */
export function putUtf8(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return at + i + buf.write(i === 0 ? s : s.slice(i), at + i, 'utf8');
    buf[at + i] = c;
  }
  return at + n;
}

/**
 * Puts a column whose value mostly repeats (a load balancer's name, a client's user agent): the
 * bytes written for the last value are kept and copied in one call while the same value comes
 * again, instead of character by character (a typed-array copy costs a fraction of a JS loop
 * over the same characters, and skips the check an encoding makes of each one).
 */
export class RepeatedColumn {
  private last: string | undefined = undefined;
  /** The bytes of `last`: a view of `store` (grown when a longer value comes). */
  private bytes: Uint8Array = new Uint8Array(0);
  private store = new Uint8Array(64);

  /** `encode` puts a value's bytes at `at` and returns where they end (putUtf8, an escaping writer...). */
  constructor(private readonly encode: (buf: Buffer, at: number, value: string) => number) {}

  put(buf: Buffer, at: number, value: string): number {
    if (value === this.last) {
      buf.set(this.bytes, at);
      return at + this.bytes.length;
    }
    const end = this.encode(buf, at, value);
    const n = end - at;
    if (n > this.store.length) this.store = new Uint8Array(Math.max(n, 2 * this.store.length));
    // A copy: the caller's buffer is written on.
    const store = this.store;
    for (let i = 0; i < n; i++) store[i] = buf[at + i]!;
    this.bytes = store.subarray(0, n);
    this.last = value;
    return end;
  }
}
