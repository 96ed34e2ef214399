import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogAggregator, requestPath } from '../../src/logs/aggregate.js';
import { analyseAlbLogs } from '../../src/logs/analyse.js';
import { ALB_FIELDS, MIN_FIELD_COUNT } from '../../src/logs/fields.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { AlbParseError, parseAlbLine } from '../../src/logs/parse-line.js';
import { type AlbLogRecord, albRecord, requestLineParts } from '../../src/logs/record.js';
import { type AlbLineFields, AlbLineScanner, scanAlbLine } from '../../src/logs/scan-line.js';
import { type LineRef, readAlbLogs } from '../../src/logs/sources.js';
import {
  DOC_HTTPS,
  DOC_LAMBDA_FAILED,
  lambdaLine,
  TG_API,
  TG_WEB,
  THROTTLED_NEW,
} from '../helpers/alb-lines.js';

// The projection scanner must decide exactly as parseAlbLine: same lines accepted, same first
// error (field, column, message), and the same values for the fields aggregation reads.

type Outcome = { ok: AlbLineFields } | { error: [field: string, column: number, message: string] };

function project(r: AlbLineFields): AlbLineFields {
  return {
    timeMs: r.timeMs,
    time: r.time,
    elbStatusCode: r.elbStatusCode,
    errorReason: r.errorReason,
    targetGroupArn: r.targetGroupArn,
    // The scanner keeps the request line only where aggregation reads it (5xx).
    request: r.elbStatusCode !== null && r.elbStatusCode >= 500 ? r.request : null,
  };
}

function outcome(run: () => AlbLineFields): Outcome {
  try {
    return { ok: project(run()) };
  } catch (e) {
    if (!(e instanceof AlbParseError)) throw e;
    return { error: [e.field, e.column, e.message] };
  }
}

const viaParse = (line: string) => outcome(() => parseAlbLine(line));
const viaScan = (line: string) => outcome(() => scanAlbLine(line));

/** The line scanned in place inside a larger text, between arbitrary neighbours. */
function viaScanInPlace(before: string, line: string, after: string): Outcome {
  const text = `${before}\n${line}\n${after}`;
  const from = before.length + 1;
  return outcome(() => new AlbLineScanner().setText(text).scan(from, from + line.length));
}

function expectSame(line: string, before = '', after = ''): void {
  const expected = viaParse(line);
  expect(viaScan(line)).toEqual(expected);
  expect(viaScanInPlace(before, line, after)).toEqual(expected);
}

const REAL_LINES = [
  DOC_LAMBDA_FAILED,
  DOC_HTTPS,
  THROTTLED_NEW,
  lambdaLine(Date.parse('2026-11-24T10:00:00Z'), { reason: 'LambdaUnhandled', path: '/a?b=1' }),
  lambdaLine(Date.parse('2026-11-24T23:59:59Z'), { tg: TG_WEB }),
];

// Tokens chosen to hit every fast path and every way out of it, column by column.
const TRICKY_TOKENS = [
  '-',
  '"-"',
  '""',
  '"',
  '"-',
  '-"',
  '--',
  '"--"',
  '-1',
  '"-1"',
  '-12',
  '0',
  '00',
  '200',
  '502',
  '099',
  '1000',
  '99',
  '12a',
  '0.000',
  '0.0001',
  '1.',
  '.5',
  '1.2.3',
  '0.5x',
  '"0.001"',
  '2026-11-24T10:15:02.512003Z',
  '2026-11-24T10:15:02.512003Z"',
  '"2026-11-24T10:15:02.512003Z"',
  '2026-11-24T10:15:02Z',
  '2026-11-24T10:15:02.5Z',
  '2026-11-24T10:15:02.5120031Z',
  '2026-13-24T10:15:02.512003Z',
  '2026-11-24T24:15:02.512003Z',
  '2026-11-24T10:15:60.512003Z',
  '2026-11-24T10:15:61.512003Z',
  '0050-01-01T00:00:00.000000Z',
  '2026-02-31T10:15:02.512003Z',
  '2026-11-24t10:15:02.512003Z',
  '1.2.3.4:80',
  '1.2.3.4:',
  ':80',
  '1.2.3.4:08',
  '2001:db8::1:443',
  '"1.2.3.4:80"',
  'http',
  'https',
  '"https"',
  'a"b',
  '"a\\"b"',
  '"a\\\\b"',
  '"\\x2d"',
  '"\\x41"',
  '"\\x"',
  '"\\q"',
  '"a b"',
  '"GET https://h:443/p?q=1 HTTP/1.1"',
  '"- - - "',
  'LambdaThrottling',
  '"LambdaThrottling"',
  TG_API,
  TG_WEB,
  `"${TG_API}"`,
  '\r',
  '"\t"',
  'é',
  '"é\\"x"',
];

/** A line of `count` tricky tokens (or a real line's tokens with some replaced), joined by spaces. */
const tokenSoup = fc
  .tuple(
    fc.array(fc.constantFrom(...TRICKY_TOKENS), { minLength: 0, maxLength: ALB_FIELDS.length + 3 }),
    fc.constantFrom(' ', ' ', ' ', '  '),
    fc.constantFrom('', '', ' ', '\r', ' \r'),
  )
  .map(([tokens, sep, end]) => tokens.join(sep) + end);

const realWithReplacements = fc
  .tuple(
    fc.constantFrom(...REAL_LINES),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TRICKY_TOKENS)), { maxLength: 3 }),
    fc.nat(40),
  )
  .map(([line, replacements, cut]) => {
    // Split on spaces outside quotes (good enough for these lines) and swap tokens.
    const tokens = line.match(/"(?:[^"\\]|\\.)*"|[^ ]+/g) ?? [];
    for (const [at, token] of replacements) tokens[at % tokens.length] = token;
    // Sometimes drop trailing fields (older layouts, or too few).
    const keep = cut < 30 ? tokens.length : Math.max(0, tokens.length - (cut - 29) * 3);
    return tokens.slice(0, keep).join(' ');
  });

const mutatedReal = fc
  .tuple(fc.constantFrom(...REAL_LINES), fc.nat(), fc.string({ unit: 'binary', maxLength: 4 }), fc.nat(3))
  .map(([line, at, insert, del]) => {
    const i = at % (line.length + 1);
    return line.slice(0, i) + insert + line.slice(i + del);
  });

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('-', 'a b', 'x"y', 'back\\slash', 'tab\tch', '\\x41'),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
/** Times as the ALB writes them (microseconds), and the shorter forms the parser also accepts. */
const iso = fc
  .tuple(
    fc.integer({ min: Date.parse('2016-08-11T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }),
    fc.constantFrom(6, 6, 6, 0, 1, 2, 3, 9),
  )
  .map(([t, digits]) => {
    const base = new Date(t).toISOString().slice(0, 19);
    const frac = `${String(t % 1000).padStart(3, '0')}456789`.slice(0, digits);
    return digits === 0 ? `${base}Z` : `${base}.${frac}Z`;
  });

/** Valid entries written by our writer: every field kind, present and absent. */
const writtenRecord = fc
  .record({
    type: fc.constantFrom('http', 'https', 'h2', 'grpcs', 'ws', 'wss'),
    time: iso,
    client: maybe(fc.constantFrom('10.0.0.1', '2001:db8::1', '::1')),
    target: maybe(fc.constantFrom('10.0.0.9', '2001:db8::9')),
    port: fc.integer({ min: 1, max: 65535 }),
    times: fc.tuple(
      maybe(fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000)),
      maybe(fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000)),
      maybe(fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000)),
    ),
    elbStatusCode: maybe(fc.integer({ min: 100, max: 999 })),
    request: maybe(
      fc.oneof(
        text,
        fc
          .tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/', '/a b', '/p?q', 'https://h:443/x?y'))
          .map(([m, u]) => `${m} ${u} HTTP/1.1`),
      ),
    ),
    userAgent: maybe(text),
    targetGroupArn: maybe(fc.constantFrom(TG_API, TG_WEB, 'targetgroup/x/1', 'weird arn"')),
    errorReason: maybe(fc.oneof(text, fc.constantFrom('LambdaThrottling', 'LambdaUnhandled'))),
    requestCreationTime: maybe(iso),
    fieldCount: fc.integer({ min: MIN_FIELD_COUNT, max: ALB_FIELDS.length }),
    extra: fc.option(fc.array(fc.constantFrom('"future"', '42', 'x'), { minLength: 1, maxLength: 2 }), {
      nil: undefined,
    }),
  })
  .map((g) =>
    formatAlbLine(
      albRecord({
        type: g.type,
        time: g.time,
        elb: 'app/my-lb/50dc6c495c0c9188',
        client: g.client,
        clientPort: g.client === null ? null : g.port,
        target: g.target,
        targetPort: g.target === null ? null : g.port,
        requestProcessingTime: g.times[0],
        targetProcessingTime: g.times[1],
        responseProcessingTime: g.times[2],
        elbStatusCode: g.elbStatusCode,
        request: g.request,
        userAgent: g.userAgent,
        // Unquoted fields must not contain spaces or start with a quote to stay valid; the
        // weird ones still exercise both paths (both reject them the same way).
        targetGroupArn: g.targetGroupArn,
        requestCreationTime: g.fieldCount > 21 ? g.requestCreationTime : null,
        errorReason: g.fieldCount > 24 ? g.errorReason : null,
        fieldCount: g.fieldCount,
        extra: g.fieldCount === ALB_FIELDS.length ? g.extra : undefined,
      }),
    ),
  );

const neighbour = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('"', ' ', '\\', 'ab"cd', '00 11', '"\\x41 "', 'Z '),
  fc.constantFrom(...REAL_LINES),
);

describe('scanAlbLine agrees with parseAlbLine (property)', () => {
  it('on real lines and documented examples', () => {
    for (const line of REAL_LINES) {
      expectSame(line);
      expect(viaScan(line)).toHaveProperty('ok');
      expectSame(`${line}\r`);
      expectSame(`${line} "future" 42`);
      expectSame(`${line} `);
    }
    expectSame('');
    expectSame('\r');
  });

  it('on lines our writer produces (all accepted, equal projections)', () => {
    fc.assert(
      fc.property(writtenRecord, neighbour, neighbour, (line, before, after) => {
        expectSame(line, before, after);
      }),
      { numRuns: 1500 },
    );
  });

  it('on token soups that hit every fast path and its exits', () => {
    fc.assert(
      fc.property(tokenSoup, neighbour, neighbour, (line, before, after) => {
        expectSame(line, before, after);
      }),
      { numRuns: 4000 },
    );
  });

  it('on real lines with tokens swapped for tricky ones', () => {
    fc.assert(
      fc.property(realWithReplacements, neighbour, neighbour, (line, before, after) => {
        expectSame(line, before, after);
      }),
      { numRuns: 4000 },
    );
  });

  it('on mutated real lines', () => {
    fc.assert(
      fc.property(mutatedReal, neighbour, neighbour, (line, before, after) => {
        expectSame(line, before, after);
      }),
      { numRuns: 4000 },
    );
  });

  it('on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), neighbour, (line, after) => {
        expectSame(line, '', after);
      }),
      { numRuns: 3000 },
    );
  });

  it('on consecutive lines of one text (state carried from line to line)', () => {
    const anyLine = fc.oneof(writtenRecord, tokenSoup, realWithReplacements, mutatedReal);
    fc.assert(
      fc.property(fc.array(anyLine, { minLength: 1, maxLength: 8 }), (raw) => {
        const lines = raw.map((l) => l.replaceAll('\n', ' '));
        const all = lines.join('\n');
        const scanner = new AlbLineScanner().setText(all);
        let from = 0;
        for (const line of lines) {
          const to = from + line.length;
          expect(outcome(() => scanner.scan(from, to))).toEqual(viaParse(line));
          from = to + 1;
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('requestPath', () => {
  it('is requestLineParts(...).path', () => {
    const part = fc.constantFrom('', ' ', '/', '?', '://', 'h', 'https', ':', 'a', '//', '-');
    const req = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(part, { maxLength: 12 }).map((p) => p.join('')),
    );
    fc.assert(
      fc.property(fc.option(req, { nil: null }), (r) => {
        expect(requestPath(r)).toBe(requestLineParts(r).path);
      }),
      { numRuns: 5000 },
    );
    expect(requestPath('GET https://h:443/a/b?c=1 HTTP/1.1')).toBe('/a/b');
    expect(requestPath('GET https://h:443 HTTP/1.1')).toBe('/');
    expect(requestPath('- - - ')).toBeNull();
  });
});

const T0 = Date.parse('2026-11-24T10:00:00Z');

/** A mixed bag of lines: statuses, reasons, groups, paths, out-of-order times, CRLF, junk. */
function mixedLines(seed: number, count: number): string[] {
  let rnd = seed;
  const next = () => {
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    return rnd / 0x7fffffff;
  };
  const reasons = [null, null, null, 'LambdaThrottling', 'LambdaUnhandled', 'Weird "reason"'];
  const statuses = [200, 200, 502, 503, 404, 500];
  const paths = ['/api/cart', '/', '/a?b=1', '/x y', `/p${seed}`];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = next();
    if (r < 0.03) {
      lines.push(
        ['not an alb line', '', '\r', 'https 2026-11-24T10:00:00Z', `${REAL_LINES[0]} `][i % 5] as string,
      );
      continue;
    }
    const reason = reasons[Math.floor(next() * reasons.length)] ?? null;
    let line = lambdaLine(T0 + Math.floor(next() * 600_000) - (i % 7 === 0 ? 120_000 : 0), {
      reason,
      status: statuses[Math.floor(next() * statuses.length)],
      tg: next() < 0.5 ? TG_WEB : TG_API,
      path: paths[Math.floor(next() * paths.length)],
    });
    if (r > 0.97) line = `${line} "future"`;
    if (r > 0.95 && r <= 0.97) line = REAL_LINES[i % REAL_LINES.length] as string;
    lines.push(line);
  }
  return lines;
}

describe('aggregation from records and from scanned fields', () => {
  it('gives the same summary, line for line (property)', () => {
    const anyLine = fc.oneof(
      { weight: 4, arbitrary: writtenRecord },
      { weight: 2, arbitrary: fc.constantFrom(...REAL_LINES) },
      { weight: 1, arbitrary: realWithReplacements },
      { weight: 1, arbitrary: tokenSoup },
    );
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 30 }), (lines) => {
        const fromRecords = new LogAggregator();
        const fromFields = new LogAggregator();
        const scanner = new AlbLineScanner();
        for (const line of lines) {
          let record: AlbLogRecord | undefined;
          try {
            record = parseAlbLine(line);
          } catch {}
          if (record) {
            fromRecords.add(record);
            fromFields.add(scanner.scanLine(line));
          }
        }
        const read = { lines: lines.length, malformed: 0, files: 1 };
        expect(JSON.stringify(fromFields.summary(read))).toBe(JSON.stringify(fromRecords.summary(read)));
      }),
      { numRuns: 500 },
    );
  });

  it('counts status codes the parser never produces as their text, in first-seen order', () => {
    const agg = new LogAggregator();
    const base = albRecord({ type: 'http', time: '2026-11-24T10:00:00.000000Z', elb: 'app/x/1' });
    for (const code of [200, null, 1500, 502, 200, 1.5, -3, 0]) agg.add({ ...base, elbStatusCode: code });
    const s = agg.summary({ lines: 8, malformed: 0, files: 1 });
    expect(JSON.stringify(s.byElbStatus)).toBe('{"0":1,"200":2,"502":1,"1500":1,"-":1,"1.5":1,"-3":1}');
    expect(JSON.stringify(s.series[0]?.byElbStatus)).toBe(JSON.stringify(s.byElbStatus));
  });

  it('gives the same --json summary for a directory, single-threaded, with records, and in threads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-scan-'));
    for (let f = 0; f < 6; f++) {
      const lines = mixedLines(f + 1, 700);
      const body = lines.join(f === 3 ? '\r\n' : '\n') + (f % 2 ? '\n' : '');
      await writeFile(join(dir, `f${f}.log${f % 2 ? '.gz' : ''}`), f % 2 ? gzipSync(body) : body);
    }
    for (const options of [
      {},
      { sinceMs: T0 + 100_000, untilMs: T0 + 400_000 },
      { filter: { statuses: { codes: new Set([503]), classes: new Set([2]) } } },
      { filter: { reasons: new Set(['LambdaThrottling']), targetGroups: ['web'] } },
    ]) {
      const fields = await analyseAlbLogs([dir], { ...options, workers: 1 });
      const records = await analyseAlbLogs([dir], { ...options, workers: 1, onRecord: () => {} });
      const threads = await analyseAlbLogs([dir], { ...options, workers: 2, parallelMinBytes: 0 });
      expect(fields.summary.lines).toBeGreaterThan(3000);
      expect(fields.summary.malformed).toBeGreaterThan(10);
      const json = JSON.stringify(records.summary);
      expect(JSON.stringify(fields.summary)).toBe(json);
      // Threads merge per-file counts in file order: the very same document, key order included.
      expect(JSON.stringify(threads.summary)).toBe(json);
      expect(fields.read).toEqual(records.read);
      expect(threads.read).toEqual(records.read);
      expect(fields.malformedExamples).toEqual(records.malformedExamples);
      expect(threads.malformedExamples).toEqual(records.malformedExamples);
    }
  });
});

describe('line splitting and decoding', () => {
  /** Every line the reader hands over (valid or not), with its number, as the visitor sees it. */
  async function linesRead(spec: string, stdin?: Readable): Promise<[number, string][]> {
    const seen: [number, string][] = [];
    const stats = await readAlbLogs(
      [spec],
      {
        record(r: AlbLogRecord, ref: LineRef) {
          seen.push([ref.line, formatAlbLine(r)]);
        },
        malformed(_e, ref, text) {
          seen.push([ref.line, text]);
        },
      },
      { stdin },
    );
    expect(stats.errors).toEqual([]);
    return seen;
  }

  function expected(text: string): [number, string][] {
    const out: [number, string][] = [];
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    lines.forEach((l, i) => {
      if (l !== '' && l !== '\r') out.push([i + 1, l]);
    });
    return out;
  }

  const bytesArb = fc
    .array(
      fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 255 }) },
        { weight: 3, arbitrary: fc.constant(10) },
        { weight: 1, arbitrary: fc.constantFrom(13, 0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0) },
      ),
      { maxLength: 400 },
    )
    .map((a) => Buffer.from(a))
    .filter((b) => !(b[0] === 0x1f && b[1] === 0x8b));

  it('splits plain, gzip and streamed bytes into the lines a full UTF-8 decode gives (property)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-split-'));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        bytesArb,
        fc.boolean(),
        fc.array(fc.nat(50), { maxLength: 6 }),
        async (bytes, bom, cuts) => {
          const body = bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]) : bytes;
          const plain = join(dir, `p${n}.log`);
          const gz = join(dir, `g${n++}.log.gz`);
          await writeFile(plain, body);
          await writeFile(gz, gzipSync(body));
          // Plain input went through TextDecoder (which drops a BOM), gzip through a UTF-8 string decoder.
          const plainText = new TextDecoder('utf-8').decode(body);
          const gzText = body.toString('utf8');
          expect(await linesRead(plain)).toEqual(expected(plainText));
          expect(await linesRead(gz)).toEqual(expected(gzText));
          // Streamed in arbitrary pieces (stdin), split inside lines and characters.
          const pieces: Buffer[] = [];
          let at = 0;
          for (const c of cuts) {
            pieces.push(body.subarray(at, Math.min(body.length, at + c)));
            at = Math.min(body.length, at + c);
          }
          pieces.push(body.subarray(at));
          const stream = Readable.from(pieces.filter((p) => p.length > 0));
          if (body.length > 0) expect(await linesRead('-', stream)).toEqual(expected(plainText));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads long lines, lines across blocks and chunks, and files streamed rather than read whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-long-'));
    // Lines longer than a block and than a zlib chunk; the gzip file inflates past what is
    // inflated in one call (32 MB), the big plain file is past what is read whole (16 MB).
    const long = (n: number) => lambdaLine(T0, { ua: 'u'.repeat(n), reason: 'LambdaThrottling' });
    const small = [lambdaLine(T0), long(2_500_000), ...mixedLines(9, 3000), long(2_500_000)];
    const smallBody = small.join('\n');
    const huge = [lambdaLine(T0), long(17_000_000), ...mixedLines(10, 300), long(17_000_000)].join('\n');
    const big = Array.from({ length: 13 }, (_, i) => mixedLines(20 + i, 3000).join('\n')).join('\n');
    await writeFile(join(dir, 'a.log'), smallBody); // read whole
    await writeFile(join(dir, 'b.log.gz'), gzipSync(smallBody)); // inflated whole
    await writeFile(join(dir, 'c.log.gz'), gzipSync(huge)); // streamed
    await writeFile(join(dir, 'd.log'), `${big}\n`); // streamed
    expect(Buffer.byteLength(huge)).toBeGreaterThan(32 * 1024 * 1024);
    expect(Buffer.byteLength(big)).toBeGreaterThan(16 * 1024 * 1024);
    const numbers = (lines: [number, string][]) => lines.map(([i]) => i);
    const lengths = (lines: [number, string][]) => lines.map(([, l]) => l.length);
    const wantSmall = expected(smallBody);
    for (const file of ['a.log', 'b.log.gz']) {
      const got = await linesRead(join(dir, file));
      expect(numbers(got)).toEqual(numbers(wantSmall));
      expect(lengths(got)).toEqual(lengths(wantSmall));
    }
    const gotHuge = await linesRead(join(dir, 'c.log.gz'));
    expect(numbers(gotHuge)).toEqual(numbers(expected(huge)));
    expect(lengths(gotHuge)).toEqual(lengths(expected(huge)));
    expect(numbers(await linesRead(join(dir, 'd.log')))).toEqual(numbers(expected(big)));
    const fields = await analyseAlbLogs([dir], { workers: 1 });
    const records = await analyseAlbLogs([dir], { workers: 1, onRecord: () => {} });
    const threads = await analyseAlbLogs([dir], { workers: 3, parallelMinBytes: 0 });
    expect(fields.summary.lines).toBeGreaterThan(40_000);
    expect(fields.summary.byErrorReason.LambdaThrottling).toBeGreaterThan(4);
    expect(JSON.stringify(fields.summary)).toBe(JSON.stringify(records.summary));
    expect(JSON.stringify(threads.summary)).toBe(JSON.stringify(records.summary));
    expect(threads.read).toEqual(records.read);
  });
});
