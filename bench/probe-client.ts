/**
 * One measured client run for bench/probe.bench.ts, in a process of its own (a fresh heap and JIT,
 * and no other client's garbage or timers in the way). Prints one JSON line:
 * { requests, seconds, cpuUs, lines? } where cpuUs is this process's CPU time (user + system, all
 * threads) per request over the run only (not module loading).
 *   node --import tsx bench/probe-client.ts probe URL CONNECTIONS SECONDS [OUT_DIR]
 *   node --import tsx bench/probe-client.ts autocannon URL CONNECTIONS SECONDS [WORKERS]
 *   node --import tsx bench/probe-client.ts autocannon-headers URL CONNECTIONS SECONDS
 *   node --import tsx bench/probe-client.ts undici URL CONNECTIONS SECONDS
 * `autocannon-headers` sends the probe's request as undici writes it: its `connection: keep-alive` and an
 * X-Amzn-Trace-Id header of the same length (fixed, as autocannon repeats one request), so the server
 * does the same work per request as for the probe.
 * `undici` is the floor the "undici stays the HTTP client" sets: one undici Client per connection, each
 * sending its next request from the callback that ends the previous one (as the probe's closed loop does),
 * the probe's headers, undici's timers off, and nothing else: no trace id per request, no timing, no record.
 * `probe` runs the CLI command users run (`throttlescope probe URL -c C -d Ss --json [--out DIR]`,
 * progress lines included) and, with --out, counts the lines of requests.jsonl.
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CliContext } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';

const [kind, url, connectionsText, secondsText, extra] = process.argv.slice(2);
const connections = Number(connectionsText);
const seconds = Number(secondsText);

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

async function probe(): Promise<void> {
  let stdout = '';
  const ctx: CliContext = {
    stdout: {
      write: (s: string) => {
        stdout += s;
        return true;
      },
    },
    stderr: { write: () => true, isTTY: false },
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    signal: new AbortController().signal,
  };
  const argv = ['probe', url!, '-c', String(connections), '-d', `${seconds}s`, '--json'];
  if (extra) argv.push('--out', extra);
  // Loaded (and transpiled by tsx) before the clock starts, as autocannon's module is.
  await import('../src/cli/commands/probe.js');
  const cpu = process.cpuUsage();
  const code = await main(argv, ctx);
  const used = process.cpuUsage(cpu);
  if (code !== 0) throw new Error(`probe exited ${code}`);
  const doc = JSON.parse(stdout) as { total: number; failed: number; run: { elapsedMs: number } };
  const lines = extra ? await countLines(join(extra, 'requests.jsonl')) : undefined;
  process.stdout.write(
    `${JSON.stringify({
      requests: doc.total,
      failed: doc.failed,
      seconds: doc.run.elapsedMs / 1000,
      cpuUs: (used.user + used.system) / doc.total,
      lines,
    })}\n`,
  );
}

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

/** The headers the probe sends besides `host` (see the file comment). */
const PROBE_HEADERS = {
  connection: 'keep-alive',
  'x-amzn-trace-id': 'Root=1-6b140770-b9e9dde0ac3b116d8f3e20f1',
};

async function autocannon(withProbeHeaders: boolean): Promise<void> {
  const run = createRequire(import.meta.url)('autocannon') as Autocannon;
  const workers = extra ? Number(extra) : 0;
  const cpu = process.cpuUsage();
  const r = await run({
    url,
    connections,
    duration: seconds,
    ...(workers > 0 ? { workers } : {}),
    ...(withProbeHeaders ? { headers: PROBE_HEADERS } : {}),
  });
  const used = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({
      requests: r.requests.total,
      failed: r.errors + r.non2xx,
      seconds: r.duration,
      cpuUs: (used.user + used.system) / r.requests.total,
    })}\n`,
  );
}

/** A bare undici loop: the cheapest way undici's dispatch API sends these requests (see the file comment). */
async function bareUndici(): Promise<void> {
  const { Client } = await import('undici');
  const headers = Object.entries(PROBE_HEADERS)
    .filter(([name]) => name !== 'connection')
    .flat();
  const { origin, pathname } = new URL(url!);
  const request = { path: pathname, method: 'GET', headers };
  let requests = 0;
  let failed = 0;
  let running = connections;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const clients = Array.from({ length: connections }, () => {
    const client = new Client(origin, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
    const handler = {
      status: 0,
      onConnect() {},
      onHeaders(status: number) {
        handler.status = status;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        requests++;
        if (handler.status !== 200) failed++;
        next();
      },
      onError() {
        failed++;
        next();
      },
    };
    const next = () => {
      if (performance.now() < deadline) client.dispatch(request, handler);
      else if (--running === 0) finish();
    };
    next();
    return client;
  });
  await finished;
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await Promise.all(clients.map((c) => c.destroy()));
  process.stdout.write(
    `${JSON.stringify({ requests, failed, seconds: elapsed, cpuUs: (used.user + used.system) / requests })}\n`,
  );
}

if (kind === 'probe') await probe();
else if (kind === 'undici') await bareUndici();
else if (kind === 'autocannon') await autocannon(false);
else if (kind === 'autocannon-headers') await autocannon(true);
else throw new Error(`unknown client ${kind}`);
