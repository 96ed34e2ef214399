import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALB_FIELDS, MIN_FIELD_COUNT } from '../../src/logs/fields.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { AlbParseError, parseAlbLine } from '../../src/logs/parse-line.js';
import { albRecord, requestLineParts } from '../../src/logs/record.js';
import { DOC_HTTPS, DOC_LAMBDA_FAILED, DOC_LAMBDA_OK, THROTTLED_NEW } from '../helpers/alb-lines.js';

describe('parseAlbLine', () => {
  it('reads the documented Lambda failure example field by field', () => {
    const r = parseAlbLine(DOC_LAMBDA_FAILED);
    expect(r.type).toBe('http');
    expect(r.timeMs).toBe(Date.parse('2018-11-30T22:23:00.186Z'));
    expect(r.elb).toBe('app/my-loadbalancer/50dc6c495c0c9188');
    expect([r.client, r.clientPort]).toEqual(['192.168.131.39', 2817]);
    expect([r.target, r.targetPort]).toEqual([null, null]);
    expect(r.elbStatusCode).toBe(502);
    expect(r.targetStatusCode).toBeNull();
    expect(r.errorReason).toBe('LambdaInvalidResponse');
    expect(r.matchedRulePriority).toBe(0);
    expect(r.actionsExecuted).toBe('forward');
    expect(r.fieldCount).toBe(29);
    expect(r.classification).toBeNull();
    expect(r.connTraceId).toBeNull();
  });

  it('keeps -1 processing times absent, not zero, and reads IPv6 clients and escaped quotes', () => {
    const r = parseAlbLine(THROTTLED_NEW);
    expect(r.requestProcessingTime).toBe(0.001);
    expect(r.targetProcessingTime).toBeNull();
    expect(r.responseProcessingTime).toBeNull();
    expect([r.client, r.clientPort]).toEqual(['2001:db8::7', 51234]);
    expect(r.userAgent).toBe('Mozilla/5.0 "quoted" ua');
    expect(r.connTraceId).toBe('TID_0123456789abcdef0123456789abcdef');
    expect(r.fieldCount).toBe(ALB_FIELDS.length);
    expect(r.verbatim).toBeUndefined();
    const parts = requestLineParts(r.request);
    expect(parts).toMatchObject({
      method: 'GET',
      path: '/api/cart',
      query: 'id=7',
      host: 'shop.example.com:443',
      protocol: 'HTTP/1.1',
    });
  });

  it.each([DOC_LAMBDA_OK, DOC_LAMBDA_FAILED, DOC_HTTPS, THROTTLED_NEW])('round-trips %#', (line) => {
    expect(formatAlbLine(parseAlbLine(line))).toBe(line);
  });

  it('keeps unknown trailing fields and older short layouts', () => {
    const withExtra = `${THROTTLED_NEW} "future" 42`;
    const r = parseAlbLine(withExtra);
    expect(r.extra).toEqual(['"future"', '42']);
    expect(formatAlbLine(r)).toBe(withExtra);
    const old = DOC_LAMBDA_OK.split(' "-" "-" 0 2018')[0] as string; // the 2016 layout ends at trace_id
    const o = parseAlbLine(old);
    expect(o.fieldCount).toBe(MIN_FIELD_COUNT);
    expect(o.errorReason).toBeNull();
    expect(formatAlbLine(o)).toBe(old);
  });

  it('round-trips non-canonical text through verbatim', () => {
    const odd = DOC_LAMBDA_OK.replace(' 0.000 0.001 0.000 ', ' 0.0 0.001 0.000 ').replace(
      '"curl/7.46.0"',
      '"a\\tb"',
    );
    const r = parseAlbLine(odd);
    expect(r.requestProcessingTime).toBe(0);
    expect(r.userAgent).toBe('a\\tb');
    expect(formatAlbLine(r)).toBe(odd);
  });

  it.each([
    ['', 'type'],
    ['http 2018-11-30T22:23:00Z app/x/1 1.2.3.4:5', 'target:port'],
    [DOC_LAMBDA_OK.replace(' 200 200 ', ' 2x0 200 '), 'elb_status_code'],
    [DOC_LAMBDA_OK.replace('2018-11-30T22:23:00.186641Z', 'yesterday'), 'time'],
    [DOC_LAMBDA_OK.replace('192.168.131.39:2817', '192.168.131.39'), 'client:port'],
    [DOC_LAMBDA_OK.replace(' 0.000 0.001 ', ' 0.000 fast '), 'target_processing_time'],
    [DOC_LAMBDA_OK.replace('"curl/7.46.0"', '"curl/7.46.0'), 'user_agent'],
  ])('rejects malformed input naming the field (%#)', (line, field) => {
    let error: unknown;
    try {
      parseAlbLine(line);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AlbParseError);
    expect((error as AlbParseError).field).toBe(field);
    expect((error as AlbParseError).code).toBe('TS_LOG_MALFORMED');
  });
});

const text = fc.string({ unit: 'binary', maxLength: 40 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const ms = fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000);
const iso = fc
  .integer({ min: Date.parse('2016-08-11T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') })
  .chain((t) =>
    fc
      .integer({ min: 0, max: 999 })
      .map((us) => new Date(t).toISOString().replace('Z', `${String(us).padStart(3, '0')}Z`)),
  );
const token = fc.stringMatching(/^[A-Za-z0-9_./:,=-]{1,30}$/).filter((s) => s !== '-');

describe('format/parse round trip (property)', () => {
  it('parse(format(record)) === record and format(parse(line)) === line', () => {
    fc.assert(
      fc.property(
        fc.record({
          type: fc.constantFrom('http', 'https', 'h2', 'grpcs', 'ws', 'wss'),
          time: iso,
          client: maybe(fc.constantFrom('10.0.0.1', '2001:db8::1', '::1')),
          port: fc.integer({ min: 1, max: 65535 }),
          times: fc.tuple(maybe(ms), maybe(ms), maybe(ms)),
          elbStatusCode: maybe(fc.integer({ min: 100, max: 599 })),
          targetStatusCode: maybe(fc.integer({ min: 100, max: 599 })),
          bytes: fc.tuple(fc.nat(), fc.nat()),
          request: maybe(text),
          userAgent: maybe(text),
          traceId: maybe(text),
          errorReason: maybe(token),
          priority: maybe(fc.nat(50_000)),
          connTraceId: maybe(token),
          fieldCount: fc.integer({ min: MIN_FIELD_COUNT, max: ALB_FIELDS.length }),
        }),
        (g) => {
          const record = albRecord({
            type: g.type,
            time: g.time,
            elb: 'app/my-lb/50dc6c495c0c9188',
            client: g.client,
            clientPort: g.client === null ? null : g.port,
            requestProcessingTime: g.times[0],
            targetProcessingTime: g.times[1],
            responseProcessingTime: g.times[2],
            elbStatusCode: g.elbStatusCode,
            targetStatusCode: g.targetStatusCode,
            receivedBytes: g.bytes[0],
            sentBytes: g.bytes[1],
            request: g.request === '-' ? null : g.request,
            userAgent: g.userAgent === '-' ? null : g.userAgent,
            traceId: g.traceId === '-' ? null : g.traceId,
            matchedRulePriority: g.fieldCount > 20 ? g.priority : null,
            errorReason: g.fieldCount > 24 ? g.errorReason : null,
            connTraceId: g.fieldCount > 29 ? g.connTraceId : null,
            fieldCount: g.fieldCount,
          });
          const line = formatAlbLine(record);
          const parsed = parseAlbLine(line);
          expect(parsed.verbatim).toBeUndefined();
          expect(parsed).toEqual(record);
          expect(formatAlbLine(parsed)).toBe(line);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('robustness (property)', () => {
  const onlyParseErrors = (line: string) => {
    try {
      parseAlbLine(line);
    } catch (e) {
      if (!(e instanceof AlbParseError)) throw e;
    }
  };
  it('random lines are rejected with AlbParseError, never another exception', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => onlyParseErrors(s)),
      { numRuns: 2000 },
    );
  });
  it('mutated real lines either parse or fail with AlbParseError; accepted ones round-trip', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(DOC_LAMBDA_OK, DOC_LAMBDA_FAILED, DOC_HTTPS, THROTTLED_NEW),
        fc.nat(),
        fc.string({ unit: 'binary', maxLength: 4 }),
        fc.nat(3),
        (line, at, insert, del) => {
          const i = at % (line.length + 1);
          const mutated = line.slice(0, i) + insert + line.slice(i + del);
          let r: ReturnType<typeof parseAlbLine> | undefined;
          try {
            r = parseAlbLine(mutated);
          } catch (e) {
            if (!(e instanceof AlbParseError)) throw e;
          }
          if (r) expect(formatAlbLine(r)).toBe(mutated.endsWith('\r') ? mutated.slice(0, -1) : mutated);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
