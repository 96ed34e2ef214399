// AssemblyScript, compiled to WebAssembly by `npm run build:wasm` (see wasm-scanner.ts, which
// loads it, lays out its memory and documents the record it writes).
//
// The fast path of AlbLineScanner, over bytes: it accepts only lines whose every field has one of
// the common shapes that scanner reads without its general path (so it accepts a subset of what
// parseAlbLine accepts, and reads the same values), and hands every other line back ("bail") for
// the JavaScript scanner, which then accepts it or names what is wrong. Property tests hold the two
// to each other.

const SPACE: u32 = 32;
const QUOTE: u32 = 34;
const DASH: u32 = 45;
const DOT: u32 = 46;
const COLON: u32 = 58;
const BACKSLASH: u32 = 92;
const NEWLINE: u32 = 10;
const CR: u32 = 13;

/** `"-"` as the low three bytes of a little-endian u32. */
const QUOTED_DASH: u32 = (QUOTE << 16) | (DASH << 8) | QUOTE;

const K_TEXT: u32 = 0;
const K_ADDRESS: u32 = 1;
const K_SECONDS: u32 = 2;
const K_INTEGER: u32 = 3;
const K_TIMESTAMP: u32 = 4;
/** An integer whose documented values include -1 (matched_rule_priority). */
const K_INTEGER_OR_MINUS_ONE: u32 = 5;

/** Status slot values besides a code: the elb_status_code was `-`, the line was empty, or bail. */
const ABSENT: i32 = -1;
const EMPTY: i32 = -2;
const BAIL: i32 = -3;

// Record layout, 64 bytes per line (wasm-scanner.ts reads it with the same offsets).
const R_TIME: u32 = 0; // f64 epoch ms
const R_START: u32 = 8; // line start (offset in the input)
const R_END: u32 = 12; // offset of its newline
const R_STATUS: u32 = 16;
const R_ARN_ID: u32 = 20; // intern id, -1 absent, -2 not interned (then R_ARN_FROM/TO)
const R_ARN_FROM: u32 = 24;
const R_ARN_TO: u32 = 28;
const R_REASON_ID: u32 = 32;
const R_REASON_FROM: u32 = 36;
const R_REASON_TO: u32 = 40;
const R_REQUEST_FROM: u32 = 44; // -1 when absent
const R_REQUEST_TO: u32 = 48;
const R_TIME_FROM: u32 = 52; // where the time field starts
const RECORD: u32 = 64;

// Memory: the column kinds, then two intern tables (target group ARNs, error reasons).
const KINDS: u32 = 0; // u8 per column, up to 256
const TABLE_SLOTS: i32 = 32;
const TABLE_ENTRY_MAX: u32 = 512;
const ARN_META: u32 = 256; // (ptr, len) pairs
const REASON_META: u32 = ARN_META + <u32>TABLE_SLOTS * 8;
const ARN_STORE: u32 = 1024;
const REASON_STORE: u32 = ARN_STORE + <u32>TABLE_SLOTS * TABLE_ENTRY_MAX;
/** The first byte the caller may use (for records and input). */
const FREE: u32 = REASON_STORE + <u32>TABLE_SLOTS * TABLE_ENTRY_MAX;

let fieldCount: i32 = 0;
let minFieldCount: i32 = 0;
let colTime: i32 = 0;
let colStatus: i32 = 0;
let colRequest: i32 = 0;
let colArn: i32 = 0;
let colReason: i32 = 0;
let arnCount: i32 = 0;
let reasonCount: i32 = 0;

export function freeStart(): u32 {
  return FREE;
}

export function kindsStart(): u32 {
  return KINDS;
}

/** The layout's shape; column kinds are written at `kindsStart()` first. */
export function configure(
  fields: i32,
  minFields: i32,
  time: i32,
  status: i32,
  request: i32,
  arn: i32,
  reason: i32,
): void {
  fieldCount = fields;
  minFieldCount = minFields;
  colTime = time;
  colStatus = status;
  colRequest = request;
  colArn = arn;
  colReason = reason;
  arnCount = 0;
  reasonCount = 0;
}

@inline
function byte(p: u32): u32 {
  return <u32>load<u8>(p);
}

/** The first `a` or `b` at or after p (the input ends with a newline sentinel, so one is found). */
@inline
function find2(p: u32, a: u32, b: u32): u32 {
  const va = i8x16.splat(<i8>a);
  const vb = i8x16.splat(<i8>b);
  let m: u32 = 0;
  do {
    const v = v128.load(p);
    m = i8x16.bitmask(v128.or(i8x16.eq(v, va), i8x16.eq(v, vb)));
    p += 16;
  } while (m == 0);
  return p - 16 + ctz<u32>(m);
}

/** The first `a`, `b` or `c` at or after p (see find2). */
@inline
function find3(p: u32, a: u32, b: u32, c: u32): u32 {
  const va = i8x16.splat(<i8>a);
  const vb = i8x16.splat(<i8>b);
  const vc = i8x16.splat(<i8>c);
  let m: u32 = 0;
  do {
    const v = v128.load(p);
    m = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, va), i8x16.eq(v, vb)), i8x16.eq(v, vc)));
    p += 16;
  } while (m == 0);
  return p - 16 + ctz<u32>(m);
}

/** The first newline at or after p. */
@inline
function findNewline(p: u32): u32 {
  return find2(p, NEWLINE, NEWLINE);
}

/** Whether bytes [a, a + len) equal [b, b + len). */
@inline
function equalBytes(a: u32, b: u32, len: u32): bool {
  let i: u32 = 0;
  for (; i + 8 <= len; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < len; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

/** The id of the bytes [from, to) in an intern table, adding them when new; -2 when they cannot be kept. */
function intern(meta: u32, bytes: u32, isArn: bool, from: u32, to: u32): i32 {
  const len = to - from;
  const count = isArn ? arnCount : reasonCount;
  for (let i = 0; i < count; i++) {
    const e = meta + <u32>i * 8;
    if (load<u32>(e, 4) == len && equalBytes(load<u32>(e), from, len)) return i;
  }
  if (count >= TABLE_SLOTS || len > TABLE_ENTRY_MAX) return -2;
  const at = bytes + <u32>count * TABLE_ENTRY_MAX;
  memory.copy(at, from, len);
  const e = meta + <u32>count * 8;
  store<u32>(e, at);
  store<u32>(e, len, 4);
  if (isArn) arnCount++;
  else reasonCount++;
  return count;
}

@inline
function digit(p: u32): u32 {
  return byte(p) - 48;
}

@inline
function isDigit(p: u32): bool {
  return digit(p) <= 9;
}

/**
 * A bit per byte of [p, p + 16) that is an ASCII digit (bit k for byte p + k). Masks and ctz read
 * runs of digits without a branch per byte, whose exit (numbers of 3 or 4 digits, ports of 4 or 5)
 * the branch predictor misses.
 */
@inline
function digitBits(p: u32): u32 {
  const v = i8x16.sub(v128.load(p), i8x16.splat(48));
  return <u32>i8x16.bitmask(i8x16.le_u(v, i8x16.splat(9)));
}

/** The first byte at or after p that is not a digit (the newline sentinel stops it). */
@inline
function skipDigits(p: u32): u32 {
  let n: u32;
  do {
    // The high half of ~bits is set, so n is at most 16: 16 only when all 16 bytes are digits.
    n = ctz<u32>(~digitBits(p));
    p += n;
  } while (n == 16);
  return p;
}

@inline
function two(p: u32): u32 {
  return digit(p) * 10 + digit(p + 1);
}

// The separators of the usual timestamp at their places in its two halves (0 under the digits).
const TIME_HEAD = i8x16(0, 0, 0, 0, 45, 0, 0, 45, 0, 0, 84, 0, 0, 58, 0, 0);
const TIME_TAIL = i8x16(0, 0, 58, 0, 0, 58, 0, 0, 46, 0, 0, 0, 0, 0, 0, 90);

/**
 * Epoch ms of the usual microsecond timestamp `YYYY-MM-DDTHH:MM:SS.ffffffZ` at p, exactly as
 * Date.UTC computes it; NaN when it is not of that shape (or its year is below 100, where Date.UTC
 * means 19xx).
 */
function usualTimeMs(p: u32): f64 {
  // The shape in two overlapping 16-byte halves, [p, p + 16) and [p + 11, p + 27): each byte is
  // a digit where the mask has a 1 bit, or equals the separator of the template where it has 0.
  // YYYY-MM-DDTHH:MM
  const head = digitBits(p) & 0b1101101101101111;
  const headSeparators = <u32>i8x16.bitmask(i8x16.eq(v128.load(p), TIME_HEAD));
  if ((head | (headSeparators & 0b0010010010010000)) != 0xffff) return NaN;
  // HH:MM:SS.ffffffZ
  const tail = digitBits(p + 11) & 0b0111111011011011;
  const tailSeparators = <u32>i8x16.bitmask(i8x16.eq(v128.load(p + 11), TIME_TAIL));
  if ((tail | (tailSeparators & 0b1000000100100100)) != 0xffff) return NaN;
  const month = two(p + 5);
  const day = two(p + 8);
  const hour = two(p + 11);
  const minute = two(p + 14);
  const second = two(p + 17);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return NaN;
  let y = <i32>(two(p) * 100 + two(p + 2));
  if (y < 100) return NaN;
  // Days from 1970-01-01 (Howard Hinnant's days_from_civil); linear in the day, as Date.UTC.
  const m = <i32>month;
  if (m <= 2) y--;
  const era = y / 400;
  const yoe = y - era * 400;
  const doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + <i32>day - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const days = era * 146097 + doe - 719468;
  const ms = digit(p + 20) * 100 + digit(p + 21) * 10 + digit(p + 22);
  return <f64>days * 86400000.0 + <f64>(((hour * 60 + minute) * 60 + second) * 1000 + ms);
}

/** Whether the byte at p ends a token: a space or the newline. */
@inline
function ends(p: u32): bool {
  const c = byte(p);
  return c == SPACE || c == NEWLINE;
}

/** Marks the record a bail and returns the line's newline (searched from p, inside the line). */
function bail(rec: u32, p: u32): u32 {
  store<i32>(rec, BAIL, R_STATUS);
  return findNewline(p);
}

/**
 * Fills the record `rec` for the line starting at `from`; returns the position of its newline.
 * One pass: every search stops at the newline as well, which ends the line's last token.
 */
function scanLine(from: u32, rec: u32, base: u32): u32 {
  const first = byte(from);
  if (first == NEWLINE || (first == CR && byte(from + 1) == NEWLINE)) {
    store<i32>(rec, EMPTY, R_STATUS);
    return first == NEWLINE ? from : from + 1;
  }
  let pos = from;
  let column: i32 = 0;
  let timeMs: f64 = NaN;
  let timeFrom: u32 = 0;
  let status: i32 = ABSENT;
  let arnId: i32 = -1;
  let arnFrom: u32 = 0;
  let arnTo: u32 = 0;
  let reasonId: i32 = -1;
  let reasonFrom: u32 = 0;
  let reasonTo: u32 = 0;
  let requestFrom: i32 = -1;
  let requestTo: i32 = -1;
  let nl: u32 = 0;
  for (;; column++) {
    // Past the documented fields: extra fields, kept by the parser, read as text.
    const kind = column < fieldCount ? byte(KINDS + <u32>column) : K_TEXT;
    // The token's first four bytes, little-endian (the sentinel is followed by 32 readable bytes):
    // one load and two compares tell `-` and `"-"`, with the space or newline that ends them,
    // where byte-by-byte tests branched up to four times (the common shapes, mostly).
    const head = load<u32>(pos);
    const c0 = head & 0xff;
    const head2 = head & 0xffff;
    let end: u32;
    if (head2 == ((SPACE << 8) | DASH) || head2 == ((NEWLINE << 8) | DASH)) {
      // `-`: absent, whatever the kind (but the first three columns must be present).
      if (column < 3) return bail(rec, pos);
      end = pos + 1;
    } else if (head == ((SPACE << 24) | QUOTED_DASH) || head == ((NEWLINE << 24) | QUOTED_DASH)) {
      if (column < 3) return bail(rec, pos);
      end = pos + 3;
    } else if (kind == K_TEXT) {
      let a = pos;
      let b: u32;
      if (c0 == QUOTE) {
        a = pos + 1;
        b = find3(a, QUOTE, BACKSLASH, NEWLINE);
        // An escape (the JavaScript scanner decodes it) or no closing quote in the line.
        if (byte(b) != QUOTE) return bail(rec, b);
        end = b + 1;
        if (!ends(end)) return bail(rec, end);
      } else {
        if (c0 == SPACE) return bail(rec, pos);
        b = find2(pos, SPACE, NEWLINE);
        end = b;
      }
      if (column == colArn) {
        arnFrom = a;
        arnTo = b;
        arnId = intern(ARN_META, ARN_STORE, true, a, b);
      } else if (column == colReason) {
        reasonFrom = a;
        reasonTo = b;
        reasonId = intern(REASON_META, REASON_STORE, false, a, b);
      } else if (column == colRequest) {
        requestFrom = <i32>(a - base);
        requestTo = <i32>(b - base);
      }
    } else if (kind == K_ADDRESS) {
      if (c0 == QUOTE || c0 == SPACE) return bail(rec, pos);
      end = find2(pos, SPACE, NEWLINE);
      // ip:port, the port after the last colon: digits, at least one.
      // The digits that end [end - 16, end): clz of the non-digits, shifted to the top half (the
      // bytes before the input are the records', readable).
      const trailing = clz<u32>(~digitBits(end - 16) << 16);
      let q = end - trailing;
      if (trailing == 16) while (q > pos && isDigit(q - 1)) q--;
      // Bytes before the token may be digits too: the port starts at pos at the earliest.
      if (q < pos) q = pos;
      if (q == end || q - 1 <= pos || byte(q - 1) != COLON) return bail(rec, pos);
    } else if (kind == K_SECONDS || kind == K_INTEGER || kind == K_INTEGER_OR_MINUS_ONE) {
      if (c0 == DASH) {
        // -1 seconds (not dispatched, or no answer), -1 rule priority (rules evaluation failed).
        if (kind == K_INTEGER || byte(pos + 1) != 49) return bail(rec, pos);
        end = pos + 2;
      } else {
        let i = skipDigits(pos);
        if (i == pos) return bail(rec, pos);
        if (kind == K_SECONDS && byte(i) == DOT) {
          const whole = i;
          i = skipDigits(i + 1);
          if (i == whole + 1) return bail(rec, pos);
        }
        if (column == colStatus) {
          // Its value, saturated (only its range matters past that).
          let v: u32 = 0;
          for (let d = pos; d < i; d++) if (v < 1000000) v = v * 10 + digit(d);
          if (v < 100 || v > 999) return bail(rec, pos);
          status = <i32>v;
        }
        end = i;
      }
      if (!ends(end)) return bail(rec, pos);
    } else if (kind == K_TIMESTAMP) {
      const ms = usualTimeMs(pos);
      end = pos + 27;
      // The shape check reads no newline as part of a timestamp, so a short line fails it.
      if (isNaN(ms) || !ends(end)) return bail(rec, pos);
      if (column == colTime) {
        timeMs = ms;
        timeFrom = pos;
      }
    } else {
      return bail(rec, pos);
    }
    if (byte(end) == NEWLINE) {
      nl = end;
      // A CR before the newline is not part of the last token: the JavaScript scanner drops it.
      if (byte(end - 1) == CR) return bail(rec, end);
      break;
    }
    pos = end + 1;
    // A space before the newline: the JavaScript scanner names it.
    if (byte(pos) == NEWLINE) return bail(rec, pos);
  }
  if (column + 1 < minFieldCount) return bail(rec, nl);
  store<i32>(rec, status, R_STATUS);
  store<f64>(rec, timeMs, R_TIME);
  store<i32>(rec, <i32>(timeFrom - base), R_TIME_FROM);
  store<i32>(rec, arnId, R_ARN_ID);
  store<i32>(rec, <i32>(arnFrom - base), R_ARN_FROM);
  store<i32>(rec, <i32>(arnTo - base), R_ARN_TO);
  store<i32>(rec, reasonId, R_REASON_ID);
  store<i32>(rec, <i32>(reasonFrom - base), R_REASON_FROM);
  store<i32>(rec, <i32>(reasonTo - base), R_REASON_TO);
  store<i32>(rec, requestFrom, R_REQUEST_FROM);
  store<i32>(rec, requestTo, R_REQUEST_TO);
  return nl;
}

/**
 * Scans the whole lines of the input [input, input + length), writing one record per line at
 * `out`, at most `maxLines`; bytes after the last newline are left. Returns the number of lines.
 * Writes a newline sentinel at input + length, and may read up to 32 bytes past it.
 */
export function scan(input: u32, length: u32, out: u32, maxLines: i32): i32 {
  const end = input + length;
  store<u8>(end, <u8>NEWLINE);
  let p = input;
  let lines: i32 = 0;
  while (p < end && lines < maxLines) {
    const rec = out + <u32>lines * RECORD;
    const nl = scanLine(p, rec, input);
    // The sentinel: this line has no newline of its own yet.
    if (nl >= end) break;
    store<i32>(rec, <i32>(p - input), R_START);
    store<i32>(rec, <i32>(nl - input), R_END);
    lines++;
    p = nl + 1;
  }
  return lines;
}
