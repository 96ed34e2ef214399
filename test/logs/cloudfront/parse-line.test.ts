/** The writer's encoding, the parser's errors, layouts named by `#Fields:`, and round trips (property). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLOUDFRONT_FIELDS,
  CLOUDFRONT_MIN_FIELD_COUNT,
  CloudFrontParseError,
  cloudFrontFileHeader,
  type cloudFrontLayout,
  cloudFrontRecord,
  decodeCloudFrontValue,
  encodeCloudFrontValue,
  formatCloudFrontFile,
  formatCloudFrontLine,
  MUST_ENCODE_ANY_IN_CLOUDFRONT_VALUE,
  mustEncodeInCloudFrontValue,
  parseCloudFrontLine,
  parseFieldsHeader,
  STANDARD_FIELD_COUNT,
  standardLayout,
} from '../../../src/logs/cloudfront/index.js';

const FULL = cloudFrontRecord({
  date: '2026-11-24',
  time: '10:15:02',
  edgeLocation: 'FRA56-P4',
  scBytes: 1033,
  clientIp: '2001:db8::7',
  method: 'GET',
  host: 'd111111abcdef8.cloudfront.net',
  uriStem: '/api/cart/äpfel {x}',
  status: 502,
  referer: 'https://shop.example.com/?a="b"',
  userAgent: 'curl/8.5.0 100%',
  uriQuery: 'id=7&q=<x>',
  resultType: 'Error',
  requestId: 'abcDEF123_-==',
  hostHeader: 'shop.example.com',
  protocol: 'https',
  csBytes: 310,
  timeTaken: 0.25,
  sslProtocol: 'TLSv1.3',
  sslCipher: 'TLS_AES_128_GCM_SHA256',
  responseResultType: 'Error',
  protocolVersion: 'HTTP/2.0',
  clientPort: 51234,
  timeToFirstByte: 0.249,
  detailedResultType: 'Error',
  contentType: 'text/html; charset=utf-8',
  contentLength: 612,
});

describe('writer', () => {
  it('the file header is #Version then the 33 documented names in order, space-separated', () => {
    const header = cloudFrontFileHeader();
    const [version, fields, rest] = header.split('\n');
    expect(version).toBe('#Version: 1.0');
    expect(fields).toBe(
      `#Fields: ${CLOUDFRONT_FIELDS.slice(0, 33)
        .map((f) => f.name)
        .join(' ')}`,
    );
    expect(fields?.startsWith('#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host)')).toBe(
      true,
    );
    expect(fields?.endsWith('sc-content-type sc-content-len sc-range-start sc-range-end')).toBe(true);
    expect(rest).toBe('');
    expect(STANDARD_FIELD_COUNT).toBe(33);
    expect(CLOUDFRONT_MIN_FIELD_COUNT).toBe(24);
  });

  it('writes 33 TAB-separated cells, text URL-encoded as documented, absent values as -', () => {
    const line = formatCloudFrontLine(FULL);
    const cells = line.split('\t');
    expect(cells).toHaveLength(33);
    expect(cells.slice(0, 3)).toEqual(['2026-11-24', '10:15:02', 'FRA56-P4']);
    expect(cells[7]).toBe('/api/cart/%C3%A4pfel%20%7Bx%7D');
    expect(cells[8]).toBe('502');
    expect(cells[9]).toBe('https://shop.example.com/?a=%22b%22');
    expect(cells[10]).toBe('curl/8.5.0%20100%25');
    expect(cells[11]).toBe('id=7&q=%3Cx%3E');
    expect(cells[12]).toBe('-');
    expect(cells[18]).toBe('0.250');
    expect(cells[19]).toBe('-');
    expect(cells[29]).toBe('text/html;%20charset=utf-8');
    expect(cells[31]).toBe('-');
    expect(parseCloudFrontLine(line)).toEqual(FULL);
  });

  it('encodes exactly the documented set: ASCII 0-32, 127 and above, and < > " # % { } | \\ ^ ~ [ ] ` \' ', () => {
    const documented = new Set('<>"#%{}|\\^~[]`\'');
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      const encoded = encodeCloudFrontValue(ch);
      const must = c <= 32 || c === 127 || documented.has(ch);
      expect(encoded, `char ${c}`).toBe(must ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : ch);
    }
    expect(encodeCloudFrontValue('€')).toBe('%E2%82%AC');
    expect(encodeCloudFrontValue('😀')).toBe('%F0%9F%98%80');
  });

  it('MUST_ENCODE_ANY finds exactly the UTF-16 units mustEncode encodes', () => {
    for (let c = 0; c <= 0xffff; c++)
      expect([c, MUST_ENCODE_ANY_IN_CLOUDFRONT_VALUE.test(String.fromCharCode(c))]).toEqual([
        c,
        mustEncodeInCloudFrontValue(c),
      ]);
  });

  it('status 0 is written 000; a file is the header then one line per record', () => {
    const gone = cloudFrontRecord({ date: '2026-11-24', time: '10:15:02', status: 0 });
    expect(formatCloudFrontLine(gone).split('\t')[8]).toBe('000');
    const file = formatCloudFrontFile([FULL, gone]);
    const lines = file.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('#Version: 1.0');
    expect(parseCloudFrontLine(lines[3] as string).status).toBe(0);
  });
});

describe('decoding', () => {
  it('decodes %HH once as UTF-8; a stray % stays text and the cell is kept verbatim', () => {
    expect(decodeCloudFrontValue('a%20b%E2%82%AC')).toBe('a b€');
    expect(decodeCloudFrontValue('%2520')).toBe('%20');
    expect(decodeCloudFrontValue('100%')).toBe('100%');
    const r = parseCloudFrontLine(
      formatCloudFrontLine(FULL).replace('curl/8.5.0%20100%25', 'curl/8.5.0%20100%'),
    );
    expect(r.userAgent).toBe('curl/8.5.0 100%');
    expect(r.verbatim).toEqual({ 'cs(User-Agent)': 'curl/8.5.0%20100%' });
  });

  it('lower-case hex decodes the same and is kept verbatim', () => {
    const line = formatCloudFrontLine(FULL).replace('%C3%A4', '%c3%a4');
    const r = parseCloudFrontLine(line);
    expect(r.uriStem).toBe(FULL.uriStem);
    expect(formatCloudFrontLine(r)).toBe(line);
  });
});

describe('errors name the field, the column and what was expected', () => {
  const cells = () => formatCloudFrontLine(FULL).split('\t');
  const withCell = (i: number, v: string) => {
    const c = cells();
    c[i] = v;
    return c.join('\t');
  };
  const error = (line: string) => {
    try {
      parseCloudFrontLine(line);
    } catch (e) {
      expect(e).toBeInstanceOf(CloudFrontParseError);
      return (e as CloudFrontParseError).message;
    }
    throw new Error('parsed');
  };

  it.each([
    [
      8,
      '5xx',
      'field sc-status (column 9): expected a 3-digit status code (000 when the viewer left), got "5xx"',
    ],
    [8, '5020', 'field sc-status (column 9): expected a 3-digit status code'],
    [3, '12x', 'field sc-bytes (column 4): expected an integer or -, got "12x"'],
    [18, 'slow', 'field time-taken (column 19): expected seconds such as 0.001, or -, got "slow"'],
    [0, '2026-02-30', 'field date (column 1): expected a UTC date YYYY-MM-DD, got "2026-02-30"'],
    [1, '25:00:00', 'field time (column 2): expected a UTC time HH:MM:SS, got "25:00:00"'],
    [10, '', 'field cs(User-Agent) (column 11): expected a value or -, got ""'],
  ])('column %i = %j', (i, v, message) => {
    expect(error(withCell(i, v))).toContain(message);
  });

  it('a short line says how many fields it has and how many an entry needs', () => {
    const short = cells().slice(0, 10).join('\t');
    expect(error(short)).toBe(
      'field cs(User-Agent) (column 11): line ends after 10 tab-separated fields; an entry has at least 24 (date ... cs-protocol-version)',
    );
  });

  it('an ALB line is not a CloudFront entry', () => {
    const alb =
      'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90';
    expect(error(alb)).toContain('line ends after 1 tab-separated fields');
  });

  it('a header line is not an entry', () => {
    expect(error('#Version: 1.0')).toContain('expected an entry, got a header line');
  });
});

describe('layouts named by #Fields:', () => {
  it('maps columns by name in any order and keeps unknown columns verbatim', () => {
    const layout = parseFieldsHeader('#Fields: time date sc-status x-future-field cs-uri-stem') as ReturnType<
      typeof cloudFrontLayout
    >;
    expect(layout.standard).toBe(false);
    const line = '10:15:02\t2026-11-24\t503\tsomething%20new\t/a%20b';
    const r = parseCloudFrontLine(line, layout);
    expect(r).toMatchObject({
      date: '2026-11-24',
      time: '10:15:02',
      status: 503,
      uriStem: '/a b',
      fieldCount: 5,
    });
    expect(r.verbatim).toEqual({ 'x-future-field': 'something%20new' });
    expect(formatCloudFrontLine(r, layout)).toBe(line);
  });

  it('the 35-field current reference layout reads the two newest fields', () => {
    const layout = standardLayout(35);
    const line = [...formatCloudFrontLine(FULL).split('\t'), 'tenant-1', 'conn%201'].join('\t');
    const r = parseCloudFrontLine(line, layout);
    expect(r.distributionTenantId).toBe('tenant-1');
    expect(r.connectionId).toBe('conn 1');
    expect(formatCloudFrontLine(r, layout)).toBe(line);
  });
});

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const text = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 40 })
  .filter((s) => s !== '-' && !/\p{Surrogate}/u.test(s));
const token = fc.stringMatching(/^[A-Za-z0-9_./:,=-]{1,30}$/).filter((s) => s !== '-');
const ms = fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000);
const instant = fc
  .integer({ min: Date.UTC(2014, 0, 1), max: Date.UTC(2030, 0, 1) })
  .map((t) => Math.floor(t / 1000) * 1000);

describe('round trips (property)', () => {
  it('parse(format(record)) === record and format(parse(line)) === line, for every layout length', () => {
    fc.assert(
      fc.property(
        fc.record({
          at: instant,
          edgeLocation: maybe(token),
          scBytes: maybe(fc.nat()),
          method: maybe(fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS')),
          uriStem: maybe(text),
          status: maybe(fc.integer({ min: 0, max: 999 })),
          referer: maybe(text),
          userAgent: maybe(text),
          uriQuery: maybe(text),
          cookie: maybe(text),
          resultType: maybe(
            fc.constantFrom('Hit', 'RefreshHit', 'Miss', 'Error', 'Redirect', 'LimitExceeded'),
          ),
          timeTaken: maybe(ms),
          forwardedFor: maybe(text),
          clientPort: maybe(fc.integer({ min: 1, max: 65535 })),
          timeToFirstByte: maybe(ms),
          detailedResultType: maybe(token),
          contentType: maybe(text),
          fieldCount: fc.integer({ min: CLOUDFRONT_MIN_FIELD_COUNT, max: CLOUDFRONT_FIELDS.length }),
        }),
        (g) => {
          const iso = new Date(g.at).toISOString();
          const late = (n: number, v: unknown) => (g.fieldCount >= n ? v : null);
          const record = cloudFrontRecord({
            date: iso.slice(0, 10),
            time: iso.slice(11, 19),
            edgeLocation: g.edgeLocation,
            scBytes: g.scBytes,
            method: g.method,
            uriStem: g.uriStem,
            status: g.status,
            referer: g.referer,
            userAgent: g.userAgent,
            uriQuery: g.uriQuery,
            cookie: g.cookie,
            resultType: g.resultType,
            timeTaken: g.timeTaken,
            forwardedFor: g.forwardedFor,
            clientPort: late(27, g.clientPort) as number | null,
            timeToFirstByte: late(28, g.timeToFirstByte) as number | null,
            detailedResultType: late(29, g.detailedResultType) as string | null,
            contentType: late(30, g.contentType) as string | null,
            fieldCount: g.fieldCount,
          });
          const layout = standardLayout(g.fieldCount);
          const line = formatCloudFrontLine(record, layout);
          expect(line).not.toMatch(/[\n\r ]/);
          expect(line.split('\t')).toHaveLength(g.fieldCount);
          const parsed = parseCloudFrontLine(line, layout);
          expect(parsed.verbatim).toBeUndefined();
          expect(parsed).toEqual({ ...record, timeMs: g.at });
          expect(formatCloudFrontLine(parsed, layout)).toBe(line);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('any accepted line writes back unchanged, whatever one cell holds', () => {
    const base = formatCloudFrontLine(FULL).split('\t');
    fc.assert(
      fc.property(fc.nat(32), fc.string({ unit: 'binary-ascii', maxLength: 12 }), (i, cell) => {
        const c = [...base];
        c[i] = cell.replace(/[\t\n\r]/g, '');
        const line = c.join('\t');
        let record: ReturnType<typeof parseCloudFrontLine>;
        try {
          record = parseCloudFrontLine(line);
        } catch (e) {
          expect(e).toBeInstanceOf(CloudFrontParseError);
          return;
        }
        expect(formatCloudFrontLine(record)).toBe(line);
      }),
      { numRuns: 1000 },
    );
  });

  it('random text is rejected with CloudFrontParseError, never another exception', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        try {
          parseCloudFrontLine(s);
        } catch (e) {
          expect(e).toBeInstanceOf(CloudFrontParseError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
