/**
 * The lab's CloudFront edge: requests per second through the distribution vs straight to the ALB,
 * in the same lab, under the same load generator (autocannon, programmatic API, its load in a
 * worker thread), in interleaved rounds (ALB, edge, ALB, edge, ...; 5 rounds of ~5 s each way by
 * default) so that other work on the shared machine hits both alike; the ratio is the median of
 * the rounds' ratios (a round's own ratio varies by about +-0.03 here: five rounds steady the
 * median more than three did). The distribution is set up as the built-in noisy-neighbour's:
 * dynamic pages not cached (minimum and default TTL 0), standard logs on, so every viewer request
 * goes through the edge to the ALB, the mode the built-in runs in. A trivial synthetic function
 * (duration 0) answers. Goal (issue 15): at least 0.8x of the ALB's req/s through the edge.
 * Per round it also prints the lab's main-thread time per request, as event-loop busy time and
 * (on Linux) as CPU time, which leaves out waits for a CPU taken by other processes; with the
 * main thread saturated, their ratio is what the req/s ratio tends to on a quiet machine.
 * Run: npm run bench cloudfront-lab, or node --import tsx bench/cloudfront-lab.bench.ts [seconds] [rounds]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { disableAllocationSitePretenuring, startLab } from '../src/lab/index.js';
import { validateScenario } from '../src/lab/scenario.js';

// As the `lab` and `demo` commands run it (see src/lab/v8-tuning.ts).
disableAllocationSitePretenuring();

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const seconds = Number(process.argv[2] ?? 5);
const rounds = Math.max(1, Math.min(10, Number(process.argv[3] ?? 5)));
const connections = 32;
/**
 * The main thread's CPU time so far in ns (Linux: /proc/self/task/<pid>/schedstat), else
 * undefined. Unlike the event loop's busy time it leaves out the time the thread waited for a CPU
 * while other processes ran, so it varies least with the machine's other work.
 */
function mainThreadCpuNs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}
type Measured = AutocannonResult & { busyUs: number; cpuUs: number | undefined };
/** The load, and the lab's main-thread busy time per request (event-loop utilisation), which other work on the machine skews less than req/s, and its CPU time per request. */
async function load(url: string): Promise<Measured> {
  const before = performance.eventLoopUtilization();
  const cpuBefore = mainThreadCpuNs();
  const r = await autocannon({ url, connections, duration: seconds, workers: 1 });
  const elu = performance.eventLoopUtilization(before);
  const cpuAfter = mainThreadCpuNs();
  const n = Math.max(1, r.requests.total);
  return {
    ...r,
    busyUs: (elu.active * 1000) / n,
    cpuUs: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / 1000 / n,
  };
}
const loadAverage = () => loadavg()[0]!.toFixed(2);
const line = (name: string, r: Measured) =>
  `${name.padEnd(30)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  main thread ${r.busyUs.toFixed(1)} µs/req${r.cpuUs === undefined ? '' : ` (CPU ${r.cpuUs.toFixed(1)})`}  non-2xx ${r.non2xx}  errors ${r.errors}`;

const scenario = validateScenario({
  name: 'bench-cloudfront',
  functions: [
    {
      name: 'f',
      timeout: 30,
      synthetic: {
        duration: { kind: 'fixed', value: 0 },
        responseBytes: 512,
        contentType: 'application/json',
      },
    },
  ],
  loadBalancer: {
    name: 'bench-alb',
    targetGroups: [{ name: 'tg', function: 'f' }],
    defaultTargetGroup: 'tg',
  },
  cloudfront: {
    defaultCacheBehavior: { cachePolicy: { minTTL: 0, defaultTTL: 0 } },
    logging: { bucket: 'bench-cf-logs' },
  },
});

const lab = await startLab(scenario);
try {
  process.stdout.write(
    `lab CloudFront edge vs the lab ALB directly, autocannon ${connections} connections, ${rounds} interleaved rounds of ${seconds} s each way (load average ${loadAverage()})\n`,
  );
  // Warm both paths (connections, JIT) before measuring.
  await autocannon({ url: `${lab.cloudfront!.url}/api`, connections, duration: 1, workers: 1 });
  await autocannon({ url: `${lab.albUrl}/api`, connections, duration: 1, workers: 1 });
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const alb = await load(`${lab.albUrl}/api`);
    process.stdout.write(`${line(`round ${round}: ALB directly`, alb)}\n`);
    const cf = await load(`${lab.cloudfront!.url}/api`);
    process.stdout.write(`${line(`round ${round}: through CloudFront`, cf)}\n`);
    const ratio = cf.requests.average / alb.requests.average;
    ratios.push(ratio);
    process.stdout.write(
      `round ${round}: ratio ${ratio.toFixed(2)}x, main thread ${(alb.busyUs / cf.busyUs).toFixed(2)}x${alb.cpuUs === undefined || cf.cpuUs === undefined ? '' : `, main-thread CPU ${(alb.cpuUs / cf.cpuUs).toFixed(2)}x`} (load average ${loadAverage()})\n`,
    );
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
  const st = lab.snapshot().cloudfront!;
  process.stdout.write(
    `ratio CloudFront/ALB, median of ${rounds} rounds: ${median.toFixed(2)}x (goal >= 0.8x) ${median >= 0.8 ? 'ok' : 'BELOW GOAL'}\n` +
      `(edge: ${st.requests} viewer requests, ${st.originRequests} to the origin, ${st.logLinesPending + st.logLinesDelivered} log lines; load average now ${loadAverage()})\n`,
  );
} finally {
  await lab.close();
}
