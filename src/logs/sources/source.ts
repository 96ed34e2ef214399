/**
 * The log-source seam: where log objects come from, apart from how their lines are read. A source
 * lists the objects that may hold entries in a window and opens each as bytes; the reader
 * (../sources.ts) decodes them (gzip) and hands them to each object's format (../formats.ts).
 * Local files and directories, stdin and S3 implement it (one file each, beside this one); every
 * implementation passes the one contract suite (test/logs/sources/contract.test.ts).
 */
import type { Readable } from 'node:stream';
import { ThrottlescopeError } from '../../common/errors.js';
import type { LogFormatName, LogWindow } from '../formats.js';

export type { LogWindow } from '../formats.js';

/** One object of a source: a file, stdin, an S3 object. */
export interface LogObject {
  /** The object in messages and progress: a path, `stdin`, `s3://bucket/key`. */
  name: string;
  /** Bytes as stored (compressed for gzip), when the listing says. */
  size?: number | undefined;
  lastModified?: Date | undefined;
  /** Its format, when the source knows it; otherwise told from its name (formatOf). */
  format?: LogFormatName | undefined;
  /**
   * True when its name alone shows it holds no entry in the window: listed so that it is counted
   * (ReadStats.skippedFiles), never opened.
   */
  outsideWindow?: boolean | undefined;
}

/** An opened object's bytes, as stored (gzip is decoded by the reader). */
export interface OpenedLog {
  /** All the bytes, when the source read them at once (small local files): the fast path. */
  bytes: Buffer | null;
  /**
   * The bytes as a stream, from the start; called at most once, and then the stream owns what
   * `close` would release. Also for an object read whole, when it cannot be read whole after all
   * (inflates too large, or damaged: the stream keeps the lines before the damage).
   */
  stream(): Readable;
  /** Releases the object when `stream` was not called. */
  close(): Promise<void>;
}

export interface LogSource<O extends LogObject = LogObject> {
  /** The source as the user named it (`logs/`, `-`, `s3://bucket/prefix`), for messages. */
  readonly describe: string;
  /** Objects opened at once while reading (S3 downloads in parallel; local files one by one). */
  readonly concurrency: number;
  /**
   * What progress names while this source is read: the source as a whole (S3: many objects in
   * flight, reported once listed and after each object), or, when absent, each object as it is
   * finished.
   */
  readonly progressName?: string | undefined;
  /**
   * The objects that may hold entries in the window, in a stable order; those whose name puts
   * them outside it are listed with `outsideWindow`. Rejects, naming the source, when the source
   * itself cannot be read (no such directory, no such bucket, no credentials).
   */
  list(window: LogWindow, signal?: AbortSignal): AsyncIterable<O>;
  /** Opens one listed object; rejects naming it when it cannot be read. */
  open(object: O, signal?: AbortSignal): Promise<OpenedLog>;
  /**
   * The one-line message, naming what failed, for an error of `list` (no object) or of reading
   * `object` (opening it, or its bytes).
   */
  failureMessage(error: unknown, object?: O): string;
  /** Releases what the source holds (an AWS client); the source is not used after. */
  close(): void;
}

/** A failure as one line naming `name`: file-system errors said in words, others by their message. */
export function describeFailure(name: string, error: unknown): string {
  if (error instanceof ThrottlescopeError) return error.message;
  const code = (error as { code?: string }).code;
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : error instanceof Error
            ? error.message
            : String(error);
  return `${name}: ${why}`;
}
