/**
 * Probe benchmark, loopback only, bounded in time. Against one local node:http server (in a child
 * process, so it shares no event loop with a client), in the same run:
 *   1. closed loop at 10 and 50 connections: autocannon (one process, its default) vs
 *      `throttlescope probe -c C` with --out (every request to requests.jsonl: the mode users run)
 *      and without; also, for reference, autocannon with 2 worker threads, and autocannon sending the
 *      probe's request headers (the server's work per request then matches the probe's), and a bare undici
 *      loop with the probe's headers (`undici`: the floor for any client built on undici, which the issue keeps
 *      as the probe's HTTP client). Each measurement is a
 *      fresh process (bench/probe-client.ts); rounds are interleaved (the order rotates each round)
 *      and medians reported, with the client's CPU time per request (less sensitive to the other
 *      processes on the machine than req/s) and the load average around the run;
 *   2. open model at 1,000 req/s with --out: achieved rate, send lag p99, lines written;
 *   3. (BENCH_MEMORY_REQUESTS) heap growth over that many closed-loop requests with --out.
 * Run: npm run bench probe
 * Env: BENCH_SECONDS (default 6), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default "10,50"; "" skips
 *      the closed loop),
 *      BENCH_CLIENTS (default "autocannon,probe-out,probe,undici,autocannon-headers,autocannon-w2"),
 *      BENCH_RATE (default 1000),
 *      BENCH_MEMORY_REQUESTS (e.g. 1000000).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProbe } from '../src/probe/runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const list = (text: string) => text.split(',').filter((x) => x !== '');
const CONNECTIONS = list(process.env.BENCH_CONNECTIONS ?? '10,50').map(Number);
const CLIENTS = list(
  process.env.BENCH_CLIENTS ?? 'autocannon,probe-out,probe,undici,autocannon-headers,autocannon-w2',
);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
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
  process.stdout.write(`${name.padEnd(46)} ${value}\n`);
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Measured {
  /** The server's CPU time per request over the run (Linux: /proc; NaN elsewhere). */
  serverCpuUs: number;
  requests: number;
  failed: number;
  seconds: number;
  cpuUs: number;
  lines?: number;
  rps: number;
}

/** CPU seconds a process has used (user + system), from /proc (clock ticks of 1/100 s); NaN off Linux. */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

let serverPid: number | undefined;

/** One client run in its own process; bounded by its duration plus a margin. */
function measure(client: string, url: string, connections: number, seconds: number, dir: string): Measured {
  const args = ['--import', 'tsx', join(here, 'probe-client.ts')];
  if (client === 'autocannon') args.push('autocannon', url, String(connections), String(seconds));
  else if (client === 'autocannon-headers')
    args.push('autocannon-headers', url, String(connections), String(seconds));
  else if (client === 'autocannon-w2')
    args.push('autocannon', url, String(connections), String(seconds), '2');
  else if (client === 'undici') args.push('undici', url, String(connections), String(seconds));
  else if (client === 'probe') args.push('probe', url, String(connections), String(seconds));
  else if (client === 'probe-out') {
    rmSync(dir, { recursive: true, force: true });
    args.push('probe', url, String(connections), String(seconds), dir);
  } else throw new Error(`unknown client ${client}`);
  const serverBefore = cpuSecondsOf(serverPid);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  const serverSeconds = cpuSecondsOf(serverPid) - serverBefore;
  if (r.status !== 0) throw new Error(`${client} failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Omit<Measured, 'rps' | 'serverCpuUs'>;
  if (m.lines !== undefined && m.lines !== m.requests) {
    throw new Error(`${client}: requests.jsonl has ${m.lines} lines for ${m.requests} requests`);
  }
  return { ...m, rps: m.requests / m.seconds, serverCpuUs: (serverSeconds * 1e6) / m.requests };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  const { url, child } = await startServer();
  serverPid = child.pid;
  const dir = mkdtempSync(join(tmpdir(), 'ts-probe-bench-'));
  try {
    line('bench', `probe, loopback ${url}, ${SECONDS}s per measurement, ${ROUNDS} interleaved rounds`);
    line('load average at start (1 5 15 min)', load());
    // Warm the server (its JIT) so the first client measured is not the one that pays for it.
    measure('autocannon', url, 10, 2, dir);

    const runs = new Map<string, Measured[]>();
    for (let round = 0; round < (CONNECTIONS.length > 0 ? ROUNDS : 0); round++) {
      for (const c of CONNECTIONS) {
        // Rotate the order each round: no client always runs first (or right after another).
        const order = CLIENTS.map((_, i) => CLIENTS[(i + round) % CLIENTS.length]!);
        for (const client of order) {
          const m = measure(client, url, c, SECONDS, join(dir, 'out'));
          const key = `${client}@${c}`;
          runs.set(key, [...(runs.get(key) ?? []), m]);
          if (m.failed > 0) line(`  (${key}: failures)`, String(m.failed));
        }
      }
      line(`load average after round ${round + 1}`, load());
    }

    for (const c of CONNECTIONS) {
      process.stdout.write(`\n-- closed loop, ${c} connections (median of ${ROUNDS}; rounds in brackets)\n`);
      const med = (client: string) => {
        const list = runs.get(`${client}@${c}`) ?? [];
        return {
          rps: median(list.map((x) => x.rps)),
          cpu: median(list.map((x) => x.cpuUs)),
          server: median(list.map((x) => x.serverCpuUs)),
          list,
        };
      };
      const peer = med('autocannon');
      for (const client of CLIENTS) {
        const m = med(client);
        const rounds = m.list.map((x) => x.rps.toFixed(0)).join(' ');
        const cpus = m.list.map((x) => x.cpuUs.toFixed(1)).join(' ');
        line(`${client} req/s`, `${m.rps.toFixed(0)}  [${rounds}]`);
        line(`${client} client CPU µs/request`, `${m.cpu.toFixed(1)}  [${cpus}]`);
        // Counted in whole 10 ms ticks over the run (the client's start-up included): a rough figure.
        line(`${client} server CPU µs/request`, m.server.toFixed(1));
        if (client !== 'autocannon') {
          line(`${client}/autocannon req/s ratio (of medians)`, `${(m.rps / peer.rps).toFixed(2)}x`);
          // Per round: each client against the autocannon run of the same round.
          const perRound = m.list.map((x, i) => (x.rps / (peer.list[i]?.rps ?? Number.NaN)).toFixed(2));
          line(`${client}/autocannon per round`, perRound.join(' '));
        }
        const lines = m.list.map((x) => x.lines).filter((x) => x !== undefined);
        if (lines.length > 0) line(`${client} requests.jsonl lines = total`, 'yes, every round');
      }
    }

    process.stdout.write('\n');
    line('open model (with --out), load average', load());
    const t = performance.now();
    const openOut = join(dir, 'open');
    const { summary, run } = await runProbe({
      urls: [url],
      rate: RATE,
      durationMs: SECONDS * 1000,
      outDir: openOut,
    });
    const elapsed = (performance.now() - t) / 1000;
    const openLines = readFileSync(join(openOut, 'requests.jsonl'), 'utf8').split('\n').length - 1;
    line(`open model ${RATE}/s sends (expected ${RATE * SECONDS})`, String(summary.total));
    line('open model achieved rate req/s', (summary.total / SECONDS).toFixed(1));
    line('open model wall time incl. drain s', elapsed.toFixed(2));
    line('open model send lag p99 ms', String(run.sendLagP99Ms));
    line('open model latency p99 ms (from intended)', String(summary.latencyMs.p99));
    line('open model dropped sends', String(run.dropped));
    line(
      'open model requests.jsonl lines = total',
      `${openLines} = ${summary.total}: ${openLines === summary.total}`,
    );

    if (MEMORY_REQUESTS > 0) {
      const out = join(dir, 'memory');
      global.gc?.();
      const before = process.memoryUsage();
      let peak = before.heapUsed;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }, 250);
      // Bounded by count and by time (10 minutes at most).
      const r = await runProbe({
        urls: [url],
        concurrency: 50,
        count: MEMORY_REQUESTS,
        durationMs: 600_000,
        outDir: out,
      });
      clearInterval(sampler);
      global.gc?.();
      const after = process.memoryUsage();
      const lines = readFileSync(join(out, 'requests.jsonl'), 'utf8').split('\n').length - 1;
      line(
        `memory over ${r.summary.total} requests (--out, 50 conn.): heap growth`,
        `${((after.heapUsed - before.heapUsed) / 1048576).toFixed(1)} MB`,
      );
      line('memory: peak heap above start', `${((peak - before.heapUsed) / 1048576).toFixed(1)} MB`);
      line(
        'memory: requests.jsonl lines = total',
        `${lines} = ${r.summary.total}: ${lines === r.summary.total}`,
      );
    }
    line('load average at end (1 5 15 min)', load());
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
