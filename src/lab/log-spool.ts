/**
 * Where a delivery interval's log lines wait once they outgrow a chunk: appended to a file of a
 * spool directory, each chunk reused once written. Why not memory: an interval lasts five minutes
 * (AWS's default), and at the lab's top rates its lines take hundreds of MB a minute; held in
 * Buffers, that growing external memory makes V8 run a full collection every few MB of it (21
 * mark-compacts in a 6 s run through the CloudFront edge, 1 with the lines written out), which
 * cost every request of the lab ~1.8 µs per log line (docs/performance.md, session 11). A load
 * balancer node writes its log file locally before shipping it too.
 */
import { close, createReadStream, mkdirSync, mkdtempSync, openSync, write } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Size of the chunks log lines are written into. */
export const CHUNK_BYTES = 256 * 1024;

/** Free chunks kept for reuse: enough for the writes in flight of a few batches. */
const POOLED = 8;

export interface LogSpoolOptions {
  /** Where the spool directory is made (created if missing); default the OS temp directory. */
  parent?: string | undefined;
  /** Chunk size in bytes (tests make it small to spill often). */
  chunkBytes?: number | undefined;
}

/**
 * The lab's spool: a directory made on first use (`throttlescope-spool-*`), a file per batch
 * that spills, and the pool of chunks. Removed by `close` (a process killed first leaves it).
 */
export class LogSpool {
  readonly chunkBytes: number;
  private readonly parent: string;
  private dir: string | undefined;
  private files = 0;
  /** The spool could not make a file: batches keep their lines in memory, as without a spool. */
  private broken = false;
  private closed = false;
  private readonly pool: Buffer[] = [];

  constructor(o: LogSpoolOptions = {}) {
    this.chunkBytes = o.chunkBytes ?? CHUNK_BYTES;
    this.parent = o.parent ?? tmpdir();
  }

  /** A chunk to write lines into: a free one when there is one. */
  chunk(): Buffer {
    return this.pool.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
  }

  /** A chunk nothing refers to any more (its bytes are written out or delivered). */
  reuse(chunk: Buffer): void {
    if (chunk.length === this.chunkBytes && this.pool.length < POOLED) this.pool.push(chunk);
  }

  /**
   * A new file for one batch, or undefined when the spool cannot make one (the batch then keeps
   * its lines in memory). Synchronous: once per batch that spills, at most a few per interval.
   */
  open(): SpoolFile | undefined {
    if (this.broken || this.closed) return undefined;
    try {
      if (this.dir === undefined) {
        mkdirSync(this.parent, { recursive: true });
        this.dir = mkdtempSync(join(this.parent, 'throttlescope-spool-'));
      }
      const path = join(this.dir, `${this.files++}.log`);
      return new SpoolFile(this, path, openSync(path, 'wx', 0o600));
    } catch {
      this.broken = true;
      return undefined;
    }
  }

  /** Removes the spool directory; files still open were delivered or are abandoned. */
  async close(): Promise<void> {
    this.closed = true;
    this.pool.length = 0;
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * One batch's spilled lines: chunks appended in order, one write at a time at known offsets. A
 * write that fails (disk full...) loses nothing: that chunk's unwritten bytes and every later
 * chunk stay in memory, after the file's bytes.
 */
export class SpoolFile {
  /** Bytes in the file (all written). */
  private size = 0;
  /** Chunks waiting to be written, and how many of their bytes are lines. */
  private readonly queue: { chunk: Buffer; used: number }[] = [];
  private writing = false;
  private failed = false;
  private readonly unwritten: Buffer[] = [];
  private readonly idle: (() => void)[] = [];
  private fd: number | undefined;

  constructor(
    private readonly spool: LogSpool,
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Appends the first `used` (> 0: LineBatch hands empty chunks straight back) bytes of `chunk`;
   * the chunk goes back to the spool once written.
   */
  append(chunk: Buffer, used: number): void {
    if (this.failed) this.unwritten.push(chunk.subarray(0, used));
    else {
      this.queue.push({ chunk, used });
      if (!this.writing) this.writeNext(0);
    }
  }

  /** Writes the first queued chunk from `offset` on. */
  private writeNext(offset: number): void {
    const next = this.queue[0];
    if (next === undefined || this.fd === undefined) {
      this.writing = false;
      for (const w of this.idle.splice(0)) w();
      return;
    }
    this.writing = true;
    const { chunk, used } = next;
    write(this.fd, chunk, offset, used - offset, this.size, (error, written) => {
      if (error || written === 0) {
        this.failed = true;
        this.unwritten.push(chunk.subarray(offset, used));
        for (const q of this.queue.slice(1)) this.unwritten.push(q.chunk.subarray(0, q.used));
        this.queue.length = 0;
        this.writeNext(0);
        return;
      }
      this.size += written;
      if (offset + written < used) {
        this.writeNext(offset + written);
        return;
      }
      this.queue.shift();
      this.spool.reuse(chunk);
      this.writeNext(0);
    });
  }

  /** Resolves when no write is in flight. */
  private drained(): Promise<void> {
    return this.writing ? new Promise((r) => this.idle.push(r)) : Promise.resolve();
  }

  /** The file's bytes, then what could not be written; the file is closed and removed after. */
  async *read(): AsyncGenerator<Buffer> {
    await this.drained();
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (fd !== undefined) await new Promise<void>((r) => close(fd, () => r()));
      if (this.size > 0) yield* createReadStream(this.path, { start: 0, end: this.size - 1 });
      yield* this.unwritten;
    } finally {
      await rm(this.path, { force: true });
    }
  }
}
