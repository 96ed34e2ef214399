import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ThrottlescopeError } from '../../src/common/errors.js';
import type { HarEntry } from '../../src/probe/har.js';
import type { ProbeRecord } from '../../src/probe/record.js';
import { OutputError, Recorder } from '../../src/probe/recorder.js';
import { redactUrl } from '../../src/probe/redact.js';
import { readProbeDir } from '../../src/probe/report.js';
import { runProbe } from '../../src/probe/runner.js';
import { alb502, ok, startServer } from './servers.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'ts-probe-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function readJsonl(dir: string): ProbeRecord[] {
  return readFileSync(join(dir, 'requests.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeRecord);
}

function readHar(dir: string): { log: { version: string; entries: HarEntry[] } } {
  return JSON.parse(readFileSync(join(dir, 'failures.har'), 'utf8'));
}

describe('recording to --out', () => {
  it('writes every record in order, byte for byte as JSON, across many batches and with a line longer than a batch', async () => {
    // Prepare: enough records for several 64 KiB batches; one URL of 200 KB in the middle
    const dir = join(tmp(), 'batches');
    const rec = await Recorder.open(dir, {});
    const records: ProbeRecord[] = [];
    for (let i = 1; i <= 3000; i++) {
      const sent = 1_796_466_406_363 + i * 0.25;
      records.push({
        seq: i,
        urlIndex: 0,
        urlSeq: i,
        url: i === 1500 ? `http://a/${'x'.repeat(200_000)}` : 'http://a/é',
        intended: sent,
        sent,
        at: new Date(Math.floor(sent)).toISOString(),
        latencyMs: i / 1000,
        serviceMs: i / 1000,
        status: i % 7 === 0 ? 502 : 200,
        bytes: 2,
        traceId: `Root=1-6b13e6e6-${String(i).padStart(24, '0')}`,
        ok: i % 7 !== 0,
        error: null,
        origin: i % 7 === 0 ? 'alb' : null,
      });
    }
    // Act
    for (const r of records) rec.write(r);
    await rec.close();
    // Assert
    expect(readFileSync(join(dir, 'requests.jsonl'), 'utf8')).toBe(
      records.map((r) => `${JSON.stringify(r)}\n`).join(''),
    );
  });

  it('writes one JSONL line per request and a HAR 1.2 entry per failure; report rebuilds the same summary', async () => {
    // Prepare
    const srv = await startServer((_req, res, n) => (n % 4 === 0 ? alb502(res) : ok(res)));
    const out = join(tmp(), 'run1');
    try {
      // Act
      const live = await runProbe({
        urls: [srv.url],
        concurrency: 3,
        count: 40,
        outDir: out,
        durationMs: 20_000,
      });
      // Assess
      const lines = readJsonl(out);
      expect(lines).toHaveLength(40);
      expect(new Set(lines.map((l) => l.seq)).size).toBe(40);
      const first = lines[0]!;
      for (const key of [
        'seq',
        'url',
        'intended',
        'sent',
        'latencyMs',
        'status',
        'bytes',
        'traceId',
        'error',
      ]) {
        expect(first).toHaveProperty(key);
      }
      const har = readHar(out);
      expect(har.log.version).toBe('1.2');
      expect(har.log.entries).toHaveLength(live.summary.failed);
      const e = har.log.entries[0]!;
      expect(e.response.status).toBe(502);
      expect(e.response.headers).toContainEqual({ name: 'server', value: 'awselb/2.0' });
      expect(e.response.content.text).toContain('502 Bad Gateway');
      expect(e._traceId).toMatch(/^Root=1-/);
      const report = await readProbeDir(out);
      expect(report.summary).toEqual(live.summary);
      expect(report.records).toBe(40);
      const { run, ...doc } = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(doc).toEqual(JSON.parse(JSON.stringify(live.summary)));
      expect(run.stoppedBy).toBe('count');
    } finally {
      await srv.close();
    }
  });

  it('flushes every completed request and closes the HAR when the run is aborted', async () => {
    // Some requests hang forever so that some are in flight at abort time.
    const srv = await startServer((_req, res, n) => {
      if (n % 5 === 0) return; // hangs
      if (n % 3 === 0) alb502(res);
      else ok(res);
    });
    const out = join(tmp(), 'aborted');
    try {
      const c = new AbortController();
      setTimeout(() => c.abort(), 250);
      const result = await runProbe(
        { urls: [srv.url], concurrency: 4, forever: true, outDir: out, graceMs: 50, timeoutMs: 30_000 },
        { signal: c.signal },
      );
      expect(result.interrupted).toBe(true);
      const lines = readJsonl(out);
      expect(lines.length).toBe(result.summary.total);
      expect(lines.length).toBeGreaterThan(0);
      expect(readHar(out).log.entries).toHaveLength(result.summary.failed);
      const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
      expect(run.stoppedBy).toBe('signal');
      expect((await readProbeDir(out)).summary).toEqual(result.summary);
    } finally {
      await srv.close();
    }
  });

  it('redacts credentials and signatures in the HAR, JSONL and run.json', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(500, { 'set-cookie': 'session=s3cr3t', 'content-type': 'text/plain' });
      res.end('boom');
    });
    const out = join(tmp(), 'redacted');
    const url = `${srv.url}?X-Amz-Signature=abcdef0123&X-Amz-Security-Token=tok123&keep=1`;
    try {
      await runProbe({
        urls: [url],
        concurrency: 1,
        count: 1,
        outDir: out,
        durationMs: 10_000,
        headers: {
          Authorization: 'Bearer hunter2',
          Cookie: 'sid=cookie-secret',
          'X-Amz-Security-Token': 'sts-secret',
          'X-Other': 'visible',
        },
      });
      const all = ['failures.har', 'requests.jsonl', 'run.json', 'summary.json']
        .map((f) => readFileSync(join(out, f), 'utf8'))
        .join('\n');
      for (const secret of ['hunter2', 'cookie-secret', 'sts-secret', 's3cr3t', 'abcdef0123', 'tok123']) {
        expect(all).not.toContain(secret);
      }
      const e = readHar(out).log.entries[0]!;
      const h = Object.fromEntries(e.request.headers.map((x) => [x.name.toLowerCase(), x.value]));
      expect(h.authorization).toBe('[REDACTED]');
      expect(h.cookie).toBe('[REDACTED]');
      expect(h['x-amz-security-token']).toBe('[REDACTED]');
      expect(h['x-other']).toBe('visible');
      expect(e.response.headers).toContainEqual({ name: 'set-cookie', value: '[REDACTED]' });
      expect(e.request.queryString).toContainEqual({ name: 'keep', value: '1' });
      expect(e.request.queryString).toContainEqual({ name: 'X-Amz-Signature', value: '[REDACTED]' });
    } finally {
      await srv.close();
    }
  });

  it('keeps everything with redact: false (--no-redact)', async () => {
    const srv = await startServer((_req, res) => {
      res.writeHead(500, { 'set-cookie': 'session=s3cr3t' });
      res.end('boom');
    });
    const out = join(tmp(), 'raw');
    try {
      await runProbe({
        urls: [`${srv.url}?sig=abc`],
        concurrency: 1,
        count: 1,
        outDir: out,
        redact: false,
        durationMs: 10_000,
        headers: { Authorization: 'Bearer hunter2' },
      });
      const har = readFileSync(join(out, 'failures.har'), 'utf8');
      expect(har).toContain('hunter2');
      expect(har).toContain('s3cr3t');
      expect(har).toContain('sig=abc');
    } finally {
      await srv.close();
    }
  });

  it('caps the body kept per failing exchange and says so', async () => {
    const big = 'x'.repeat(10_000);
    const srv = await startServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end(big);
    });
    const out = join(tmp(), 'cap');
    try {
      const { summary } = await runProbe({
        urls: [srv.url],
        concurrency: 1,
        count: 1,
        outDir: out,
        harBodyMaxBytes: 100,
        durationMs: 10_000,
      });
      const e = readHar(out).log.entries[0]!;
      expect(e.response.content.text).toHaveLength(100);
      expect(e.response.content.size).toBe(10_000);
      expect(e.response.content.comment).toMatch(/truncated/);
      expect(summary.failed).toBe(1);
    } finally {
      await srv.close();
    }
  });

  it('fails at once, naming the path, when --out cannot be written', async () => {
    const srv = await startServer((_req, res) => ok(res));
    const file = join(tmp(), 'a-file');
    writeFileSync(file, 'x');
    try {
      const error = await runProbe({
        urls: [srv.url],
        concurrency: 1,
        count: 5,
        outDir: join(file, 'sub'),
        durationMs: 10_000,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutputError);
      expect((error as ThrottlescopeError).exitCode).toBe(5);
      expect((error as Error).message).toContain(join(file, 'sub'));
      expect(srv.seen).toHaveLength(0);
    } finally {
      await srv.close();
    }
  });

  it('report skips a torn last line and counts it', async () => {
    const srv = await startServer((_req, res) => ok(res));
    const out = join(tmp(), 'torn');
    try {
      await runProbe({ urls: [srv.url], concurrency: 1, count: 5, outDir: out, durationMs: 10_000 });
      appendFileSync(join(out, 'requests.jsonl'), '{"seq":6,"urlIn');
      const r = await readProbeDir(out);
      expect(r.records).toBe(5);
      expect(r.skippedLines).toBe(1);
      expect(r.skippedAt).toEqual([6]);
      expect(r.summary.total).toBe(5);
    } finally {
      await srv.close();
    }
  });

  it('report refuses a directory that is not a probe run', async () => {
    await expect(readProbeDir(tmp())).rejects.toMatchObject({ code: 'TS_PROBE_DIR', exitCode: 3 });
    await expect(readProbeDir(join(tmp(), 'missing'))).rejects.toMatchObject({ code: 'TS_PROBE_DIR' });
  });
});

describe('Recorder backpressure', () => {
  it('reports congestion and drains', async () => {
    const dir = tmp();
    const rec = await Recorder.open(dir, { urls: ['http://a/'] });
    const line = {
      seq: 1,
      urlIndex: 0,
      urlSeq: 1,
      url: 'http://a/',
      intended: 1,
      sent: 1,
      at: '',
      latencyMs: 1,
      serviceMs: 1,
      status: 200,
      bytes: 1,
      traceId: 'x'.repeat(2000),
      ok: true,
      error: null,
      origin: null,
    } satisfies ProbeRecord;
    for (let i = 0; i < 6000; i++) rec.write({ ...line, seq: i + 1 });
    rec.flush();
    await rec.drained();
    expect(rec.congested).toBe(false);
    await rec.close();
    expect(readJsonl(dir)).toHaveLength(6000);
  });
});

describe('Recorder chunks', () => {
  it('writes lines of every size in order: short ones, ones that fill a chunk, ones longer than a chunk, non-ASCII', async () => {
    // Prepare: trace ids from 1 to 100,000 characters, some in multi-byte UTF-8, across chunk edges
    const dir = tmp();
    const rec = await Recorder.open(dir, { urls: ['http://a/'] });
    const sizes = [1, 40, 21_000, 22_000, 70_000, 100_000, 3, 65_536, 5];
    const records: ProbeRecord[] = [];
    for (let i = 0; i < 400; i++) {
      const size = sizes[i % sizes.length]!;
      const text = (i % 3 === 0 ? 'é€😀' : 'x').repeat(size).slice(0, size);
      const r: ProbeRecord = {
        seq: i + 1,
        urlIndex: 0,
        urlSeq: i + 1,
        url: 'http://a/',
        intended: 1 + i / 1000,
        sent: 1 + i / 1000,
        at: '2026-12-05T10:00:00.000Z',
        latencyMs: 1,
        serviceMs: 1,
        status: 200,
        bytes: 1,
        traceId: text,
        ok: true,
        error: null,
        origin: null,
      };
      records.push(r);
      // Act
      rec.write(r);
    }
    await rec.close();
    // Assert
    expect(readJsonl(dir)).toEqual(records);
  });
});

describe('redactUrl', () => {
  it('replaces signature-like query values only', () => {
    expect(redactUrl('https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Date=1')).toBe(
      'https://b.s3.amazonaws.com/k?X-Amz-Signature=%5BREDACTED%5D&X-Amz-Date=1',
    );
    expect(redactUrl('https://x/?a=1')).toBe('https://x/?a=1');
    expect(redactUrl('https://x/?token=t', false)).toBe('https://x/?token=t');
  });
});
