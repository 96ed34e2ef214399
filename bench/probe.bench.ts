/**
 * Probe benchmark, loopback only, bounded in time. Against one local node:http server (in a child
 * process, so it does not share the load generator's event loop), in the same run:
 *   1. closed loop, 10 connections, ~5 s: our max throughput vs autocannon (and wrk if installed);
 *   2. open model at 1,000 req/s for 5 s: achieved rate and send lag p99;
 *   3. heap growth over the closed-loop run.
 * Run: node --import tsx bench/probe.bench.ts   (or npm run bench probe)
 * Env: BENCH_SECONDS (default 5), BENCH_ROUNDS (default 2, alternating), BENCH_CONNECTIONS (default 10), BENCH_RATE (default 1000),
 *      BENCH_MEMORY_REQUESTS (e.g. 1000000: also measure heap growth over that many requests).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { runProbe } from '../src/probe/runner.js';

interface AutocannonResult {
  requests: { total: number; average: number };
  errors: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
}) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const MEMORY_REQUESTS = Number(process.env.BENCH_MEMORY_REQUESTS ?? 0);

const SERVER = `
const http = require('node:http');
const body = 'ok';
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim()}/`, child };
}

function line(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(44)} ${value}\n`);
}

interface Measured {
  rps: number;
  /** CPU time of this process per request (user + system): less sensitive to machine noise. */
  cpuUs: number;
}

async function ours(url: string): Promise<Measured> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const { summary } = await runProbe({ urls: [url], concurrency: CONNECTIONS, durationMs: SECONDS * 1000 });
  const s = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  if (summary.failed > 0) line('  (throttlescope failures)', String(summary.failed));
  return { rps: summary.total / s, cpuUs: (used.user + used.system) / summary.total };
}

async function peer(url: string): Promise<Measured> {
  const cpu = process.cpuUsage();
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
  const used = process.cpuUsage(cpu);
  return { rps: r.requests.total / r.duration, cpuUs: (used.user + used.system) / r.requests.total };
}

function wrk(url: string): number | undefined {
  const which = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const r = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, url], {
    encoding: 'utf8',
    timeout: (SECONDS + 10) * 1000,
  });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout ?? '');
  return m ? Number(m[1]) : undefined;
}

async function main(): Promise<void> {
  const { url, child } = await startServer();
  try {
    line('bench', `probe, loopback ${url}, ${SECONDS}s per measurement, ${CONNECTIONS} connections`);
    // Warm-up both clients and the server.
    await runProbe({ urls: [url], concurrency: CONNECTIONS, durationMs: 2000 });
    await autocannon({ url, connections: CONNECTIONS, duration: 1 });

    // Alternate the two clients (A B A B) and keep each one's best round: the machine's noise
    // (other processes, CPU frequency) then hits both alike.
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const oursRuns: Measured[] = [];
    const peerRuns: Measured[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      oursRuns.push(await ours(url));
      peerRuns.push(await peer(url));
    }
    const heapAfter = process.memoryUsage().heapUsed;
    const a = Math.max(...oursRuns.map((x) => x.rps));
    const b = Math.max(...peerRuns.map((x) => x.rps));
    const ca = Math.min(...oursRuns.map((x) => x.cpuUs));
    const cb = Math.min(...peerRuns.map((x) => x.cpuUs));
    line('closed loop throttlescope req/s (rounds)', oursRuns.map((x) => x.rps.toFixed(0)).join(' '));
    line('closed loop autocannon req/s (rounds)', peerRuns.map((x) => x.rps.toFixed(0)).join(' '));
    line('closed loop throttlescope req/s (best)', a.toFixed(0));
    line('closed loop autocannon req/s (best)', b.toFixed(0));
    line('closed loop ratio throttlescope/autocannon', `${(a / b).toFixed(2)}x`);
    line('client CPU per request throttlescope µs', ca.toFixed(1));
    line('client CPU per request autocannon µs', cb.toFixed(1));
    line('CPU efficiency throttlescope/autocannon', `${(cb / ca).toFixed(2)}x`);
    const w = wrk(url);
    if (w !== undefined) {
      line('closed loop wrk req/s', w.toFixed(0));
      line('closed loop ratio throttlescope/wrk', `${(a / w).toFixed(2)}x`);
    } else line('closed loop wrk', 'not installed (skipped)');
    line('heap growth over the closed-loop rounds', `${((heapAfter - heapBefore) / 1048576).toFixed(1)} MB`);

    const t = performance.now();
    const { summary, run } = await runProbe({ urls: [url], rate: RATE, durationMs: SECONDS * 1000 });
    const elapsed = (performance.now() - t) / 1000;
    const expected = RATE * SECONDS;
    line(`open model ${RATE}/s sends (expected ${expected})`, String(summary.total));
    line('open model achieved rate req/s', (summary.total / SECONDS).toFixed(1));
    line('open model wall time incl. drain s', elapsed.toFixed(2));
    line('open model send lag p99 ms', String(run.sendLagP99Ms));
    line('open model latency p99 ms (from intended)', String(summary.latencyMs.p99));
    line('open model dropped sends', String(run.dropped));

    if (MEMORY_REQUESTS > 0) {
      global.gc?.();
      const before = process.memoryUsage();
      let peak = before.heapUsed;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }, 250);
      // Bounded by count and by time (10 minutes at most).
      const r = await runProbe({
        urls: [url],
        concurrency: CONNECTIONS,
        count: MEMORY_REQUESTS,
        durationMs: 600_000,
      });
      clearInterval(sampler);
      global.gc?.();
      const after = process.memoryUsage();
      line(
        `memory over ${r.summary.total} requests: heap growth`,
        `${((after.heapUsed - before.heapUsed) / 1048576).toFixed(1)} MB`,
      );
      line('memory: peak heap above start', `${((peak - before.heapUsed) / 1048576).toFixed(1)} MB`);
    }
  } finally {
    child.kill();
  }
}

await main();
