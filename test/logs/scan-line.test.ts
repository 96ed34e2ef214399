import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogAggregator, requestPath } from '../../src/logs/aggregate.js';
import { analyseAlbLogs } from '../../src/logs/analyse.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { AlbParseError, parseAlbLine } from '../../src/logs/parse-line.js';
import { type AlbLogRecord, albRecord, requestLineParts } from '../../src/logs/record.js';
import { type AlbLineFields, AlbLineScanner, scanAlbLine } from '../../src/logs/scan-line.js';
import { type LineRef, readAlbLogs } from '../../src/logs/sources.js';
import {
  mutatedReal,
  neighbour,
  projectFields,
  REAL_LINES,
  realWithReplacements,
  tokenSoup,
  writtenRecord,
} from '../helpers/alb-arbitraries.js';
import { lambdaLine, TG_API, TG_WEB } from '../helpers/alb-lines.js';

// The projection scanner must decide exactly as parseAlbLine: same lines accepted, same first
// error (field, column, message), and the same values for the fields aggregation reads.

type Outcome = { ok: AlbLineFields } | { error: [field: string, column: number, message: string] };

function outcome(run: () => AlbLineFields): Outcome {
  try {
    return { ok: projectFields(run()) };
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
  it('hands over records only for the entries asked for: the very records the parser gives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-chosen-'));
    for (let f = 0; f < 4; f++) {
      const body = mixedLines(f + 11, 900).join(f === 2 ? '\r\n' : '\n');
      await writeFile(join(dir, `f${f}.log${f % 2 ? '.gz' : ''}`), f % 2 ? gzipSync(body) : body);
    }
    const failed = (f: AlbLineFields) => f.elbStatusCode !== null && f.elbStatusCode >= 500;
    for (const options of [
      {},
      { sinceMs: T0 + 100_000, untilMs: T0 + 400_000 },
      { filter: { reasons: new Set(['LambdaThrottling', 'Weird "reason"']) } },
    ]) {
      const all: AlbLogRecord[] = [];
      const chosen: AlbLogRecord[] = [];
      const whole = await analyseAlbLogs([dir], { ...options, workers: 1, onRecord: (r) => all.push(r) });
      const scanned = await analyseAlbLogs([dir], {
        ...options,
        workers: 1,
        onRecord: (r) => chosen.push(r),
        recordsFor: failed,
      });
      expect(chosen.length).toBeGreaterThan(50);
      // Lines of both scanners are among them: the WebAssembly one's and the escaped ones it hands back.
      expect(chosen.some((r) => r.errorReason === 'Weird "reason"')).toBe(true);
      expect(chosen.some((r) => r.errorReason === 'LambdaThrottling')).toBe(true);
      expect(chosen).toEqual(all.filter(failed));
      expect(JSON.stringify(scanned.summary)).toBe(JSON.stringify(whole.summary));
      expect(scanned.read).toEqual(whole.read);
      expect(scanned.malformedExamples).toEqual(whole.malformedExamples);
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
