import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { LineBatch } from './access-log.js';
import type { LabObjectStore } from './backend.js';

/** `batch`'s file (after `head`) gzip-compressed, read piece by piece (it may be in a spool file). */
async function gzipBatch(batch: LineBatch, head: Buffer | undefined): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(batch.content(head), createGzip(), async (gz: AsyncIterable<Buffer>) => {
    for await (const c of gz) out.push(c);
  });
  batch.recycle();
  return Buffer.concat(out);
}

/**
 * Puts log files into a lab bucket, gzip-compressed off the request path, optionally mirrored to
 * `<dataDir>/<bucket>/<key>`. `flush` waits for every file handed over so far and reports the
 * first failure; nothing handed over is dropped silently.
 */
export class LogDelivery {
  private readonly inFlight = new Set<Promise<void>>();
  private errors: unknown[] = [];

  constructor(
    private readonly store: LabObjectStore,
    private readonly bucket: string,
    private readonly dataDir: string | undefined,
  ) {}

  /**
   * Compresses `batch`'s lines (after `head`, a file header) and stores them under `key`;
   * `onStored` runs once they are in the bucket.
   */
  deliver(key: string, batch: LineBatch, head: Buffer | undefined, onStored: () => void): void {
    const p = (async () => {
      const body = await gzipBatch(batch, head);
      this.store.put(this.bucket, key, body, 'application/x-gzip');
      onStored();
      if (this.dataDir) {
        const path = join(this.dataDir, this.bucket, key);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, body);
      }
    })().catch((e) => {
      this.errors.push(e);
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    if (this.errors.length > 0) {
      const e = this.errors[0];
      this.errors = [];
      throw e;
    }
  }
}
