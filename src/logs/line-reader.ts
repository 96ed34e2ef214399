/**
 * The ALB line reader: bytes in, one visitor call per line out. Pure of I/O: sources open bytes
 * (sources/), byte-stream decoding (gzip, BOM) is read-bytes.ts, and this splits the decoded
 * bytes into lines and hands each to the visitor, parsed, or for aggregation scanned in place by
 * the WebAssembly scanner when it is built and by the JavaScript scanner otherwise.
 */
import { type AlbParseError, parseAlbLine } from './parse-line.js';
import type { AlbLogRecord } from './record.js';
import { type AlbLineFields, AlbLineScanner } from './scan-line.js';
import { WasmBlockScanner, type WasmLineFields, type WasmLineSink } from './wasm-scanner.js';

/** Where a line came from, for messages (`file:line`). */
export interface LineRef {
  source: string;
  line: number;
}

export interface LogVisitor {
  record(record: AlbLogRecord, ref: LineRef): void;
  malformed?(error: AlbParseError, ref: LineRef, text: string): void;
}

/**
 * For aggregation: each entry as the few fields aggregation reads, in one reused object, valid
 * only during the call. Lines are accepted and rejected as `record` would. When `fields` returns
 * true, that entry is also parsed into a full record and handed to `record`: the few entries a
 * caller wants whole cost a parse, the rest only a scan. (ALB and CloudFront readers alike.)
 */
export interface FieldVisitor<Fields, LogRecord, ParseError> {
  // biome-ignore lint/suspicious/noConfusingVoidType: a visitor that only counts returns nothing
  fields(fields: Fields): boolean | void;
  record?(record: LogRecord, ref: LineRef): void;
  malformed?(error: ParseError, ref: LineRef, text: string): void;
}

/** The ALB reader's field visitor: the fields `scanAlbLine` reads. */
export type LogFieldVisitor = FieldVisitor<AlbLineFields, AlbLogRecord, AlbParseError>;

/** The counts a line reader keeps (ReadStats holds them, with the counts of files). */
export interface LineCounts {
  lines: number;
  malformed: number;
  /** Entries parsed but outside --since/--until. */
  outsideWindow: number;
}

/** What a line reader reads for (ReadOptions holds these, among others). */
export interface LineReaderOptions {
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Aggregation reads lines with the WebAssembly scanner when it is built (`'auto'`); `'js'` reads
   * them with the JavaScript scanner only (for tests and benchmarks that compare the two).
   */
  scanner?: 'auto' | 'js' | undefined;
  /** `auto` (the default): each object's format from its source, name or first line; `alb` or `cloudfront` force one. */
  format?: 'auto' | 'alb' | 'cloudfront' | undefined;
  /** Reads the objects that are CloudFront standard logs (one reader per object); without it they are read as ALB. */
  cloudfront?:
    | { open(source: string): { readonly lineNo: number; push(bytes: Buffer): void; end(): void } }
    | undefined;
}

/** Where a line reader's lines go: the visitor, and the counts of every reader of one read. */
export interface LineReaderTarget {
  stats: LineCounts;
  visitor: LogVisitor | LogFieldVisitor;
  options: LineReaderOptions;
}

const NEWLINE = 10;

/**
 * The end of a chunk that stops mid-line, kept (copied: the caller may reuse its buffer) until the
 * next chunk completes it or the input ends. Shared by the ALB and CloudFront readers.
 */
export class PartialLine {
  private parts: Buffer[] = [];

  /**
   * With a line pending, completes it from the head of `buf` and hands it to `line`; returns where
   * `buf`'s own lines start, or -1 when `buf` holds no newline (all of it was kept).
   */
  complete(buf: Buffer, line: (text: string) => void): number {
    if (this.parts.length === 0) return 0;
    const nl = buf.indexOf(NEWLINE);
    if (nl < 0) {
      this.parts.push(Buffer.from(buf));
      return -1;
    }
    this.parts.push(buf.subarray(0, nl + 1));
    const text = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    line(text);
    return nl + 1;
  }

  /** Keeps `buf` from `start` on, when it does not end with a newline. */
  keep(buf: Buffer, start: number): void {
    if (start < buf.length) this.parts.push(Buffer.from(buf.subarray(start)));
  }

  /** The pending text at the end of the input, if any. */
  take(): string | undefined {
    if (this.parts.length === 0) return undefined;
    const text = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    return text;
  }
}
/**
 * Bytes decoded into one string at a time: big enough to amortise calls, small enough for V8's
 * young generation. Records are slices of it (and callers may keep records): smaller blocks then.
 */
const SCAN_BLOCK = 64 * 1024;
const RECORD_BLOCK = 16 * 1024;

// One WebAssembly scanner per thread (module state is per thread), made on first use.
let wasmScanner: WasmBlockScanner | null | undefined;
function threadWasmScanner(): WasmBlockScanner | null {
  if (wasmScanner === undefined) wasmScanner = WasmBlockScanner.create();
  return wasmScanner;
}

/**
 * Splits bytes into lines and hands each to the visitor, parsed (or, for a field visitor, scanned
 * in place). Bytes are decoded as UTF-8 a block of whole lines at a time: a newline byte never
 * occurs inside a multi-byte character, so the text is the same as decoding the whole stream.
 * A field visitor's whole lines are read from the bytes by the WebAssembly scanner when it is
 * built; the lines it hands back are decoded and scanned here.
 */
export class LineReader implements WasmLineSink {
  lineNo = 0;
  /** The bytes of an unfinished line, in pieces (joined once its newline arrives). */
  private readonly partial = new PartialLine();
  private readonly onText = (text: string) => this.text(text);
  private readonly scanner: AlbLineScanner | null;
  private readonly fieldVisitor: LogFieldVisitor | null;
  private readonly sinceMs: number;
  private readonly untilMs: number;
  private readonly block: number;
  private readonly wasm: WasmBlockScanner | null;

  constructor(
    private readonly source: string,
    private readonly ctx: LineReaderTarget,
  ) {
    this.fieldVisitor = 'fields' in ctx.visitor ? ctx.visitor : null;
    this.scanner = this.fieldVisitor === null ? null : new AlbLineScanner();
    this.block = this.scanner === null ? RECORD_BLOCK : SCAN_BLOCK;
    this.sinceMs = ctx.options.sinceMs ?? Number.NEGATIVE_INFINITY;
    this.untilMs = ctx.options.untilMs ?? Number.POSITIVE_INFINITY;
    this.wasm = this.fieldVisitor !== null && ctx.options.scanner !== 'js' ? threadWasmScanner() : null;
  }

  /** WasmLineSink: a line the WebAssembly scanner read. */
  fields(fields: WasmLineFields): void {
    this.lineNo++;
    if (this.scanned(fields)) this.wholeRecord(fields.lineText());
  }

  /**
   * Counts a line either scanner accepted and hands its fields to the visitor (inside the window);
   * true when the visitor asks for its whole record.
   */
  private scanned(fields: AlbLineFields): boolean {
    const stats = this.ctx.stats;
    stats.lines++;
    if (fields.timeMs < this.sinceMs || fields.timeMs >= this.untilMs) {
      stats.outsideWindow++;
      return false;
    }
    return (this.fieldVisitor as LogFieldVisitor).fields(fields) === true;
  }

  /** The record of a line a scanner accepted (so the parser accepts it too), for the visitor that asked for it. */
  private wholeRecord(line: string): void {
    (this.fieldVisitor as LogFieldVisitor).record?.(parseAlbLine(line), {
      source: this.source,
      line: this.lineNo,
    });
  }

  /** WasmLineSink: an empty line. */
  empty(): void {
    this.lineNo++;
  }

  /** WasmLineSink: a line the WebAssembly scanner left to this one (unusual shapes, and errors). */
  other(buf: Buffer, from: number, to: number): void {
    this.text(buf.toString('utf8', from, to));
  }

  /** Reads the whole lines of `buf`; a trailing partial line waits for the next push or `end`. */
  push(buf: Buffer): void {
    let start = this.partial.complete(buf, this.onText);
    if (start < 0) return;
    const n = buf.length;
    const block = this.block;
    const wasm = this.wasm;
    if (wasm !== null) {
      const end = buf.lastIndexOf(NEWLINE) + 1;
      while (start < end) {
        start = wasm.read(buf, start, end, this);
        if (start < end) {
          // A line longer than the scanner's block.
          const nl = buf.indexOf(NEWLINE, start) + 1;
          this.text(buf.toString('utf8', start, nl));
          start = nl;
        }
        if (this.ctx.options.signal?.aborted) return;
      }
    }
    while (start < n) {
      let end: number;
      if (n - start <= block) {
        end = buf.lastIndexOf(NEWLINE) + 1;
        if (end <= start) break;
      } else {
        end = buf.lastIndexOf(NEWLINE, start + block - 1) + 1;
        if (end <= start) {
          end = buf.indexOf(NEWLINE, start + block) + 1;
          if (end === 0) break;
        }
      }
      this.text(buf.toString('utf8', start, end));
      start = end;
      if (this.ctx.options.signal?.aborted) return;
    }
    this.partial.keep(buf, start);
  }

  /** The last line, when the input does not end with a newline. */
  end(): void {
    const rest = this.partial.take();
    if (rest !== undefined) this.text(rest);
  }

  /** The lines of `text`: whole lines, each ending with a newline except the last line of an input. */
  private text(text: string): void {
    this.scanner?.setText(text);
    let p = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.line(text, p, nl);
      p = nl + 1;
      nl = text.indexOf('\n', p);
    }
    if (p < text.length) this.line(text, p, text.length);
  }

  private line(text: string, from: number, to: number): void {
    this.lineNo++;
    const len = to - from;
    if (len === 0 || (len === 1 && text.charCodeAt(from) === 13)) return;
    const stats = this.ctx.stats;
    const scanner = this.scanner;
    const fieldVisitor = this.fieldVisitor;
    if (scanner !== null && fieldVisitor !== null) {
      try {
        scanner.scan(from, to);
      } catch (error) {
        stats.malformed++;
        fieldVisitor.malformed?.(
          error as AlbParseError,
          { source: this.source, line: this.lineNo },
          text.slice(from, to),
        );
        return;
      }
      if (this.scanned(scanner)) this.wholeRecord(text.slice(from, to));
      return;
    }
    const visitor = this.ctx.visitor as LogVisitor;
    const line = from === 0 && to === text.length ? text : text.slice(from, to);
    let record: AlbLogRecord;
    try {
      record = parseAlbLine(line);
    } catch (error) {
      stats.malformed++;
      visitor.malformed?.(error as AlbParseError, { source: this.source, line: this.lineNo }, line);
      return;
    }
    stats.lines++;
    if (record.timeMs < this.sinceMs || record.timeMs >= this.untilMs) {
      stats.outsideWindow++;
      return;
    }
    visitor.record(record, { source: this.source, line: this.lineNo });
  }
}
