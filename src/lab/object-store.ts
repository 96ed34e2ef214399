import { createHash } from 'node:crypto';
import type { LabObjectStore, StoredObject } from './backend.js';

/**
 * In-memory S3 buckets for the lab's access logs. Keys are listed in UTF-8 binary order, as
 * S3's ListObjectsV2 returns them; ETags are the quoted hex MD5 of the body (single-part upload).
 */
export class MemoryObjectStore implements LabObjectStore {
  private readonly store = new Map<string, { createdMs: number; objects: Map<string, StoredObject> }>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  createBucket(name: string): void {
    if (!this.store.has(name)) this.store.set(name, { createdMs: this.now(), objects: new Map() });
  }

  buckets(): { name: string; createdMs: number }[] {
    return [...this.store.entries()]
      .map(([name, b]) => ({ name, createdMs: b.createdMs }))
      .sort((a, b) => compareUtf8(a.name, b.name));
  }

  hasBucket(bucket: string): boolean {
    return this.store.has(bucket);
  }

  list(bucket: string, prefix: string): StoredObject[] {
    const b = this.store.get(bucket);
    if (!b) return [];
    const out: StoredObject[] = [];
    for (const o of b.objects.values()) if (o.key.startsWith(prefix)) out.push(o);
    return out.sort((x, y) => compareUtf8(x.key, y.key));
  }

  get(bucket: string, key: string): StoredObject | undefined {
    return this.store.get(bucket)?.objects.get(key);
  }

  put(bucket: string, key: string, body: Buffer, contentType?: string): StoredObject {
    this.createBucket(bucket);
    const object: StoredObject = {
      key,
      body,
      lastModifiedMs: this.now(),
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      contentType,
    };
    this.store.get(bucket)!.objects.set(key, object);
    return object;
  }
}

/** Compares strings by their UTF-8 bytes (S3's listing order), not by UTF-16 code units. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
