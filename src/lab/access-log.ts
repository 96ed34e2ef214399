import type { Clock } from '../common/clock.js';
import { formatAlbLine } from '../logs/format-line.js';
import type { AlbLogRecord } from '../logs/record.js';
import type { LabObjectStore } from './backend.js';
import { LogDelivery } from './log-delivery.js';
import { CHUNK_BYTES, type LogSpool, type SpoolFile } from './log-spool.js';
import { randomChunk } from './random.js';

/**
 * ALB access-log delivery, as AWS does it: entries collected per delivery interval (5 minutes on
 * AWS; configurable), written as one gzip file per interval and load balancer node, under
 * `bucket[/prefix]/AWSLogs/<account>/elasticloadbalancing/<region>/yyyy/mm/dd/
 * <account>_elasticloadbalancing_<region>_app.<lb-name>.<lb-id>_<end YYYYMMDDTHHMMZ>_<node ip>_<random>.log.gz`.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
 * Intervals are aligned to the epoch on the lab clock and named by their end time; a flush on
 * shutdown delivers the current interval early under its end time. Nothing is dropped: every
 * line written lands in exactly one file.
 */
export interface AccessLogOptions {
  store: LabObjectStore;
  bucket: string;
  prefix: string;
  accountId: string;
  region: string;
  lbName: string;
  lbId: string;
  nodeIp: string;
  /** Delivery interval, lab ms. */
  intervalMs: number;
  clock: Clock;
  /** Also write each file to `<dataDir>/<key>`. */
  dataDir?: string | undefined;
  /** Where pending lines wait past a chunk (else they stay in memory until delivered). */
  spool?: LogSpool | undefined;
}

/** The key regex of AWS's layout (tests and readers use it). */
export const ACCESS_LOG_KEY =
  /^(?:(.+)\/)?AWSLogs\/(\d{12})\/elasticloadbalancing\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\2_elasticloadbalancing_\3_app\.([A-Za-z0-9-]+)\.([0-9a-f]{16})_(\d{8}T\d{4}Z)_(\d{1,3}(?:\.\d{1,3}){3})_([a-z0-9]{8})\.log\.gz$/;

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomSuffix(): string {
  const bytes = randomChunk(8);
  let s = '';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function accessLogKey(o: {
  prefix: string;
  accountId: string;
  region: string;
  lbName: string;
  lbId: string;
  nodeIp: string;
  endMs: number;
  random?: string;
}): string {
  const d = new Date(o.endMs);
  const y = d.getUTCFullYear();
  const mo = pad(d.getUTCMonth() + 1);
  const da = pad(d.getUTCDate());
  const stamp = `${y}${mo}${da}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
  const prefix = o.prefix.replace(/^\/+|\/+$/g, '');
  const file = `${o.accountId}_elasticloadbalancing_${o.region}_app.${o.lbName}.${o.lbId}_${stamp}_${o.nodeIp}_${o.random ?? randomSuffix()}.log.gz`;
  return `${prefix ? `${prefix}/` : ''}AWSLogs/${o.accountId}/elasticloadbalancing/${o.region}/${y}/${mo}/${da}/${file}`;
}

export interface AccessLogStatus {
  linesWritten: number;
  linesDelivered: number;
  filesDelivered: number;
  pendingLines: number;
  keys: string[];
}

/**
 * The lines of one delivery interval, kept as the UTF-8 bytes of the file to be (each line and
 * its newline), in large chunks: no object per line for the garbage collector to trace while the
 * interval runs (five minutes by default, a few hundred bytes per request). With a spool, every
 * chunk but the one being written goes to the spool's file (src/lab/log-spool.ts), so a batch
 * holds one chunk of memory however long the interval; without one, every chunk stays in memory.
 */
export class LineBatch {
  /** Filled chunks kept in memory (no spool, or it could not make a file). */
  private readonly full: Buffer[] = [];
  private chunk: Buffer | undefined;
  private used = 0;
  private file: SpoolFile | undefined;
  private spilled = false;
  lines = 0;

  constructor(private readonly spool?: LogSpool) {}

  add(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const chunk = this.room(line.length * 3);
    this.used += chunk.write(line, this.used, 'utf8');
    chunk[this.used++] = 0x0a;
    this.lines++;
  }

  /**
   * The chunk to write a line of at most `maxBytes` bytes into, from `end`; `close` then ends it.
   * For writers that put a line's bytes in place rather than make a string of it.
   */
  room(maxBytes: number): Buffer {
    let chunk = this.chunk;
    if (chunk === undefined || this.used + maxBytes + 1 > chunk.length) {
      if (chunk !== undefined) this.filled(chunk, this.used);
      const size = this.spool?.chunkBytes ?? CHUNK_BYTES;
      chunk =
        this.spool !== undefined && maxBytes + 1 <= size
          ? this.spool.chunk()
          : Buffer.allocUnsafe(Math.max(size, maxBytes + 1));
      this.chunk = chunk;
      this.used = 0;
    }
    return chunk;
  }

  /** A chunk no more lines fit in: to the spool's file when there is one. */
  private filled(chunk: Buffer, used: number): void {
    if (used === 0) {
      // Nothing in it (the line to come is longer than a chunk).
      this.spool?.reuse(chunk);
      return;
    }
    if (this.spool !== undefined && !this.spilled) {
      this.spilled = true;
      this.file = this.spool.open();
    }
    if (this.file !== undefined) this.file.append(chunk, used);
    else this.full.push(chunk.subarray(0, used));
  }

  /** Where the next line starts in the chunk `room` returned. */
  get end(): number {
    return this.used;
  }

  /** Ends the line written into `room`'s chunk up to `end` (exclusive) with its newline. */
  close(end: number): void {
    this.chunk![end] = 0x0a;
    this.used = end + 1;
    this.lines++;
  }

  /**
   * The file's text, for a batch whose lines are all in memory (nothing spilled): `head` (a file
   * header, when the format has one), then every line followed by a newline.
   */
  bytes(head?: Buffer): Buffer {
    if (this.file !== undefined)
      throw new Error('LineBatch.bytes: the lines are in a spool file; read content()');
    // One copy of the lines, header included.
    const parts = head === undefined ? [...this.full] : [head, ...this.full];
    if (this.chunk !== undefined) parts.push(this.chunk.subarray(0, this.used));
    return Buffer.concat(parts);
  }

  /**
   * The file's text in pieces, wherever its lines are: `head`, the spool file's bytes (the file is
   * removed once read), then the chunks in memory. Read it once, after the last line.
   */
  async *content(head?: Buffer): AsyncGenerator<Buffer> {
    if (head !== undefined) yield head;
    if (this.file !== undefined) yield* this.file.read();
    yield* this.full;
    if (this.chunk !== undefined) yield this.chunk.subarray(0, this.used);
  }

  /** After `content` was read to its end: the chunks go back to the spool for other batches. */
  recycle(): void {
    if (this.spool === undefined) return;
    if (this.chunk !== undefined) this.spool.reuse(this.chunk);
    this.chunk = undefined;
    this.used = 0;
  }
}

export class AccessLogWriter {
  private readonly pending = new Map<number, LineBatch>();
  private readonly delivery: LogDelivery;
  private linesWritten = 0;
  private linesDelivered = 0;
  private readonly keys: string[] = [];

  constructor(private readonly o: AccessLogOptions) {
    this.delivery = new LogDelivery(o.store, o.bucket, o.dataDir);
  }

  /** Queues one entry for the interval that contains its `time`. */
  write(record: AlbLogRecord): void {
    this.writeLine(formatAlbLine(record), record.timeMs);
  }

  writeLine(line: string, timeMs: number): void {
    this.lineBatchFor(timeMs).add(line);
  }

  /**
   * The batch of the interval that contains `timeMs`, for a writer that puts exactly one line
   * into it (counted as written here).
   */
  lineBatchFor(timeMs: number): LineBatch {
    this.linesWritten++;
    // Lines come in time order: the interval of the previous line is the usual one.
    const lines = this.current;
    if (timeMs >= this.currentStart && timeMs < this.currentEnd && lines !== undefined) return lines;
    const end = (Math.floor(timeMs / this.o.intervalMs) + 1) * this.o.intervalMs;
    let batch = this.pending.get(end);
    if (!batch) {
      batch = new LineBatch(this.o.spool);
      this.pending.set(end, batch);
    }
    this.current = batch;
    this.currentStart = end - this.o.intervalMs;
    this.currentEnd = end;
    return batch;
  }
  /** The pending lines of the interval [currentStart, currentEnd), while it is pending. */
  private current: LineBatch | undefined;
  private currentStart = Number.NaN;
  private currentEnd = Number.NaN;

  /** Delivers every interval that has ended by now on the lab clock. */
  tick(): void {
    const now = this.o.clock.now();
    for (const end of [...this.pending.keys()].sort((a, b) => a - b)) {
      if (end <= now) this.deliver(end);
    }
  }

  private deliver(end: number): void {
    const lines = this.pending.get(end);
    this.pending.delete(end);
    if (lines === this.current) this.current = undefined;
    if (!lines || lines.lines === 0) return;
    const key = accessLogKey({ ...this.o, endMs: end });
    this.delivery.deliver(key, lines, undefined, () => {
      this.keys.push(key);
      this.linesDelivered += lines.lines;
    });
  }

  /** Delivers everything pending, ended or not, and waits until it is stored. */
  async flush(): Promise<void> {
    for (const end of [...this.pending.keys()].sort((a, b) => a - b)) this.deliver(end);
    await this.delivery.flush();
  }

  status(): AccessLogStatus {
    let pendingLines = 0;
    for (const l of this.pending.values()) pendingLines += l.lines;
    return {
      linesWritten: this.linesWritten,
      linesDelivered: this.linesDelivered,
      filesDelivered: this.keys.length,
      pendingLines,
      keys: [...this.keys],
    };
  }
}
