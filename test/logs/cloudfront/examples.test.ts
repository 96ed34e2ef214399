/**
 * The AWS documentation's example lines and real lines from other projects
 * (test/fixtures/cloudfront-log-examples.txt, a copy of ../shared/reference, sources inline):
 * every one parses with its file's layout, reads the documented values, and writes back byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type CloudFrontLayout,
  formatCloudFrontLine,
  parseCloudFrontLine,
  parseFieldsHeader,
  standardLayout,
} from '../../../src/logs/cloudfront/index.js';

const TEXT = readFileSync(new URL('../../fixtures/cloudfront-log-examples.txt', import.meta.url), 'utf8');

interface Example {
  section: string;
  line: string;
  layout: CloudFrontLayout;
}

/** Data lines by section letter, each with the `#Fields:` layout in force (the standard 33 when none). */
function examples(): Example[] {
  const out: Example[] = [];
  let section = '';
  let layout = standardLayout();
  for (const line of TEXT.split('\n')) {
    const head = /^# ===== ([A-Z])\./.exec(line);
    if (head) {
      section = head[1] as string;
      layout = standardLayout();
      continue;
    }
    if (line === '' || line.startsWith('# ') || line === '#' || line.startsWith('#Version:')) continue;
    const fields = parseFieldsHeader(line);
    if (fields) {
      layout = fields;
      continue;
    }
    out.push({ section, line, layout });
  }
  return out;
}

const ALL = examples();
const of = (section: string) => ALL.filter((e) => e.section === section);
const parse = (e: Example) => parseCloudFrontLine(e.line, e.layout);

describe('example lines', () => {
  it('the file has its 18 data lines (A 6, B 2, C 2, D 3, E 2, F-H 1 each)', () => {
    expect(ALL).toHaveLength(18);
    expect(new Set(ALL.map((e) => e.section))).toEqual(new Set('ABCDEFGH'));
  });

  it('every line parses and writes back byte for byte', () => {
    for (const e of ALL) {
      const record = parse(e);
      expect(formatCloudFrontLine(record, e.layout), `section ${e.section}`).toBe(e.line);
    }
  });

  it("the AWS example file's header is the writer's standard 33-field layout", () => {
    const header = TEXT.split('\n').find((l) => l.startsWith('#Fields:')) as string;
    const layout = parseFieldsHeader(header) as CloudFrontLayout;
    expect(layout.standard).toBe(true);
    expect(layout.names).toEqual(standardLayout().names);
    expect(layout.names).toHaveLength(33);
  });

  it('AWS example A: a cache hit, every typed field', () => {
    const [hit, , trailingTab, dns502] = of('A').map(parse);
    expect(hit).toMatchObject({
      date: '2019-12-04',
      time: '21:02:31',
      timeMs: Date.UTC(2019, 11, 4, 21, 2, 31),
      edgeLocation: 'LAX1',
      scBytes: 392,
      clientIp: '192.0.2.100',
      method: 'GET',
      host: 'd111111abcdef8.cloudfront.net',
      uriStem: '/index.html',
      status: 200,
      referer: null,
      uriQuery: null,
      cookie: null,
      resultType: 'Hit',
      requestId: 'SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==',
      protocol: 'https',
      csBytes: 23,
      timeTaken: 0.001,
      forwardedFor: null,
      sslProtocol: 'TLSv1.2',
      responseResultType: 'Hit',
      protocolVersion: 'HTTP/2.0',
      clientPort: 11040,
      timeToFirstByte: 0.001,
      detailedResultType: 'Hit',
      contentType: 'text/html',
      contentLength: 78,
      rangeStart: null,
      rangeEnd: null,
      fieldCount: 33,
      verbatim: undefined,
    });
    // %20 is decoded once into a space; ( ) ; , are not encoded by CloudFront.
    expect(hit?.userAgent).toMatch(/^Mozilla\/5\.0 \(Windows NT 10\.0; Win64; x64\) AppleWebKit/);
    // The 2023 copy of the example ends its third line with a TAB: one empty trailing cell.
    expect(trailingTab?.extra).toEqual(['']);
    // CloudFront's own 502 (origin name did not resolve): its own HTML page of 507 bytes.
    expect(dns502).toMatchObject({
      status: 502,
      resultType: 'Error',
      detailedResultType: 'OriginDnsError',
      contentType: 'text/html',
      contentLength: 507,
      referer: 'http://www.example.com/',
      hostHeader: 'www.example.com',
      sslProtocol: null,
    });
  });

  it('B: the 24-field 2014 layout, with a query and a cookie, cs-bytes absent', () => {
    const [first, second] = of('B').map(parse);
    expect(first).toMatchObject({
      fieldCount: 24,
      cookie: 'zip=98101',
      resultType: 'RefreshHit',
      csBytes: null,
    });
    expect(second).toMatchObject({ status: 304, uriQuery: 'a=b&c=d', scBytes: 2390282 });
    expect(first?.clientPort).toBeNull();
  });

  it('C: a literal \\x20 inside x-forwarded-for is read as a space and kept verbatim', () => {
    const [r] = of('C').map(parse);
    expect(r?.forwardedFor).toBe('10.3.200.121, 10.56.14.213');
    expect(r?.verbatim).toEqual({ 'x-forwarded-for': '10.3.200.121,\\x2010.56.14.213' });
  });

  it('D: status 000, a raw space inside x-forwarded-for, a short 31-field line', () => {
    const [gone, rawSpace, short] = of('D').map(parse);
    expect(gone?.status).toBe(0);
    expect(gone?.method).toBe('POST');
    expect(rawSpace?.forwardedFor).toBe('81.2.69.142, 216.160.83.56');
    expect(rawSpace?.verbatim).toEqual({ 'x-forwarded-for': '81.2.69.142, 216.160.83.56' });
    expect(short?.fieldCount).toBe(31);
    expect(short?.contentLength).toBeNull();
    expect(short?.rangeStart).toBeNull();
    expect(short?.uriStem).toBe('/en(test)');
  });

  it('E/F: double-encoded user agents are decoded once, never twice', () => {
    const [, logstash] = of('E').map(parse);
    expect(logstash?.userAgent).toBe(
      'Mozilla/5.0%20(compatible;%20nsrbot/1.0;%20&#43;http://netsystemsresearch.com)',
    );
    expect(logstash?.fieldCount).toBe(26);
    const [netsuite] = of('F').map(parse);
    expect(netsuite?.userAgent).toBe('NetSuite/2019.2%20(SuiteScript)');
    expect(netsuite?.status).toBe(401);
  });

  it('G: a Lambda@Edge validation error is a 502 CloudFront generated', () => {
    const [r] = of('G').map(parse);
    expect(r).toMatchObject({
      status: 502,
      resultType: 'LambdaValidationError',
      detailedResultType: 'LambdaValidationError',
    });
  });

  it('H: a tab inside the user agent is logged as %09 and decoded to a tab', () => {
    const [r] = of('H').map(parse);
    expect(r?.userAgent).toContain('Safari/605.1.1\t20.51');
    expect(r?.detailedResultType).toBe('InvalidRequestMethod');
  });
});
