/**
 * What recording one request to requests.jsonl costs (the probe's --out), in CPU time of this
 * process per record, 1,000,000 records to a file in a temporary directory, interleaved rounds,
 * medians:
 *   - records built, nothing written (what the runner makes anyway: the floor);
 *   - JSON.stringify per record, lines kept in a list and joined every 64 KiB (the recorder before
 *     session 5, reproduced here as the baseline);
 *   - Recorder.write as the probe runs it (RecordBytesEncoder straight into reused buffers).
 * Also the time the main thread spent in garbage collection, per record. Records are built fresh for
 * each line, as the runner does, and the event loop turns every 64 records (as it does between the
 * probe's responses), so finished writes are seen. Bounded: a fixed count per round.
 * Run: npm run bench probe-record   Env: BENCH_RECORDS (default 1000000), BENCH_ROUNDS (default 3).
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import type { ProbeRecord } from '../src/probe/record.js';
import { Recorder } from '../src/probe/recorder.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const T0 = 1_796_466_406_363.937;

function recordOf(i: number): ProbeRecord {
  const sent = Math.round((T0 + i * 0.0213) * 1000) / 1000;
  return {
    seq: i,
    urlIndex: 0,
    urlSeq: i,
    url: 'http://127.0.0.1:43827/',
    intended: sent,
    sent,
    at: new Date(Math.floor(sent)).toISOString(),
    latencyMs: (1000 + (i % 997)) / 1000,
    serviceMs: (1000 + (i % 997)) / 1000,
    status: 200,
    bytes: 2,
    traceId: `Root=1-6b13e6e6-${(i * 2654435761).toString(16).padStart(24, '0').slice(-24)}`,
    ok: true,
    error: null,
    origin: null,
  };
}

/** The pre-session-5 sink: a list of line strings, joined and written every 64 KiB. */
async function listSink(path: string, encode: (r: ProbeRecord) => string): Promise<void> {
  const stream = createWriteStream(path);
  let batch: string[] = [];
  let bytes = 0;
  for (let i = 1; i <= RECORDS; i++) {
    const text = `${encode(recordOf(i))}\n`;
    batch.push(text);
    bytes += text.length;
    if (bytes >= 65536) {
      stream.write(batch.join(''));
      batch = [];
      bytes = 0;
      if (stream.writableLength > 8 * 1024 * 1024) await once(stream, 'drain');
    }
    if (i % 64 === 0) await turn();
  }
  stream.end(batch.join(''));
  await once(stream, 'finish');
}

async function recorder(dir: string): Promise<void> {
  const rec = await Recorder.open(dir, {});
  for (let i = 1; i <= RECORDS; i++) {
    rec.write(recordOf(i));
    if (rec.congested) await rec.drained();
    if (i % 64 === 0) await turn();
  }
  await rec.close();
}

async function buildOnly(): Promise<void> {
  let n = 0;
  for (let i = 1; i <= RECORDS; i++) {
    n += recordOf(i).seq;
    if (i % 64 === 0) await turn();
  }
  if (n < 0) throw new Error('unreachable');
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const dir = mkdtempSync(join(tmpdir(), 'ts-probe-record-'));
const ways: [string, () => Promise<void>][] = [
  ['records built, nothing written', buildOnly],
  ['JSON.stringify + list of lines', () => listSink(join(dir, 'a.jsonl'), (r) => JSON.stringify(r))],
  ['Recorder.write (bytes into reused buffers)', () => recorder(join(dir, 'c'))],
];
const cpu = new Map<string, number[]>();
const gc = new Map<string, number[]>();
try {
  process.stdout.write(
    `bench  probe recording, ${RECORDS} records per way, ${ROUNDS} rounds, load ${loadavg()[0]?.toFixed(2)}\n`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of ways) {
      global.gc?.();
      gcMs = 0;
      const before = process.cpuUsage();
      await run();
      const used = process.cpuUsage(before);
      cpu.set(name, [...(cpu.get(name) ?? []), (used.user + used.system) / RECORDS]);
      gc.set(name, [...(gc.get(name) ?? []), (gcMs * 1000) / RECORDS]);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
  for (const [name] of ways) {
    const c = cpu.get(name) ?? [];
    process.stdout.write(
      `${name.padEnd(40)} ${median(c).toFixed(2)} µs CPU/record [${c.map((x) => x.toFixed(2)).join(' ')}], GC ${median(gc.get(name) ?? []).toFixed(2)} µs/record\n`,
    );
  }
  process.stdout.write(
    `load average at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
