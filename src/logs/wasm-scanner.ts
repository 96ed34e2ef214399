import { readFileSync } from 'node:fs';
import { MIN_FIELD_COUNT } from './fields.js';
import {
  type AlbLineFields,
  COL_ELB_STATUS,
  COL_ERROR_REASON,
  COL_REQUEST,
  COL_TARGET_GROUP,
  COL_TIME,
  KINDS,
} from './scan-line.js';

/**
 * The ALB line scanner in WebAssembly (source: src/logs/wasm/alb-scan.ts, AssemblyScript, built
 * into wasm/alb-scan.wasm by `npm run build:wasm`). It reads bytes, so a block of lines is neither
 * decoded into a string nor searched one field at a time through string builtins; the aggregation
 * summary reads it for every whole line. It accepts only the lines whose fields all have the common
 * shapes (a subset of what parseAlbLine accepts, read to the same values) and hands every other
 * line back to the JavaScript scanner, which accepts it or names what is wrong: exactness stays
 * with one implementation. Property tests hold the two to each other.
 */

// Node has WebAssembly; TypeScript declares it only in its DOM and worker libraries.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly _brand?: 'WebAssembly.Module';
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
};

/** Status slot values besides a code (as alb-scan.ts writes them). */
const ABSENT = -1;
const EMPTY = -2;
const BAIL = -3;

// Record layout (alb-scan.ts): 64 bytes per line, read as 16 int32 (the f64 time at int32 0..1).
const RECORD_BYTES = 64;
const RECORD_INTS = RECORD_BYTES / 4;
const I_START = 2;
const I_END = 3;
const I_STATUS = 4;
const I_ARN_ID = 5;
// Each intern id is followed by the field's from and to.
const I_REASON_ID = 8;
const I_REQUEST_FROM = 11;
const I_REQUEST_TO = 12;
const I_TIME_FROM = 13;
/** Length of the usual timestamp the scanner accepts: 2024-05-01T12:00:00.123456Z */
const TIME_LENGTH = 27;

/** Lines per scan call, and input bytes per call (more lines or bytes take more calls). */
const MAX_LINES = 8192;
export const WASM_BLOCK = 1024 * 1024;
const PAGE = 65536;

interface ScanExports {
  memory: WasmMemory;
  freeStart(): number;
  kindsStart(): number;
  configure(
    fields: number,
    minFields: number,
    time: number,
    status: number,
    request: number,
    arn: number,
    reason: number,
  ): void;
  scan(input: number, length: number, out: number, maxLines: number): number;
}

const WASM_URL = new URL('../../wasm/alb-scan.wasm', import.meta.url);
let module: WasmModule | null | undefined;

/** The compiled scanner, or null when the build did not produce it (the JavaScript scanner then reads everything). */
function scanModule(): WasmModule | null {
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(readFileSync(WASM_URL));
    } catch {
      module = null;
    }
  }
  return module;
}

/** Whether the WebAssembly scanner was built and loads (tests insist on it; readers fall back without it). */
export const wasmScannerAvailable = (): boolean => scanModule() !== null;

/**
 * One line's fields from the last scan, as aggregation reads them (valid until the next line).
 * `time` is decoded only when read: aggregation reads it only for a new first or last time.
 */
export class WasmLineFields implements AlbLineFields {
  timeMs = Number.NaN;
  elbStatusCode: number | null = null;
  errorReason: string | null = null;
  targetGroupArn: string | null = null;
  request: string | null = null;
  /** @internal */ buf: Buffer = Buffer.alloc(0);
  /** @internal */ timeAt = 0;
  /** @internal the line's bytes in `buf`, without its newline. */ lineFrom = 0;
  /** @internal */ lineTo = 0;
  get time(): string {
    return this.buf.toString('latin1', this.timeAt, this.timeAt + TIME_LENGTH);
  }
  /** The whole line, decoded as the JavaScript scanner's text is. */
  lineText(): string {
    return this.buf.toString('utf8', this.lineFrom, this.lineTo);
  }
}

/** What `WasmBlockScanner.read` reports for each line. */
export interface WasmLineSink {
  /** A line scanned: `fields` holds it (reused for the next line). */
  fields(fields: WasmLineFields): void;
  /** An empty line (counted for line numbers only). */
  empty(): void;
  /** A line the scanner hands back: bytes [from, to) of the buffer, without its newline. */
  other(buf: Buffer, from: number, to: number): void;
}

/** A WebAssembly instance of the scanner with its memory laid out; one per thread is enough. */
export class WasmBlockScanner {
  private readonly exports: ScanExports;
  private readonly out: number;
  private readonly input: number;
  private readonly bytes: Uint8Array;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  /** Strings of the scanner's intern ids: target group ARNs and error reasons. */
  private readonly arns: string[] = [];
  private readonly reasons: string[] = [];
  private readonly line = new WasmLineFields();

  private constructor(instance: WasmInstance) {
    this.exports = instance.exports as unknown as ScanExports;
    const e = this.exports;
    this.out = Math.ceil(e.freeStart() / RECORD_BYTES) * RECORD_BYTES;
    this.input = this.out + MAX_LINES * RECORD_BYTES;
    // The scanner writes a newline after its input and reads up to 32 bytes past that.
    const need = this.input + WASM_BLOCK + 64;
    const have = e.memory.buffer.byteLength;
    if (need > have) e.memory.grow(Math.ceil((need - have) / PAGE));
    this.bytes = new Uint8Array(e.memory.buffer);
    this.ints = new Int32Array(e.memory.buffer);
    this.floats = new Float64Array(e.memory.buffer);
    // The kinds table has 256 bytes before the scanner's intern tables.
    if (KINDS.length > 256)
      throw new Error(`the WebAssembly scanner reads at most 256 columns, not ${KINDS.length}`);
    this.bytes.set(KINDS, e.kindsStart());
    e.configure(
      KINDS.length,
      MIN_FIELD_COUNT,
      COL_TIME,
      COL_ELB_STATUS,
      COL_REQUEST,
      COL_TARGET_GROUP,
      COL_ERROR_REASON,
    );
  }

  /** A new instance, or null when the scanner was not built. */
  static create(): WasmBlockScanner | null {
    const m = scanModule();
    return m === null ? null : new WasmBlockScanner(new WebAssembly.Instance(m, {}));
  }

  /**
   * Reads the whole lines of buf[from, to) (up to WASM_BLOCK bytes at a time) and reports each to
   * `sink`, in order. Returns where it stopped: at the start of the first line without a newline
   * before `to` (or of a line longer than WASM_BLOCK, which the caller reads another way).
   */
  read(buf: Buffer, from: number, to: number, sink: WasmLineSink): number {
    const { exports: e, ints, floats, line, input } = this;
    const outInt = this.out >>> 2;
    line.buf = buf;
    while (from < to) {
      const length = Math.min(to - from, WASM_BLOCK);
      this.bytes.set(buf.subarray(from, from + length), input);
      const lines = e.scan(input, length, this.out, MAX_LINES);
      if (lines === 0) return from;
      for (let i = 0; i < lines; i++) {
        const r = outInt + i * RECORD_INTS;
        const status = ints[r + I_STATUS] as number;
        if (status === EMPTY) {
          sink.empty();
          continue;
        }
        if (status === BAIL) {
          sink.other(buf, from + (ints[r + I_START] as number), from + (ints[r + I_END] as number));
          continue;
        }
        line.lineFrom = from + (ints[r + I_START] as number);
        line.lineTo = from + (ints[r + I_END] as number);
        line.timeMs = floats[r >>> 1] as number;
        line.timeAt = from + (ints[r + I_TIME_FROM] as number);
        line.elbStatusCode = status === ABSENT ? null : status;
        line.targetGroupArn = this.interned(this.arns, buf, from, r + I_ARN_ID);
        line.errorReason = this.interned(this.reasons, buf, from, r + I_REASON_ID);
        const requestFrom = ints[r + I_REQUEST_FROM] as number;
        // As AlbLineScanner: only 5xx answers' request lines are read (the only paths counted).
        line.request =
          status >= 500 && requestFrom >= 0
            ? buf.toString('utf8', from + requestFrom, from + (ints[r + I_REQUEST_TO] as number))
            : null;
        sink.fields(line);
      }
      from += (ints[outInt + (lines - 1) * RECORD_INTS + I_END] as number) + 1;
    }
    return from;
  }

  /**
   * The string of an interned field whose id, from and to are the record's ints at `slot`: null when
   * absent, decoded once per id (or every time, when the scanner could not intern it).
   */
  private interned(table: string[], buf: Buffer, base: number, slot: number): string | null {
    const ints = this.ints;
    const id = ints[slot] as number;
    if (id === -1) return null;
    const known = id >= 0 ? table[id] : undefined;
    if (known !== undefined) return known;
    const s = buf.toString('utf8', base + (ints[slot + 1] as number), base + (ints[slot + 2] as number));
    if (id >= 0) table[id] = s;
    return s;
  }
}
