/** Field by field: every documented field is read, rejected when malformed, and every layout round-trips. */
import { describe, expect, it } from 'vitest';
import { ALB_FIELDS, MIN_FIELD_COUNT } from '../../src/logs/fields.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { AlbParseError, parseAlbLine } from '../../src/logs/parse-line.js';
import { albRecord } from '../../src/logs/record.js';

const FULL = albRecord({
  type: 'https',
  time: '2026-11-24T10:15:02.512003Z',
  elb: 'app/shop/50dc6c495c0c9188',
  client: '2001:db8::7',
  clientPort: 51234,
  target: '10.0.0.9',
  targetPort: 8080,
  requestProcessingTime: 0.001,
  targetProcessingTime: 0.25,
  responseProcessingTime: 0,
  elbStatusCode: 502,
  targetStatusCode: 500,
  receivedBytes: 310,
  sentBytes: 277,
  request: 'POST https://shop.example.com:443/api/cart?id=7&x="y" HTTP/2.0',
  userAgent: 'Mozilla/5.0 "quoted" \\ backslash',
  sslCipher: 'ECDHE-RSA-AES128-GCM-SHA256',
  sslProtocol: 'TLSv1.2',
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/cart/73e2d6bc24d8a067',
  traceId: 'Self=1-6742fd26-aaaaaaaaaaaaaaaaaaaaaaaa;Root=1-6742fd26-0123456789abcdef01234567',
  domainName: 'shop.example.com',
  chosenCertArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
  matchedRulePriority: 3,
  requestCreationTime: '2026-11-24T10:15:02.260112Z',
  actionsExecuted: 'waf,forward',
  redirectUrl: 'https://shop.example.com/next',
  errorReason: 'TargetConnectionErrorCode',
  targetPortList: '10.0.0.9:8080 10.0.0.10:8080',
  targetStatusCodeList: '500 502',
  classification: 'Ambiguous',
  classificationReason: 'UndefinedContentLengthSemantics',
  connTraceId: 'TID_0123456789abcdef0123456789abcdef',
  transformedHost: 'internal.example.com',
  transformedUri: '/v2/cart?id=7',
  requestTransformStatus: 'HostAndUriRewritten',
});
const LINE = formatAlbLine(FULL);

/** The line's tokens (quoted tokens kept whole). */
function tokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      out.push(line.slice(i, j + 1));
      i = j + 2;
    } else {
      const j = line.indexOf(' ', i);
      out.push(line.slice(i, j < 0 ? line.length : j));
      i = j < 0 ? line.length : j + 1;
    }
  }
  return out;
}

const BAD: Record<string, string> = {
  integer: '12x',
  seconds: 'fast',
  timestamp: '2026-13-45',
  address: 'host-without-port',
};

describe('every field', () => {
  it('a full current-layout line has one token per documented field and parses back to the record', () => {
    expect(tokens(LINE)).toHaveLength(ALB_FIELDS.length);
    const r = parseAlbLine(LINE);
    expect(r).toEqual(FULL);
    expect(r.userAgent).toBe('Mozilla/5.0 "quoted" \\ backslash');
    expect(r.traceId).toContain('Root=1-6742fd26-0123456789abcdef01234567');
  });

  for (const [i, field] of ALB_FIELDS.entries()) {
    const bad = field.kind === 'text' ? (field.quoted ? '"unterminated' : undefined) : BAD[field.kind];
    if (bad === undefined) continue;
    it(`rejects a malformed ${field.name} naming it`, () => {
      const t = tokens(LINE);
      t[i] = bad;
      let error: unknown;
      try {
        parseAlbLine(t.join(' '));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AlbParseError);
      expect((error as AlbParseError).field).toBe(field.name);
      expect((error as AlbParseError).column).toBe(i);
    });
  }

  it('absent markers: - for text, integers and addresses, -1 for the processing times', () => {
    const t = tokens(LINE).map((tok, i) => {
      const f = ALB_FIELDS[i];
      if (!f || i < 3) return tok;
      if (f.kind === 'seconds') return '-1';
      return f.quoted ? '"-"' : '-';
    });
    const r = parseAlbLine(t.join(' '));
    for (const [i, f] of ALB_FIELDS.entries()) {
      if (i < 3) continue;
      expect((r as unknown as Record<string, unknown>)[f.key], f.name).toBeNull();
    }
    expect(r.clientPort).toBeNull();
    expect(formatAlbLine(r)).toBe(t.join(' '));
  });

  it('every older layout (ending after trace_id or any later field) parses and round-trips', () => {
    const t = tokens(LINE);
    for (let n = MIN_FIELD_COUNT; n <= ALB_FIELDS.length; n++) {
      const line = t.slice(0, n).join(' ');
      const r = parseAlbLine(line);
      expect(r.fieldCount).toBe(n);
      expect(formatAlbLine(r)).toBe(line);
    }
    expect(() => parseAlbLine(t.slice(0, MIN_FIELD_COUNT - 1).join(' '))).toThrow(AlbParseError);
  });

  it.each(['http', 'https', 'h2', 'grpcs', 'ws', 'wss'])('type %s', (type) => {
    expect(parseAlbLine(LINE.replace(/^https/, type)).type).toBe(type);
  });
});
