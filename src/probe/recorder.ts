/**
 * Streams a run to --out DIR: requests.jsonl (one line per completed request), failures.har (HAR
 * 1.2, failing exchanges only), run.json (what was run) and summary.json (written at the end).
 * Lines are batched and written with backpressure: when the disk falls behind, `congested` turns
 * true and callers wait on `drained()`; memory stays flat however long the run. `close()` flushes
 * everything (also after Ctrl-C). A write failure (full disk, permissions) is reported at once,
 * naming the file.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeCause, ThrottlescopeError } from '../common/errors.js';
import { HAR_CREATOR, type HarEntry } from './har.js';
import { type ProbeRecord, RecordBytesEncoder } from './record.js';

export const FILES = {
  requests: 'requests.jsonl',
  failures: 'failures.har',
  run: 'run.json',
  summary: 'summary.json',
} as const;

/** Batch size before a write; also flushed every FLUSH_INTERVAL_MS. */
const BATCH_BYTES = 64 * 1024;
/** A batch of records plus room for the line that crosses BATCH_BYTES. */
const RECORD_BUFFER_BYTES = BATCH_BYTES + 16 * 1024;
/** Written buffers kept for reuse. */
const SPARE_BUFFERS = 4;
const FLUSH_INTERVAL_MS = 250;
/** Beyond this many bytes queued in a stream, producers should wait. */
const HIGH_WATER = 8 * 1024 * 1024;

export class OutputError extends ThrottlescopeError {
  constructor(message: string, cause?: unknown) {
    super('TS_PROBE_OUTPUT', message, { cause });
    this.name = 'OutputError';
  }
}

class LineSink {
  private batch: string[] = [];
  private batchBytes = 0;
  error: OutputError | undefined;

  constructor(
    readonly stream: WriteStream,
    readonly path: string,
    onError: (e: OutputError) => void,
  ) {
    stream.on('error', (cause) => {
      if (!this.error) {
        this.error = new OutputError(`--out: cannot write ${path}: ${describeCause(cause)}`, cause);
        onError(this.error);
      }
    });
  }

  push(text: string): void {
    this.batch.push(text);
    this.batchBytes += text.length;
    if (this.batchBytes >= BATCH_BYTES) this.flush();
  }

  flush(): void {
    if (this.batch.length === 0 || this.error) return;
    const chunk = this.batch.join('');
    this.batch = [];
    this.batchBytes = 0;
    this.stream.write(chunk);
  }

  /** Bytes written behind the batch (in order); `written` once the file has them. */
  writeBytes(bytes: Buffer, written?: () => void): void {
    this.flush();
    if (this.error) return;
    this.stream.write(bytes, written);
  }

  get queued(): number {
    return this.stream.writableLength + this.batchBytes;
  }

  async end(tail = ''): Promise<void> {
    if (tail) this.push(tail);
    this.flush();
    if (this.stream.destroyed || this.error) return;
    this.stream.end();
    try {
      await once(this.stream, 'finish');
    } catch {
      // The 'error' listener has recorded it.
    }
  }
}

/**
 * requests.jsonl: lines encoded straight into a buffer (RecordBytesEncoder), written when it holds
 * BATCH_BYTES. A written buffer comes back for reuse once the file has it, so a long run writes
 * from a handful of buffers.
 */
class RecordSink {
  private buf: Buffer;
  private pos = 0;
  private readonly spare: Buffer[] = [];
  private readonly encoder = new RecordBytesEncoder();

  constructor(readonly lines: LineSink) {
    this.buf = Buffer.allocUnsafeSlow(RECORD_BUFFER_BYTES);
  }

  write(record: ProbeRecord): void {
    let end = this.encoder.encodeInto(record, this.buf, this.pos);
    if (end < 0) {
      this.flush();
      end = this.encoder.encodeInto(record, this.buf, 0);
      // Longer than a whole buffer (a URL of tens of kilobytes): written on its own.
      if (end < 0) {
        const own = Buffer.allocUnsafe(RecordBytesEncoder.maxBytes(record));
        this.lines.writeBytes(own.subarray(0, this.encoder.encodeInto(record, own, 0)));
        return;
      }
    }
    this.pos = end;
    if (this.pos >= BATCH_BYTES) this.flush();
  }

  flush(): void {
    if (this.pos === 0 || this.lines.error) return;
    const full = this.buf;
    const bytes = this.pos;
    this.buf = this.spare.pop() ?? Buffer.allocUnsafeSlow(RECORD_BUFFER_BYTES);
    this.pos = 0;
    this.lines.writeBytes(full.subarray(0, bytes), () => {
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(full);
    });
  }

  get queued(): number {
    return this.lines.queued + this.pos;
  }

  async end(): Promise<void> {
    this.flush();
    await this.lines.end();
  }
}

async function openStream(path: string, onError: (e: OutputError) => void): Promise<LineSink> {
  const stream = createWriteStream(path, { flags: 'w' });
  try {
    await once(stream, 'open');
  } catch (cause) {
    throw new OutputError(`--out: cannot create ${path}: ${describeCause(cause)}`, cause);
  }
  return new LineSink(stream, path, onError);
}

/**
 * mkdir -p that always settles (Node's recursive mkdir can spin forever on some paths, e.g. under
 * /proc): each level is tried once.
 */
async function makeDir(dir: string, depth = 0): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST') {
      if (!(await stat(dir)).isDirectory()) throw error;
      return;
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || depth > 64) throw error;
    await makeDir(parent, depth + 1);
    await mkdir(dir);
  }
}

export class Recorder {
  private readonly sinks: LineSink[];
  private harEntries = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set on the first write failure. */
  error: OutputError | undefined;
  records = 0;
  private readonly requests: RecordSink;

  private constructor(
    readonly dir: string,
    requests: LineSink,
    private readonly har: LineSink,
  ) {
    this.requests = new RecordSink(requests);
    this.sinks = [requests, har];
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Creates DIR (and parents) and the files; fails at once if it cannot. */
  static async open(
    dir: string,
    run: unknown,
    onError: (e: OutputError) => void = () => {},
  ): Promise<Recorder> {
    try {
      await makeDir(dir);
      await writeFile(join(dir, FILES.run), `${JSON.stringify(run, null, 2)}\n`);
    } catch (cause) {
      throw new OutputError(`--out: cannot write to ${dir}: ${describeCause(cause)}`, cause);
    }
    let failed: OutputError | undefined;
    let recorder: Recorder | undefined;
    const report = (e: OutputError) => {
      failed ??= e;
      if (recorder) {
        recorder.error ??= e;
        onError(e);
      }
    };
    const requests = await openStream(join(dir, FILES.requests), report);
    let har: LineSink;
    try {
      har = await openStream(join(dir, FILES.failures), report);
    } catch (error) {
      requests.stream.destroy();
      throw error;
    }
    recorder = new Recorder(dir, requests, har);
    if (failed) recorder.error = failed;
    har.push(`{"log":{"version":"1.2","creator":${JSON.stringify(HAR_CREATOR)},"entries":[\n`);
    return recorder;
  }

  write(record: ProbeRecord): void {
    if (this.closed) return;
    this.records++;
    this.requests.write(record);
  }

  writeFailure(entry: HarEntry): void {
    if (this.closed) return;
    this.har.push(`${this.harEntries === 0 ? '' : ',\n'}${JSON.stringify(entry)}`);
    this.harEntries++;
  }

  get failuresWritten(): number {
    return this.harEntries;
  }

  /** True when the disk is behind: producers should `await drained()` before sending more. */
  get congested(): boolean {
    return this.requests.queued > HIGH_WATER || this.har.queued > HIGH_WATER;
  }

  async drained(): Promise<void> {
    this.flush();
    for (const s of this.sinks) {
      while (!this.error && s.stream.writableNeedDrain) await once(s.stream, 'drain');
    }
  }

  flush(): void {
    this.requests.flush();
    this.har.flush();
  }

  /** Flushes and closes every file; writes summary.json and the final run.json. Idempotent. */
  async close(final?: { run?: unknown; summary?: unknown }): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.requests.end();
    await this.har.end(`${this.harEntries === 0 ? '' : '\n'}]}}\n`);
    if (this.error) throw this.error;
    try {
      if (final?.run !== undefined) {
        await writeFile(join(this.dir, FILES.run), `${JSON.stringify(final.run, null, 2)}\n`);
      }
      if (final?.summary !== undefined) {
        await writeFile(join(this.dir, FILES.summary), `${JSON.stringify(final.summary, null, 2)}\n`);
      }
    } catch (cause) {
      throw new OutputError(`--out: cannot write to ${this.dir}: ${describeCause(cause)}`, cause);
    }
  }

  /** Abandons the files after a failure (closes handles without waiting). */
  destroy(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.sinks) s.stream.destroy();
  }
}
