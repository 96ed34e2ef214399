/**
 * Log formats: how one object's lines are read, and what its name says about its time. Chosen per
 * object (sources list objects, the format of each is told from its name or said by its source),
 * so a source may hand over objects of more than one format. ALB access logs are the only format
 * so far; CloudFront standard logs are the next (their own scanner and key layout).
 */
import { LineReader, type LineReaderTarget } from './line-reader.js';
import { keyMayOverlap, parseAlbLogKey } from './s3-key.js';

export type LogFormatName = 'alb';

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

const FORMATS: Record<LogFormatName, LogFormat> = { alb: albFormat };

/** The format an object is in: the one its source says, else the one its name says (ALB, so far). */
export function formatOf(object: { name: string; format?: LogFormatName | undefined }): LogFormat {
  return object.format === undefined ? albFormat : FORMATS[object.format];
}
