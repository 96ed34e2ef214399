/**
 * The lab's ALB front vs a plain node:http server returning the same bytes, under the same load
 * generator (autocannon, programmatic API, its load in a worker thread), one run each, ~5 s.
 * 1. a trivial synthetic function (no timer: duration 0);
 * 2. a real handler module in worker threads.
 * Goals (issue 3): at least 0.5x of the plain server with the synthetic function, 0.3x with the
 * worker-thread handler. Loopback only.
 * Run: node --import tsx bench/lab.bench.ts [seconds]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { disableAllocationSitePretenuring, startLab } from '../src/lab/index.js';
import { validateScenario } from '../src/lab/scenario.js';

// As the `lab` and `demo` commands run it (see src/lab/v8-tuning.ts).
disableAllocationSitePretenuring();

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const seconds = Number(process.argv[2] ?? 5);
const connections = 32;
const BODY = 'ok';

async function load(url: string): Promise<AutocannonResult> {
  return autocannon({ url, connections, duration: seconds, workers: 1 });
}

async function plainServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const body = Buffer.from(BODY);
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** 1-minute load average: other work on the machine skews the figures. */
const loadAverage = () => loadavg()[0]!.toFixed(2);

function line(name: string, r: AutocannonResult): string {
  return `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  non-2xx ${r.non2xx}  errors ${r.errors}`;
}

async function labWith(fn: Record<string, unknown>, baseDir: string) {
  const scenario = validateScenario(
    {
      name: 'bench',
      functions: [{ name: 'f', timeout: 30, ...fn }],
      loadBalancer: {
        name: 'bench-alb',
        targetGroups: [{ name: 'tg', function: 'f' }],
        defaultTargetGroup: 'tg',
      },
    },
    { baseDir },
  );
  return startLab(scenario);
}

const dir = await mkdtemp(join(tmpdir(), 'lab-bench-'));
try {
  await writeFile(
    join(dir, 'trivial.mjs'),
    `export const handler = async () => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(BODY)} });\n`,
  );
  process.stdout.write(
    `lab ALB front vs plain node:http, autocannon ${connections} connections, ${seconds} s each` +
      ` (load average ${loadAverage()})\n`,
  );

  const plain = await plainServer();
  const base = await load(plain.url);
  await plain.close();
  process.stdout.write(`${line('plain node:http', base)}\n`);

  const synth = await labWith(
    {
      synthetic: {
        duration: { kind: 'fixed', value: 0 },
        responseBytes: BODY.length,
        contentType: 'text/plain',
      },
    },
    dir,
  );
  const s = await load(`${synth.albUrl}/`);
  const sLines = synth.snapshot().alb.requests;
  await synth.close();
  process.stdout.write(`${line('lab ALB + synthetic function', s)}\n`);

  const worker = await labWith({ handler: { module: 'trivial.mjs', maxWorkers: 4 } }, dir);
  const w = await load(`${worker.albUrl}/`);
  await worker.close();
  process.stdout.write(`${line('lab ALB + worker-thread handler', w)}\n`);

  const rs = s.requests.average / base.requests.average;
  const rw = w.requests.average / base.requests.average;
  process.stdout.write(
    `ratio synthetic/plain ${rs.toFixed(2)}x (goal >= 0.5x) ${rs >= 0.5 ? 'ok' : 'BELOW GOAL'}\n` +
      `ratio worker/plain    ${rw.toFixed(2)}x (goal >= 0.3x) ${rw >= 0.3 ? 'ok' : 'BELOW GOAL'}\n` +
      `(the synthetic run logged ${sLines} requests; load average now ${loadAverage()})\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
