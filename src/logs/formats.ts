/**
 * Log formats: how one object's lines are read, and what its name says about its time. Chosen per
 * object (sources list objects, the format of each is told from its name or said by its source),
 * so a source may hand over objects of more than one format: ALB access logs and CloudFront
 * standard logs. An object named as neither names its files is told by its first line.
 */
import { detectLogFormat } from './cloudfront/reader.js';
import { cloudFrontKeyMayOverlap, parseCloudFrontLogKey } from './cloudfront/s3-key.js';
import { LineReader, type LineReaderTarget } from './line-reader.js';
import { keyMayOverlap, parseAlbLogKey } from './s3-key.js';

export type LogFormatName = 'alb' | 'cloudfront';

/** A time window: entries at sinceMs and after, before untilMs; either end open when undefined. */
export interface LogWindow {
  sinceMs?: number | undefined;
  untilMs?: number | undefined;
}

/** A reader of one object's decoded bytes, pushed in order. */
export interface LogLineSink {
  /** Lines read so far (for messages about where reading stopped). */
  readonly lineNo: number;
  push(bytes: Buffer): void;
  /** The last line, when the bytes do not end with a newline. */
  end(): void;
}

export interface LogFormat {
  readonly name: LogFormatName;
  /**
   * Whether an object of this name may hold entries in the window, judged on the name alone as
   * AWS delivers this format; undefined when the name is not in that layout (then it is read).
   */
  nameMayOverlap(name: string, window: LogWindow): boolean | undefined;
  /** A reader of one object's lines, feeding `target`; `source` names the object in messages. */
  lineReader(source: string, target: LineReaderTarget): LogLineSink;
}

export const albFormat: LogFormat = {
  name: 'alb',
  nameMayOverlap(name, window) {
    const key = parseAlbLogKey(name);
    return key === undefined ? undefined : keyMayOverlap(key.endMs, window.sinceMs, window.untilMs);
  },
  lineReader: (source, target) => new LineReader(source, target),
};

/**
 * CloudFront standard logs: the lines go to `target.options.cloudfront` (the caller's counts);
 * a read without that hook reads them as ALB lines (all malformed), as before CloudFront.
 */
export const cloudFrontFormat: LogFormat = {
  name: 'cloudfront',
  nameMayOverlap(name, window) {
    const key = parseCloudFrontLogKey(name);
    return key === undefined
      ? undefined
      : cloudFrontKeyMayOverlap(key.hourMs, window.sinceMs, window.untilMs);
  },
  lineReader: (source, target) => target.options.cloudfront?.open(source) ?? new LineReader(source, target),
};

const FORMATS: Record<LogFormatName, LogFormat> = { alb: albFormat, cloudfront: cloudFrontFormat };

/**
 * An object whose format neither its source nor its name says: its first line tells (a
 * `#Version`/`#Fields` header or a `date<TAB>time<TAB>` entry is CloudFront, anything else ALB).
 */
class DetectingLineSink implements LogLineSink {
  private head: Buffer | null = null;
  private reader: LogLineSink | null = null;

  constructor(
    private readonly source: string,
    private readonly target: LineReaderTarget,
  ) {}

  get lineNo(): number {
    return this.reader?.lineNo ?? 0;
  }

  push(bytes: Buffer): void {
    if (this.reader === null) {
      const head = this.head === null ? bytes : Buffer.concat([this.head, bytes]);
      const name = detectLogFormat(head);
      if (name === undefined) {
        // Copied: the caller may reuse its buffer.
        this.head = Buffer.from(head);
        return;
      }
      this.head = null;
      this.reader = FORMATS[name].lineReader(this.source, this.target);
      bytes = head;
    }
    this.reader.push(bytes);
  }

  end(): void {
    if (this.reader === null) {
      if (this.head === null) return;
      this.reader = albFormat.lineReader(this.source, this.target);
      this.reader.push(this.head);
      this.head = null;
    }
    this.reader.end();
  }
}

const detectedFormat: LogFormat = {
  name: 'alb',
  nameMayOverlap: () => undefined,
  lineReader: (source, target) =>
    target.options.cloudfront === undefined
      ? new LineReader(source, target)
      : new DetectingLineSink(source, target),
};

/**
 * The format an object is in: the one the read forces (`--format`), else the one its source
 * says, else the one its name says (AWS's key layouts), else the one its first line shows.
 */
export function formatOf(
  object: { name: string; format?: LogFormatName | undefined },
  forced?: LogFormatName | 'auto' | undefined,
): LogFormat {
  if (forced !== undefined && forced !== 'auto') return FORMATS[forced];
  if (object.format !== undefined) return FORMATS[object.format];
  const slash = object.name.lastIndexOf('/');
  const base = object.name.slice(slash + 1);
  if (parseAlbLogKey(base)) return albFormat;
  if (parseCloudFrontLogKey(base)) return cloudFrontFormat;
  return detectedFormat;
}
