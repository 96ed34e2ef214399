import { existsSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { VirtualClock } from '../../src/common/clock.js';
import { AccessLogWriter, LineBatch } from '../../src/lab/access-log.js';
import { CloudFrontLogWriter } from '../../src/lab/cloudfront/access-log.js';
import type { EdgeExchange } from '../../src/lab/cloudfront/server.js';
import { LogSpool, SpoolFile } from '../../src/lab/log-spool.js';
import { MemoryObjectStore } from '../../src/lab/object-store.js';
import { cloudFrontFileHeader } from '../../src/logs/cloudfront/index.js';
import { accessLogOptions } from './helpers.js';

/**
 * Pending log lines past a chunk wait in a spool file, their chunks reused: the delivered file
 * must be exactly what the lines in memory would have made, in order, whatever the chunk ends,
 * the file writes' completion, or a file that cannot be made or written.
 */

const dirs: string[] = [];
function tempParent(): string {
  const d = mkdtempSync(join(tmpdir(), 'ts-spool-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function read(batch: LineBatch, head?: Buffer): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of batch.content(head)) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

const tick = () => new Promise((r) => setTimeout(r, 2));

/** Files in the spool directories under `parent`. */
function spoolFiles(parent: string): string[] {
  return readdirSync(parent).flatMap((d) => readdirSync(join(parent, d)).map((f) => join(d, f)));
}

describe('LineBatch with a spool', () => {
  test('the lines come back in order across chunk ends and file writes; chunks are reused; the file goes once read', async () => {
    const parent = tempParent();
    const spool = new LogSpool({ parent, chunkBytes: 1024 });
    const given = new Set<Buffer>();
    const take = spool.chunk.bind(spool);
    spool.chunk = () => {
      const c = take();
      given.add(c);
      return c;
    };
    const batch = new LineBatch(spool);
    const lines: string[] = [];
    let chunksFilled = 0;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 10; i++) {
        const n = round * 10 + i;
        // Some lines longer than a chunk: a chunk of their own, not reused.
        const line = n % 397 === 0 ? `long ${'z'.repeat(3000)}` : `line ${n} é ${'x'.repeat(n % 170)}`;
        lines.push(line);
        batch.add(line);
      }
      chunksFilled = Math.floor(lines.join('\n').length / 1024);
      // The writes complete between rounds, as they do between the lab's turns of the event loop.
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(spoolFiles(parent)).toHaveLength(1);
    expect(batch.lines).toBe(lines.length);
    expect(() => batch.bytes()).toThrow(/spool file/);
    const head = Buffer.from('#Version: 1.0\n');
    expect(await read(batch, head)).toBe(`#Version: 1.0\n${lines.map((l) => `${l}\n`).join('')}`);
    // Hundreds of chunks filled, a handful of chunks ever made.
    expect(chunksFilled).toBeGreaterThan(200);
    expect(given.size).toBeLessThan(chunksFilled / 5);
    expect(spoolFiles(parent)).toHaveLength(0);
    await spool.close();
    expect(readdirSync(parent)).toHaveLength(0);
  });

  test('a batch within one chunk never makes a file', async () => {
    const parent = tempParent();
    const spool = new LogSpool({ parent });
    const batch = new LineBatch(spool);
    batch.add('one');
    batch.add('two');
    expect(batch.bytes().toString()).toBe('one\ntwo\n');
    expect(await read(batch)).toBe('one\ntwo\n');
    expect(readdirSync(parent)).toHaveLength(0);
  });

  test('when the spool cannot make a file, the lines stay in memory', async () => {
    const parent = tempParent();
    const notADirectory = join(parent, 'file');
    writeFileSync(notADirectory, 'x');
    const spool = new LogSpool({ parent: join(notADirectory, 'spool'), chunkBytes: 256 });
    const batch = new LineBatch(spool);
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    for (const l of lines) batch.add(l);
    expect(batch.bytes().toString()).toBe(lines.map((l) => `${l}\n`).join(''));
    expect(await read(batch)).toBe(lines.map((l) => `${l}\n`).join(''));
    await spool.close();
  });

  test('a file whose writes fail loses nothing: what could not be written stays in memory, in order', async () => {
    const parent = tempParent();
    const spool = new LogSpool({ parent, chunkBytes: 256 });
    // Writes to /dev/full fail with ENOSPC; the link is what gets removed after reading.
    const link = join(parent, 'full');
    symlinkSync('/dev/full', link);
    const file = new SpoolFile(spool, link, openSync(link, 'w'));
    const chunks = Array.from({ length: 5 }, (_, i) => Buffer.from(`chunk ${i} ${'w'.repeat(i * 10)}\n`));
    for (const c of chunks) {
      const big = Buffer.alloc(256);
      c.copy(big);
      file.append(big, c.length);
      await tick();
    }
    const parts: Buffer[] = [];
    for await (const c of file.read()) parts.push(c);
    expect(Buffer.concat(parts).toString()).toBe(Buffer.concat(chunks).toString());
    expect(existsSync(link)).toBe(false);
    expect(existsSync('/dev/full')).toBe(true);
  });
});

describe('log writers with a spool', () => {
  test('the ALB file delivered from a spool is the lines, gzip-compressed, and the spool is emptied', async () => {
    const parent = tempParent();
    const spool = new LogSpool({ parent, chunkBytes: 4096 });
    const store = new MemoryObjectStore();
    store.createBucket('logs');
    const clock = new VirtualClock(Date.UTC(2026, 11, 5, 12, 0, 0));
    const w = new AccessLogWriter(accessLogOptions(store, clock, { spool }));
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'y'.repeat(i % 300)} 漢字`);
    for (const [i, l] of lines.entries()) {
      w.writeLine(l, clock.now());
      if (i % 100 === 0) await tick();
    }
    expect(spoolFiles(parent)).toHaveLength(1);
    await w.flush();
    const [object] = store.list('logs', '');
    expect(gunzipSync(object!.body).toString('utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
    expect(w.status()).toMatchObject({ linesDelivered: lines.length, filesDelivered: 1, pendingLines: 0 });
    expect(spoolFiles(parent)).toHaveLength(0);
    await spool.close();
  });

  test('a CloudFront file delivered from a spool starts with its header lines', async () => {
    const parent = tempParent();
    const spool = new LogSpool({ parent, chunkBytes: 2048 });
    const store = new MemoryObjectStore();
    store.createBucket('cf-logs');
    const clock = new VirtualClock(Date.UTC(2026, 11, 5, 12, 0, 0));
    const w = new CloudFrontLogWriter({
      store,
      bucket: 'cf-logs',
      prefix: '',
      distributionId: 'E2EXAMPLE12345',
      domainName: 'd111111abcdef8.cloudfront.net',
      pop: 'IAD89-C1',
      intervalMs: 300_000,
      clock,
      spool,
    });
    const exchange = (i: number): EdgeExchange => ({
      startMs: clock.now(),
      endMs: clock.now() + 3,
      readyMs: clock.now() + 2,
      clientIp: '192.0.2.1',
      clientPort: 40_000 + i,
      method: 'GET',
      url: `/page/${i}?q=${i}`,
      httpVersion: '1.1',
      host: 'd111111abcdef8.cloudfront.net',
      userAgent: 'probe',
      referer: undefined,
      xForwardedFor: undefined,
      receivedBytes: 100,
      sentBytes: 600,
      status: 200,
      response: undefined,
      aborted: false,
    });
    for (let i = 0; i < 400; i++) {
      w.write(exchange(i));
      if (i % 50 === 0) await tick();
    }
    await w.flush();
    const [object] = store.list('cf-logs', '');
    const text = gunzipSync(object!.body).toString('utf8');
    expect(text.startsWith(cloudFrontFileHeader())).toBe(true);
    const rows = text.slice(cloudFrontFileHeader().length).split('\n').filter(Boolean);
    expect(rows).toHaveLength(400);
    expect(rows.map((r) => r.split('\t')[7])).toEqual(Array.from({ length: 400 }, (_, i) => `/page/${i}`));
    expect(spoolFiles(parent)).toHaveLength(0);
    await spool.close();
  });
});
