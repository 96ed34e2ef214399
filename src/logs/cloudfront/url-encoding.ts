/**
 * CloudFront URL-encodes field values (RFC 1738): ASCII 0-32 and 127 and above, and the
 * characters < > " # % { } | \ ^ ~ [ ] ` ' (space becomes %20). Source: AWS, "Standard log file
 * format" (../shared/reference/cloudfront-athena-facts.md §A1.2). Values are decoded exactly once:
 * real files carry double-encoded text (`%2520`), which must come back as `%20`, not a space.
 */

const MUST_ENCODE = new Uint8Array(128);
for (let c = 0; c <= 32; c++) MUST_ENCODE[c] = 1;
MUST_ENCODE[127] = 1;
for (const ch of '<>"#%{}|\\^~[]`\'') MUST_ENCODE[ch.charCodeAt(0)] = 1;

const HEX = '0123456789ABCDEF';
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Whether a character (UTF-16 unit) must be written %-encoded. */
export const mustEncode = (c: number): boolean => c >= 127 || MUST_ENCODE[c] === 1;

/**
 * Matches a string with any character `mustEncode` answers true for (tested to agree on every
 * UTF-16 unit): one native scan, for writers that copy long values that need no encoding as they are.
 */
export const MUST_ENCODE_ANY = /[\x00-\x20\x7f-\uffff<>"#%{}|\\^~[\]`']/;

/** The value as CloudFront writes it: documented characters %-encoded (upper-case hex, UTF-8 bytes). */
export function encodeCloudFrontValue(value: string): string {
  let i = 0;
  while (i < value.length && !mustEncode(value.charCodeAt(i))) i++;
  if (i === value.length) return value;
  let out = value.slice(0, i);
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!mustEncode(c)) {
      out += value[i];
    } else if (c < 128) {
      out += `%${HEX[c >> 4]}${HEX[c & 15]}`;
    } else {
      // One code point (a surrogate pair counts once) as its UTF-8 bytes.
      const cp = value.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      for (const b of utf8.encode(ch)) out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
      if (cp > 0xffff) i++;
    }
  }
  return out;
}

let decodedCanonical = true;
/** After `decodeCloudFrontValue`: whether its raw text is exactly what `encodeCloudFrontValue` writes. */
export const lastDecodeWasCanonical = (): boolean => decodedCanonical;

/**
 * Decodes a raw field once: `%HH` (and the `\xHH` seen in real x-forwarded-for values) become
 * bytes, read as UTF-8. A `%` not followed by two hex digits stays as text. Records
 * (`lastDecodeWasCanonical`) whether it was canonical, so that the parser can keep non-canonical text verbatim for round trips.
 */
export function decodeCloudFrontValue(raw: string): string {
  let i = 0;
  const n = raw.length;
  while (i < n) {
    const c = raw.charCodeAt(i);
    if (mustEncode(c)) break;
    i++;
  }
  if (i === n) {
    decodedCanonical = true;
    return raw;
  }
  const ascii = decodeAscii(raw, i);
  if (ascii !== null) return ascii;
  const bytes: number[] = [];
  for (let k = 0; k < i; k++) bytes.push(raw.charCodeAt(k));
  while (i < n) {
    const c = raw.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < n) {
      const h = hexValue(raw.charCodeAt(i + 1));
      const l = hexValue(raw.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 3;
        continue;
      }
    } else if (c === 92 /* \ */ && raw.charCodeAt(i + 1) === 120 /* x */ && i + 3 < n) {
      const h = hexValue(raw.charCodeAt(i + 2));
      const l = hexValue(raw.charCodeAt(i + 3));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 4;
        continue;
      }
    }
    if (c < 128) {
      bytes.push(c);
      i++;
    } else {
      const cp = raw.codePointAt(i) as number;
      for (const b of utf8.encode(String.fromCodePoint(cp))) bytes.push(b);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  const value = utf8Decoder.decode(Uint8Array.from(bytes));
  decodedCanonical = encodeCloudFrontValue(value) === raw;
  return value;
}

const isUpperHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70);

/**
 * The common case, without building bytes: every escape is `%HH` of an ASCII character and no
 * character needs encoding raw. Null otherwise (the general path decides).
 */
function decodeAscii(raw: string, start: number): string | null {
  let out = '';
  let from = 0;
  let canonical = true;
  const n = raw.length;
  for (let i = start; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= n) return null;
      const hc = raw.charCodeAt(i + 1);
      const lc = raw.charCodeAt(i + 2);
      const h = hexValue(hc);
      const l = hexValue(lc);
      if (h < 0 || l < 0 || h >= 8) return null;
      const byte = h * 16 + l;
      if (!(mustEncode(byte) && isUpperHex(hc) && isUpperHex(lc))) canonical = false;
      out += raw.slice(from, i) + String.fromCharCode(byte);
      i += 2;
      from = i + 1;
    } else if (mustEncode(c)) return null;
  }
  decodedCanonical = canonical;
  return from === 0 ? raw : out + raw.slice(from);
}
