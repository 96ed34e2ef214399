import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CLASSES, ORIGINS } from '../../src/probe/classify.js';
import { type ProbeRecord, RecordEncoder } from '../../src/probe/record.js';

/** Records shaped as the runner builds them (errorCode, when present, is set last). */
const record = fc
  .record({
    seq: fc.integer({ min: 1, max: 2 ** 40 }),
    urlIndex: fc.nat(20),
    urlSeq: fc.integer({ min: 1, max: 2 ** 40 }),
    url: fc.oneof(fc.constant('http://127.0.0.1:8080/'), fc.webUrl(), fc.string({ unit: 'binary' })),
    intended: fc.double({ min: 0, max: 4e12, noNaN: true }),
    sent: fc.double({ min: 0, max: 4e12, noNaN: true }),
    at: fc.oneof(fc.constant('2026-12-05T10:26:46.363Z'), fc.string({ unit: 'binary' })),
    latencyMs: fc.double(),
    serviceMs: fc.double(),
    status: fc.option(fc.integer({ min: 100, max: 599 })),
    bytes: fc.nat(),
    traceId: fc.oneof(fc.constant('Root=1-6b13e6e6-f53d4191344f588fc90d9908'), fc.string({ unit: 'binary' })),
    ok: fc.boolean(),
    error: fc.option(fc.constantFrom(...ERROR_CLASSES)),
    origin: fc.option(fc.constantFrom(...ORIGINS)),
    errorCode: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
  })
  .map(({ errorCode, ...rest }) => {
    const r: ProbeRecord = { ...rest };
    if (errorCode !== undefined) r.errorCode = errorCode;
    return r;
  });

describe('RecordEncoder', () => {
  it('writes every record exactly as JSON.stringify does, also when strings repeat or change between lines', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        // Prepare: one encoder across the lines, as the recorder keeps it (its caches carry over)
        const encoder = new RecordEncoder();
        // Act
        const lines = records.map((r) => encoder.line(r));
        // Assert
        expect(lines).toEqual(records.map((r) => JSON.stringify(r)));
      }),
      { numRuns: 2000 },
    );
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
    const line = new RecordEncoder().line(r);
    // Assert
    expect(line).toBe(JSON.stringify(r));
    expect(JSON.parse(line).intended).toBeNull();
  });
});
