import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../../src/common/clock.js';
import { LineBatch } from '../../../src/lab/access-log.js';
import {
  CloudFrontLineWriter,
  CloudFrontLogWriter,
  exchangeRecord,
} from '../../../src/lab/cloudfront/access-log.js';
import type { EdgeResponse } from '../../../src/lab/cloudfront/edge.js';
import type { EdgeExchange } from '../../../src/lab/cloudfront/server.js';
import { MemoryObjectStore } from '../../../src/lab/object-store.js';
import {
  formatCloudFrontLine,
  parseCloudFrontLine,
  parseCloudFrontLogKey,
  parseFieldsHeader,
} from '../../../src/logs/cloudfront/index.js';

const exchange = (endMs: number, n: number): EdgeExchange => ({
  startMs: endMs - 5,
  endMs,
  readyMs: endMs - 1,
  clientIp: '198.51.100.7',
  clientPort: 50_000,
  method: 'GET',
  url: `/api/orders?n=${n}`,
  httpVersion: '1.1',
  host: 'shop.example.com',
  userAgent: 'probe/1.0',
  referer: undefined,
  xForwardedFor: undefined,
  receivedBytes: 100,
  sentBytes: 200,
  status: 0,
  response: undefined,
  aborted: true,
});

describe('CloudFrontLogWriter', () => {
  test('lines land in one file per interval and hour, in order, each whole, none lost', async () => {
    const hour = Date.UTC(2026, 11, 5, 10);
    const interval = 5 * 60_000;
    const clock = new VirtualClock(hour + 50 * 60_000);
    const store = new MemoryObjectStore(() => clock.now());
    const writer = new CloudFrontLogWriter({
      store,
      bucket: 'logs',
      prefix: 'cf',
      distributionId: 'E2QWRUHAPOMQZL',
      domainName: 'd111111abcdef8.cloudfront.net',
      pop: 'IAD89-C1',
      intervalMs: interval,
      clock,
    });
    store.createBucket('logs');
    // 10:50-10:55, 10:55-11:00 and 11:00-11:05, with a late line for 10:5x after 11:00 began.
    const times = [
      hour + 50 * 60_000 + 1,
      hour + 54 * 60_000,
      hour + 55 * 60_000,
      hour + 59 * 60_000 + 999,
      hour + 60 * 60_000,
      hour + 58 * 60_000,
      hour + 61 * 60_000,
    ];
    for (const [n, t] of times.entries()) writer.write(exchange(t, n));
    expect(writer.pendingLines).toBe(times.length);
    clock.advanceTo(hour + 55 * 60_000);
    writer.tick();
    await writer.flush();
    const files = store.list('logs', 'cf/').map((o) => {
      const [version, fields, ...lines] = gunzipSync(o.body).toString('utf8').split('\n');
      expect(version).toBe('#Version: 1.0');
      expect(lines.at(-1)).toBe('');
      const layout = parseFieldsHeader(fields!)!;
      return {
        hour: parseCloudFrontLogKey(o.key)!.hourMs,
        n: lines.slice(0, -1).map((l) => Number(parseCloudFrontLine(l, layout).uriQuery!.slice(2))),
      };
    });
    expect(files.map((f) => f.n).sort()).toEqual(
      [
        [0, 1],
        [2, 3, 5],
        [4, 6],
      ].sort(),
    );
    expect(files.find((f) => f.n.includes(4))!.hour).toBe(hour + 60 * 60_000);
    expect(writer.linesDelivered).toBe(times.length);
    expect(writer.pendingLines).toBe(0);
  });
});

describe('the lab line of an exchange', () => {
  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  // Any text, the characters CloudFront encodes and the empty string included; long enough for
  // the writer's copy of long values (32 characters on) as well as its loop.
  const text = fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.string({ unit: 'binary', minLength: 30, maxLength: 70 }),
    )
    .filter((s) => !/\p{Surrogate}/u.test(s));
  const response: fc.Arbitrary<EdgeResponse> = fc.record({
    status: fc.integer({ min: 100, max: 599 }),
    headers: fc.constant([]),
    body: fc.nat({ max: 5000 }).map((n) => Buffer.alloc(n)),
    requestId: text,
    resultType: fc.constantFrom('Hit', 'Miss', 'Error'),
    detailedResultType: fc.constantFrom('Hit', 'Miss', 'Error', 'OriginCommError', 'OriginConnectError'),
    fromCache: fc.boolean(),
    originStatus: maybe(fc.integer({ min: 100, max: 599 })),
    customErrorPage: fc.boolean(),
    contentType: maybe(text),
    readyAt: fc.constant(0),
  });
  const exchangeArb: fc.Arbitrary<EdgeExchange> = fc
    .record({
      startMs: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
      taken: fc.double({ min: 0, max: 70_000, noNaN: true }),
      firstByte: fc.double({ min: -5, max: 70_000, noNaN: true }),
      clientIp: fc.oneof(fc.ipV4(), fc.ipV6()),
      clientPort: fc.integer({ min: 0, max: 65535 }),
      method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'),
      url: fc.oneof(
        text.map((t) => `/${t}`),
        fc.tuple(text, text).map(([a, b]) => `/${a}?${b}`),
      ),
      httpVersion: fc.constantFrom('1.0', '1.1'),
      host: maybe(text),
      userAgent: maybe(text),
      referer: maybe(text),
      xForwardedFor: maybe(text),
      // Past 32 bits too (the writer puts small integers digit by digit).
      receivedBytes: fc.oneof(fc.nat(), fc.maxSafeNat()),
      sentBytes: fc.oneof(fc.nat(), fc.maxSafeNat()),
      response: maybe(response),
      aborted: fc.boolean(),
    })
    .map(({ taken, firstByte, ...g }) => ({
      ...g,
      endMs: g.startMs + taken,
      readyMs: g.startMs + firstByte,
      status: g.response?.status ?? 0,
    }));

  test("is the line formatCloudFrontLine writes for the exchange's record (property)", () => {
    const o = { domainName: 'd111111abcdef8.cloudfront.net', pop: 'IAD89-C1' };
    const writer = new CloudFrontLineWriter(o);
    // One batch for every run: each line lands after the ones before it.
    const batch = new LineBatch();
    const expected: string[] = [];
    fc.assert(
      fc.property(exchangeArb, (e) => {
        const before = batch.bytes().length;
        writer.write(e, batch);
        const line = formatCloudFrontLine(exchangeRecord(e, o));
        expected.push(line);
        expect(batch.bytes().subarray(before).toString('utf8')).toBe(`${line}\n`);
      }),
      { numRuns: 1000 },
    );
    expect(batch.lines).toBe(expected.length);
    expect(batch.bytes().toString('utf8')).toBe(expected.map((l) => `${l}\n`).join(''));
  });

  // The writer copies runs of columns while the values they come from repeat: lines that share
  // some values with the line before, and differ in others, must come out as if written afresh.
  const changeable = [
    'sentBytes',
    'clientIp',
    'method',
    'url',
    'response',
    'referer',
    'userAgent',
    'host',
    'receivedBytes',
    'xForwardedFor',
    'httpVersion',
    'aborted',
    'clientPort',
    'endMs',
  ] as const;
  /** The same content in another string object, as Node's parser hands each request's strings. */
  const fresh = <T>(v: T): T => (typeof v === 'string' ? (Buffer.from(v, 'utf8').toString('utf8') as T) : v);

  test('lines that repeat some of the values of the line before are still the lines formatCloudFrontLine writes (property)', () => {
    const o = { domainName: 'd111111abcdef8.cloudfront.net', pop: 'IAD89-C1' };
    const writer = new CloudFrontLineWriter(o);
    const batch = new LineBatch();
    fc.assert(
      fc.property(
        exchangeArb,
        fc.array(fc.tuple(exchangeArb, fc.subarray([...changeable], { maxLength: 3 })), { maxLength: 12 }),
        (first, steps) => {
          let prev = first;
          for (const [next, changed] of [[first, [...changeable]] as const, ...steps]) {
            const e: Record<string, unknown> = { ...prev };
            for (const k of Object.keys(e)) e[k] = fresh(e[k]);
            for (const k of changed) {
              e[k] = next[k];
              if (k === 'response') e.status = next.status;
            }
            const x = e as unknown as EdgeExchange;
            const before = batch.bytes().length;
            writer.write(x, batch);
            expect(batch.bytes().subarray(before).toString('utf8')).toBe(
              `${formatCloudFrontLine(exchangeRecord(x, o))}\n`,
            );
            prev = x;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
