import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { LabObjectStore } from './backend.js';

const gzip = promisify(gzipCb);

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

  /** Compresses and stores `text` under `key`; `onStored` runs once it is in the bucket. */
  deliver(key: string, text: Buffer, onStored: () => void): void {
    const p = (async () => {
      const body = await gzip(text);
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
