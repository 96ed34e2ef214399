/** Local files, and directories read recursively; plain or gzip (the reader tells them apart). */
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatOf, type LogWindow } from '../formats.js';
import { release } from '../read-bytes.js';
import { describeFailure, type LogObject, type LogSource, type OpenedLog } from './source.js';

/** Files up to this size are read whole (and, when gzip, inflated in one call: read-bytes.ts). */
const WHOLE_FILE_MAX = 16 * 1024 * 1024;
/** Read size of a streamed file. */
const STREAM_CHUNK = 256 * 1024;

/**
 * A file read whole, if it has at most `max` bytes, into memory of its own (never Node's shared
 * buffer pool, so that `release` may free it). Null when larger (it may have grown since stat).
 */
async function readWhole(handle: FileHandle, max: number): Promise<Buffer | null> {
  const size = (await handle.stat()).size;
  if (size > max) return null;
  const buf = Buffer.allocUnsafeSlow(size + 1);
  let got = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
    if (got > size) {
      release(buf.buffer);
      return null;
    }
  }
  return buf.subarray(0, got);
}

/**
 * Files under a path (itself when it is a file), in name order. In a directory, a file named as
 * AWS delivers a format is listed outside the window when its name says so, and other files are
 * taken only by a log's extension (a directory may hold READMEs and manifests).
 */
export async function* listLocalFiles(path: string, window: LogWindow): AsyncGenerator<LogObject> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    yield { name: path, size: info.size, lastModified: info.mtime };
    return;
  }
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files: LogObject[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    const mayOverlap = formatOf({ name: e.name }).nameMayOverlap(e.name, window);
    if (mayOverlap === false) files.push({ name: full, outsideWindow: true });
    else if (mayOverlap === true || /\.(log|gz|txt)$/i.test(e.name)) files.push({ name: full });
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  yield* files;
}

export class LocalLogSource implements LogSource {
  readonly concurrency = 1;

  constructor(readonly describe: string) {}

  list(window: LogWindow): AsyncIterable<LogObject> {
    return listLocalFiles(this.describe, window);
  }

  async open(object: LogObject): Promise<OpenedLog> {
    // Opening first turns a missing or unreadable file into a named error before reading.
    const handle = await open(object.name, 'r');
    let bytes: Buffer | null;
    try {
      bytes = await readWhole(handle, WHOLE_FILE_MAX);
    } catch (error) {
      await handle.close();
      throw error;
    }
    let streamed = false;
    return {
      bytes,
      stream: () => {
        streamed = true;
        // The stream closes the file when it ends.
        return createReadStream('', { fd: handle, start: 0, highWaterMark: STREAM_CHUNK });
      },
      close: async () => {
        if (!streamed) await handle.close();
      },
    };
  }

  failureMessage(error: unknown, object?: LogObject): string {
    return describeFailure(object?.name ?? this.describe, error);
  }

  close(): void {}
}
