import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOUDFRONT_HOPS, ERROR_CLASSES, ORIGINS } from '../../src/probe/classify.js';
import { type ProbeRecord, RecordBytesEncoder } from '../../src/probe/record.js';

/** Times as the runner makes them (roundMs: whole microseconds), and any double at all. */
const ms = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 53 - 1 }).map((k) => k / 1000),
  fc.integer({ min: 0, max: 5_000_000_000_000_000 }).map((k) => k / 1000),
  fc.integer({ min: 0, max: 10_000_000 }).map((k) => k / 1000),
  fc.double(),
);

/** Records shaped as the runner builds them (errorCode, when present, is set last). */
const record = fc
  .record({
    seq: fc.integer({ min: 1, max: 2 ** 40 }),
    urlIndex: fc.nat(20),
    urlSeq: fc.integer({ min: 1, max: 2 ** 40 }),
    url: fc.oneof(fc.constant('http://127.0.0.1:8080/'), fc.webUrl(), fc.string({ unit: 'binary' })),
    intended: ms,
    sent: ms,
    at: fc.oneof(fc.constant('2026-12-05T10:26:46.363Z'), fc.string({ unit: 'binary' })),
    latencyMs: ms,
    serviceMs: ms,
    status: fc.option(fc.integer({ min: 100, max: 599 })),
    bytes: fc.nat(),
    traceId: fc.oneof(fc.constant('Root=1-6b13e6e6-f53d4191344f588fc90d9908'), fc.string({ unit: 'binary' })),
    ok: fc.boolean(),
    error: fc.option(fc.constantFrom(...ERROR_CLASSES)),
    origin: fc.option(fc.constantFrom(...ORIGINS)),
    errorCode: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
    cloudfront: fc.option(fc.constantFrom(...CLOUDFRONT_HOPS), { nil: undefined }),
    cached: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map(({ errorCode, cloudfront, cached, ...rest }) => {
    const r: ProbeRecord = { ...rest };
    if (errorCode !== undefined) r.errorCode = errorCode;
    if (cloudfront !== undefined) r.cloudfront = cloudfront;
    if (cached !== undefined) r.cached = cached;
    return r;
  });

const BASE: ProbeRecord = {
  seq: 1,
  urlIndex: 0,
  urlSeq: 1,
  url: 'http://a/',
  intended: 0,
  sent: 0,
  at: '2026-12-05T10:26:46.363Z',
  latencyMs: 0,
  serviceMs: 0,
  status: 200,
  bytes: 2,
  traceId: 'Root=1-6b13e6e6-f53d4191344f588fc90d9908',
  ok: true,
  error: null,
  origin: null,
};

describe('RecordBytesEncoder: numbers', () => {
  it('writes every whole-microsecond time as JSON.stringify does, over the range the probe records', () => {
    // Prepare: epoch times now and up to 2^42 ms, latencies from 0; the decimals that end in zeros
    const times = [
      0, 0.001, 0.01, 0.1, 0.5, 1, 1.05, 1.5, 9.999, 1796466406363.937, 1796466406363.9, 1796466406364,
    ];
    for (let k = 0; k < 60_000; k++) times.push((1_796_466_406_363_000 + k * 7919) / 1000, k / 1000, k * 0.1);
    // Not whole microseconds, negative, huge: the general way
    times.push(-0, -1, 0.0001, 1e21, 2 ** 53, 1796466406363.9375);
    for (let k = 2 ** 42 * 1000 - 5000; k < 2 ** 42 * 1000 + 5000; k++) times.push(k / 1000);
    const encoder = new LineEncoder();
    for (const [i, t] of times.entries()) {
      // Every other line as in the closed loop: sent = intended, latency = service
      const r: ProbeRecord =
        i % 2 === 0
          ? { ...BASE, intended: t, sent: t + 0.001, latencyMs: t, serviceMs: t / 3 }
          : { ...BASE, intended: t, sent: t, latencyMs: t, serviceMs: t };
      // Act
      const line = encoder.line(r);
      // Assert
      if (line !== JSON.stringify(r)) expect(line).toBe(JSON.stringify(r));
    }
  });

  it('writes NaN and infinite times as null, as JSON does', () => {
    // Prepare
    const r: ProbeRecord = {
      seq: 1,
      urlIndex: 0,
      urlSeq: 1,
      url: 'http://a/"\\',
      intended: Number.NaN,
      sent: Number.POSITIVE_INFINITY,
      at: 'x',
      latencyMs: -0,
      serviceMs: 1e21,
      status: null,
      bytes: 0,
      traceId: 't\n',
      ok: false,
      error: 'reset',
      origin: 'network',
      errorCode: 'ECONNRESET',
    };
    // Act
    const line = new LineEncoder().line(r);
    // Assert
    expect(line).toBe(JSON.stringify(r));
    expect(JSON.parse(line).intended).toBeNull();
  });
});

/** Lines one at a time, as text (without the newline), from one encoder and buffer. */
class LineEncoder {
  private readonly encoder = new RecordBytesEncoder();
  private readonly buf = Buffer.alloc(1 << 20);
  line(r: ProbeRecord): string {
    return bytesLine(this.encoder, r, this.buf);
  }
}

/** The line RecordBytesEncoder writes, read back as text (without its newline). */
function bytesLine(encoder: RecordBytesEncoder, r: ProbeRecord, buf = Buffer.alloc(1 << 20)): string {
  const end = encoder.encodeInto(r, buf, 3);
  expect(buf[end - 1]).toBe(10);
  return buf.toString('utf8', 3, end - 1);
}

describe('RecordBytesEncoder', () => {
  it('writes every record as the bytes of JSON.stringify and a newline, also when strings repeat or change between lines', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        // Prepare: one encoder and one buffer across the lines, as the recorder keeps them
        const encoder = new RecordBytesEncoder();
        const buf = Buffer.alloc(1 << 20);
        let pos = 0;
        // Act
        for (const r of records) pos = encoder.encodeInto(r, buf, pos);
        // Assert
        expect(buf.toString('utf8', 0, pos)).toBe(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes every field a record can have, escaped strings and non-ASCII included (a field added to ProbeRecord must be added to this record and to the encoder)', () => {
    // Prepare
    const every: Required<ProbeRecord> = {
      ...BASE,
      url: 'http://a/é?"q"=\\',
      traceId: 'Root=\u0001',
      ok: false,
      status: 502,
      error: 'other',
      origin: 'cloudfront',
      errorCode: 'E_Ω',
      cloudfront: 'generated',
      cached: false,
    };
    // Act
    const line = bytesLine(new RecordBytesEncoder(), every);
    // Assert
    expect(line).toBe(JSON.stringify(every));
    expect(Object.keys(JSON.parse(line)).sort()).toEqual(Object.keys(every).sort());
  });

  it('writes nothing and says so when the line might not fit in the room left', () => {
    // Prepare: room for the fixed part, not for a long URL
    const buf = Buffer.alloc(2048, 0x2a);
    const long: ProbeRecord = { ...BASE, url: `http://a/${'x'.repeat(4000)}` };
    // Act
    const end = new RecordBytesEncoder().encodeInto(long, buf, 0);
    const fits = new RecordBytesEncoder().encodeInto(BASE, buf, 0);
    // Assert
    expect(end).toBe(-1);
    expect(buf.subarray(fits).every((b) => b === 0x2a)).toBe(true);
    expect(new RecordBytesEncoder().encodeInto(BASE, buf, buf.length - 100)).toBe(-1);
  });
});
