import { type FieldVisitor, type LineRef, PartialLine } from '../line-reader.js';
import {
  type CloudFrontLayout,
  MIN_FIELD_COUNT,
  parseFieldsHeader,
  STANDARD_FIELD_COUNT,
  standardLayout,
} from './fields.js';
import { CloudFrontParseError, parseCloudFrontLine } from './parse-line.js';
import type { CloudFrontLogRecord } from './record.js';
import type { CloudFrontLineFields } from './summary.js';

/** Where a line came from, for messages (`file:line`). */
export type CloudFrontLineRef = LineRef;

/**
 * Receives the entries of CloudFront objects. `fields` sees every entry inside the window as the
 * few fields the summary counts; when it returns true the line is also parsed whole and handed
 * to `record`.
 */
export type CloudFrontVisitor = FieldVisitor<CloudFrontLineFields, CloudFrontLogRecord, CloudFrontParseError>;

export interface CloudFrontReadStats {
  /** Objects read as CloudFront standard logs. */
  files: number;
  lines: number;
  malformed: number;
  outsideWindow: number;
}

export const emptyCloudFrontReadStats = (): CloudFrontReadStats => ({
  files: 0,
  lines: 0,
  malformed: 0,
  outsideWindow: 0,
});

const NEWLINE = 10;
/** Distinct values remembered per counted column (edge locations number in the hundreds). */
const MAX_SEEN = 64;
const TAB = 9;
const BLOCK = 64 * 1024;

/** Where the counted columns sit in a layout, and how far a line must be scanned. */
interface Columns {
  layout: CloudFrontLayout;
  date: number;
  time: number;
  edge: number;
  status: number;
  result: number;
  detail: number;
  /** Scan up to and including this column (the last counted one, or the last a line must have). */
  last: number;
  /** Columns a line must have (older layouts and short lines stop after cs-protocol-version). */
  min: number;
}

function columnsOf(layout: CloudFrontLayout): Columns {
  const at = (name: string) => layout.names.indexOf(name);
  const c = {
    layout,
    date: at('date'),
    time: at('time'),
    edge: at('x-edge-location'),
    status: at('sc-status'),
    result: at('x-edge-result-type'),
    detail: at('x-edge-detailed-result-type'),
    last: 0,
    min: Math.min(MIN_FIELD_COUNT, layout.names.length),
  };
  c.last = Math.max(
    c.date,
    c.time,
    c.edge,
    c.status,
    c.result,
    c.detail,
    Math.min(MIN_FIELD_COUNT, layout.names.length) - 1,
  );
  return c;
}

const STANDARD = columnsOf(standardLayout(STANDARD_FIELD_COUNT));

// Per-thread caches: the day of the last date seen (a file's lines share a few dates).
let cachedDate = '';
let cachedDayMs = Number.NaN;

function dayMs(date: string): number {
  if (date === cachedDate) return cachedDayMs;
  if (date.length !== 10 || date.charCodeAt(4) !== 45 || date.charCodeAt(7) !== 45) return Number.NaN;
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  if (
    !Number.isInteger(y) ||
    !Number.isInteger(m) ||
    !Number.isInteger(d) ||
    m < 1 ||
    m > 12 ||
    d < 1 ||
    d > 31
  )
    return Number.NaN;
  const ms = Date.UTC(y, m - 1, d);
  if (new Date(ms).getUTCDate() !== d || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return Number.NaN;
  cachedDate = date;
  cachedDayMs = ms;
  return ms;
}

const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -100;
};

/** Seconds into the day of `HH:MM:SS` at `from..to` of `s`, or -1. */
function secondsOfDay(s: string, from: number, to: number): number {
  if (to - from !== 8 || s.charCodeAt(from + 2) !== 58 || s.charCodeAt(from + 5) !== 58) return -1;
  const h = digit(s, from) * 10 + digit(s, from + 1);
  const m = digit(s, from + 3) * 10 + digit(s, from + 4);
  const sec = digit(s, from + 6) * 10 + digit(s, from + 7);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60) return -1;
  return (h * 60 + m) * 60 + sec;
}

/**
 * Reads one CloudFront object's bytes (already inflated): splits lines, follows its `#Fields:`
 * header, and hands each entry's counted fields to the visitor. Splits on TAB only. A line the
 * scan rejects is parsed in full for its error message.
 */
export class CloudFrontObjectReader {
  lineNo = 0;
  private readonly partial = new PartialLine();
  private readonly onText = (text: string) => this.text(text);
  private columns: Columns = STANDARD;
  private readonly f: CloudFrontLineFields = {
    timeMs: 0,
    status: null,
    edgeLocation: null,
    resultType: null,
    detailedResultType: null,
  };
  // Column bounds of the line being scanned, reused.
  private readonly starts = new Int32Array(64);
  private readonly ends = new Int32Array(64);
  private readonly seenEdges: string[] = [];
  private readonly seenResults: string[] = [];
  private readonly seenDetails: string[] = [];

  constructor(
    private readonly source: string,
    private readonly visitor: CloudFrontVisitor,
    private readonly stats: CloudFrontReadStats,
    private readonly sinceMs = Number.NEGATIVE_INFINITY,
    private readonly untilMs = Number.POSITIVE_INFINITY,
  ) {
    stats.files++;
  }

  /** Reads the whole lines of `buf`; a trailing partial line waits for the next push or `end`. */
  push(buf: Buffer): void {
    let start = this.partial.complete(buf, this.onText);
    if (start < 0) return;
    const n = buf.length;
    while (start < n) {
      let end = n - start <= BLOCK ? n : buf.lastIndexOf(NEWLINE, start + BLOCK - 1) + 1;
      if (end <= start) end = buf.indexOf(NEWLINE, start + BLOCK) + 1;
      if (end === n) end = buf.lastIndexOf(NEWLINE) + 1;
      if (end <= start) break;
      this.text(buf.toString('utf8', start, end));
      start = end;
    }
    this.partial.keep(buf, start);
  }

  /** The last line, when the object does not end with a newline. */
  end(): void {
    const rest = this.partial.take();
    if (rest !== undefined) this.text(rest);
  }

  private text(text: string): void {
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
    if (to > from && text.charCodeAt(to - 1) === 13) to--;
    if (to === from) return;
    if (text.charCodeAt(from) === 35 /* # */) {
      const layout = parseFieldsHeader(text.slice(from, to));
      if (layout)
        this.columns =
          layout.standard && layout.names.length >= STANDARD_FIELD_COUNT ? STANDARD : columnsOf(layout);
      return; // #Version and other W3C directives carry no entry
    }
    const c = this.columns;
    const starts = this.starts;
    const ends = this.ends;
    const last = Math.min(c.last, starts.length - 1);
    let col = 0;
    let p = from;
    for (;;) {
      let tab = text.indexOf('\t', p);
      if (tab < 0 || tab > to) tab = to;
      starts[col] = p;
      ends[col] = tab;
      if (tab === p) {
        this.reject(text, from, to);
        return;
      }
      if (col === last || tab === to) break;
      col++;
      p = tab + 1;
    }
    if (col + 1 < c.min || c.date > col || c.time > col || c.status > col || c.date < 0 || c.time < 0) {
      this.reject(text, from, to);
      return;
    }
    const d0 = starts[c.date] as number;
    const day =
      cachedDate.length === 10 && ends[c.date] === d0 + 10 && text.startsWith(cachedDate, d0)
        ? cachedDayMs
        : dayMs(text.slice(d0, ends[c.date] as number));
    const sec = secondsOfDay(text, starts[c.time] as number, ends[c.time] as number);
    if (Number.isNaN(day) || sec < 0) {
      this.reject(text, from, to);
      return;
    }
    let status: number | null = null;
    const s0 = c.status < 0 ? 0 : (starts[c.status] as number);
    const s1 = c.status < 0 ? 0 : (ends[c.status] as number);
    if (c.status < 0) {
      // A layout without sc-status: nothing to count by status.
    } else if (s1 - s0 === 3) {
      const v = digit(text, s0) * 100 + digit(text, s0 + 1) * 10 + digit(text, s0 + 2);
      if (v < 0) {
        this.reject(text, from, to);
        return;
      }
      status = v;
    } else if (!(s1 - s0 === 1 && text.charCodeAt(s0) === 45)) {
      this.reject(text, from, to);
      return;
    }
    const stats = this.stats;
    stats.lines++;
    const timeMs = day + sec * 1000;
    if (timeMs < this.sinceMs || timeMs >= this.untilMs) {
      stats.outsideWindow++;
      return;
    }
    const f = this.f;
    f.timeMs = timeMs;
    f.status = status;
    f.edgeLocation = c.edge < 0 || c.edge > col ? null : this.cell(text, c.edge, this.seenEdges);
    f.resultType = c.result < 0 || c.result > col ? null : this.cell(text, c.result, this.seenResults);
    f.detailedResultType =
      c.detail < 0 || c.detail > col ? null : this.cell(text, c.detail, this.seenDetails);
    if (this.visitor.fields(f) === true && this.visitor.record) {
      let record: CloudFrontLogRecord;
      try {
        record = parseCloudFrontLine(text.slice(from, to), c.layout);
      } catch (error) {
        // The scan reads only the counted columns; the parser checks them all.
        this.visitor.malformed?.(
          error as CloudFrontParseError,
          { source: this.source, line: this.lineNo },
          text.slice(from, to),
        );
        return;
      }
      this.visitor.record(record, { source: this.source, line: this.lineNo });
    }
  }

  /**
   * A cell's text; `-` (absent) as null. Counted columns hold a few distinct values (edge
   * locations, result types): the same string object is handed out for the same text, so that
   * counting by it does not slice and hash a new string per line.
   */
  private cell(text: string, col: number, seen: string[]): string | null {
    const a = this.starts[col] as number;
    const b = this.ends[col] as number;
    const n = b - a;
    if (n === 1 && text.charCodeAt(a) === 45) return null;
    for (let i = 0; i < seen.length; i++) {
      const s = seen[i] as string;
      if (s.length === n && text.startsWith(s, a)) return s;
    }
    // A copy that does not keep the 64 KiB block alive.
    const value = ` ${text.slice(a, b)}`.slice(1);
    if (seen.length < MAX_SEEN) seen.push(value);
    return value;
  }

  private reject(text: string, from: number, to: number): void {
    const line = text.slice(from, to);
    this.stats.malformed++;
    let error: CloudFrontParseError;
    try {
      parseCloudFrontLine(line, this.columns.layout);
      error = new CloudFrontParseError('line', 0, 'expected a CloudFront standard-log entry');
    } catch (e) {
      error =
        e instanceof CloudFrontParseError
          ? e
          : new CloudFrontParseError('line', 0, 'expected a CloudFront standard-log entry');
    }
    this.visitor.malformed?.(error, { source: this.source, line: this.lineNo }, line);
  }
}

/** The format of an object from its first bytes (inflated, BOM removed): undefined until a line is seen. */
export function detectLogFormat(head: Buffer): 'alb' | 'cloudfront' | undefined {
  const nl = head.indexOf(NEWLINE);
  const first = head.toString('latin1', 0, nl < 0 ? Math.min(head.length, 256) : Math.min(nl, 256));
  if (first.startsWith('#Version:') || first.startsWith('#Fields:')) return 'cloudfront';
  if (/^\d{4}-\d{2}-\d{2}\t\d{2}:\d{2}:\d{2}\t/.test(first)) return 'cloudfront';
  if (nl < 0 && head.length < 20) return undefined;
  return 'alb';
}

export { TAB as CLOUDFRONT_SEPARATOR };
