import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyseAlbLogs } from '../../src/logs/analyse.js';
import { AlbParseError } from '../../src/logs/parse-line.js';
import { type AlbLineFields, AlbLineScanner } from '../../src/logs/scan-line.js';
import {
  WASM_BLOCK,
  WasmBlockScanner,
  type WasmLineFields,
  wasmScannerAvailable,
} from '../../src/logs/wasm-scanner.js';
import {
  mutatedReal,
  neighbour,
  projectFields,
  REAL_LINES,
  realWithReplacements,
  TRICKY_TOKENS,
  tokenSoup,
  writtenRecord,
} from '../helpers/alb-arbitraries.js';
import { lambdaLine } from '../helpers/alb-lines.js';

// The WebAssembly scanner accepts a subset of the lines the JavaScript scanner accepts, and reads
// the same values from them; every other line it hands back. These tests hold it to that, and
// check that it does accept the usual lines (or it would be a slow no-op).

type Seen = { ok: AlbLineFields } | { other: string } | { empty: true };

const wasm = WasmBlockScanner.create();

/** What the WebAssembly scanner makes of each whole line of `body`, and where it stopped. */
function scanAll(body: Buffer, scanner = wasm): { seen: Seen[]; stopped: number } {
  if (scanner === null) throw new Error('the WebAssembly scanner is not built');
  const seen: Seen[] = [];
  const stopped = scanner.read(body, 0, body.length, {
    fields: (f: WasmLineFields) => seen.push({ ok: projectFields(f) }),
    empty: () => seen.push({ empty: true }),
    other: (buf, from, to) => seen.push({ other: buf.toString('utf8', from, to) }),
  });
  return { seen, stopped };
}

/** The JavaScript scanner's reading of one line: its fields, or null when it rejects the line. */
function viaJs(line: string): AlbLineFields | null {
  try {
    return projectFields(new AlbLineScanner().scanLine(line));
  } catch (e) {
    if (e instanceof AlbParseError) return null;
    throw e;
  }
}

/** Scans `lines` as one block and checks each line against the JavaScript scanner; returns how many it accepted. */
function expectAgreement(lines: string[]): number {
  const clean = lines.map((l) => l.replaceAll('\n', ' '));
  const body = Buffer.from(`${clean.join('\n')}\n`);
  const { seen, stopped } = scanAll(body);
  expect(stopped).toBe(body.length);
  expect(seen).toHaveLength(clean.length);
  let accepted = 0;
  clean.forEach((line, i) => {
    const s = seen[i] as Seen;
    if ('ok' in s) {
      accepted++;
      expect(s.ok).toEqual(viaJs(line));
    } else if ('empty' in s) {
      expect(['', '\r']).toContain(line);
    } else {
      // Handed back exactly (as bytes decode), for the JavaScript scanner to judge.
      expect(s.other).toBe(Buffer.from(line).toString('utf8'));
    }
  });
  return accepted;
}

describe('WebAssembly line scanner', () => {
  it('is built (npm run build:wasm) and loads', () => {
    expect(wasmScannerAvailable()).toBe(true);
    expect(wasm).not.toBeNull();
  });

  it('accepts the real and documented lines with the values the JavaScript scanner reads', () => {
    // All but the one with an escaped quote in its user agent (the JavaScript scanner decodes escapes).
    const plain = REAL_LINES.filter((l) => !l.includes('\\'));
    expect(plain.length).toBe(REAL_LINES.length - 1);
    expect(expectAgreement(REAL_LINES)).toBe(plain.length);
    // Trailing fields a future layout may add are kept, as the parser keeps them.
    expect(expectAgreement(plain.map((l) => `${l} "future" 42`))).toBe(plain.length);
    // Unusual shapes go back: CRLF, a trailing space, an escape.
    expect(expectAgreement(REAL_LINES.map((l) => `${l}\r`))).toBe(0);
    expect(expectAgreement(REAL_LINES.map((l) => `${l} `))).toBe(0);
    expect(expectAgreement([lambdaLine(0, { ua: 'a"b' })])).toBe(0);
    expect(expectAgreement(['', '\r', 'x'])).toBe(0);
  });

  it('agrees with the JavaScript scanner on written lines, and accepts most of them (property)', () => {
    let accepted = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.array(writtenRecord, { minLength: 1, maxLength: 10 }), (lines) => {
        total += lines.length;
        accepted += expectAgreement(lines);
      }),
      { numRuns: 400 },
    );
    // The generator favours unusual shapes (escapes, timestamps in other precisions), which go back.
    expect(accepted / total).toBeGreaterThan(0.08);
  });

  it('agrees with the JavaScript scanner on every tricky token in every column of every real line', () => {
    const lines: string[] = [];
    for (const line of REAL_LINES) {
      const tokens = line.match(/"(?:[^"\\]|\\.)*"|[^ ]+/g) ?? [];
      for (let column = 0; column <= tokens.length; column++)
        for (const token of TRICKY_TOKENS) lines.push(tokens.toSpliced(column, 1, token).join(' '));
    }
    expect(lines.length).toBeGreaterThan(8000);
    expect(expectAgreement(lines)).toBeGreaterThan(1000);
  });

  it('agrees with the JavaScript scanner on every one-byte change of every real line', () => {
    // The fixed shapes (timestamps, numbers, ports) are checked by masks over 16 bytes at a time:
    // a wrong bit in one would pass a bad byte at one place only, which random changes seldom hit.
    const lines: string[] = [];
    for (const line of REAL_LINES)
      for (let at = 0; at < line.length; at++)
        for (const c of 'x0:./-" ') lines.push(line.slice(0, at) + c + line.slice(at + 1));
    expect(lines.length).toBeGreaterThan(20_000);
    expect(expectAgreement(lines)).toBeGreaterThan(1000);
  });

  it('never accepts what the JavaScript scanner rejects, nor reads other values (property)', () => {
    const anyLine = fc.oneof(tokenSoup, realWithReplacements, mutatedReal, neighbour, writtenRecord);
    fc.assert(
      fc.property(fc.array(anyLine, { minLength: 1, maxLength: 12 }), (lines) => {
        expectAgreement(lines);
      }),
      { numRuns: 3000 },
    );
  });

  it('on random bytes, hands back or reads every whole line and stops after the last newline', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const body = Buffer.from(bytes);
        const { seen, stopped } = scanAll(body);
        expect(stopped).toBe(body.lastIndexOf(10) + 1);
        expect(seen).toHaveLength(body.subarray(0, stopped).filter((b) => b === 10).length);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps target groups and reasons past its intern tables, and long ones, exact', () => {
    const lines: string[] = [];
    for (let i = 0; i < 80; i++) {
      const tg = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-${i}/${'0'.repeat(i % 3 ? 16 : 600)}`;
      lines.push(lambdaLine(i * 1000, { tg, reason: `Reason${i}`, status: 502, path: `/p${i}` }));
    }
    const fresh = WasmBlockScanner.create();
    const body = Buffer.from(`${lines.join('\n')}\n${lines.join('\n')}\n`);
    const { seen } = scanAll(body, fresh);
    expect(seen).toHaveLength(160);
    seen.forEach((s, i) => {
      expect(s).toEqual({ ok: viaJs(lines[i % 80] as string) });
    });
  });
});

describe('reading files with the WebAssembly scanner', () => {
  it('gives the summary, line numbers and examples the JavaScript scanner and the parser give', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-wasm-'));
    const t0 = Date.parse('2026-11-24T10:00:00Z');
    // Short lines by the ten thousand (more than one scan call's worth of records), lines across
    // the scanner's block, a line longer than the block, CRLF and empty lines, junk, and no final newline.
    const many: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      if (i % 997 === 0) many.push('not an alb line');
      else if (i % 13 === 0) many.push('');
      else many.push(lambdaLine(t0 + i * 37, { status: i % 5 ? 200 : 502, reason: i % 5 ? null : 'X' }));
    }
    const long = lambdaLine(t0, { ua: 'u'.repeat(WASM_BLOCK + 5000), reason: 'LambdaThrottling' });
    const files: Record<string, string> = {
      'a.log': many.join('\n'),
      'b.log.gz': [...many.slice(0, 4000), long, ...many.slice(4000, 9000)].join('\n') + '\n',
      'c.log': many.slice(0, 5000).join('\r\n'),
      'd.log': many.slice(0, 6000).join('\n\n'),
    };
    for (const [name, body] of Object.entries(files))
      await writeFile(join(dir, name), name.endsWith('.gz') ? gzipSync(body) : body);
    expect(Buffer.byteLength(files['a.log'] as string)).toBeGreaterThan(3 * WASM_BLOCK);
    for (const options of [{}, { sinceMs: t0 + 100_000, untilMs: t0 + 400_000 }]) {
      const viaWasm = await analyseAlbLogs([dir], { ...options, workers: 1, maxExamples: 50 });
      const viaJs = await analyseAlbLogs([dir], { ...options, workers: 1, maxExamples: 50, scanner: 'js' });
      const viaRecords = await analyseAlbLogs([dir], {
        ...options,
        workers: 1,
        maxExamples: 50,
        onRecord: () => {},
      });
      expect(viaWasm.summary.lines).toBeGreaterThan(40_000);
      expect(viaWasm.malformedExamples.length).toBeGreaterThan(30);
      expect(JSON.stringify(viaWasm.summary)).toBe(JSON.stringify(viaRecords.summary));
      expect(JSON.stringify(viaJs.summary)).toBe(JSON.stringify(viaRecords.summary));
      expect(viaWasm.read).toEqual(viaRecords.read);
      expect(viaWasm.malformedExamples).toEqual(viaRecords.malformedExamples);
    }
  });
});
