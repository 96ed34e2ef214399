/**
 * Log engine vs its peers on the same files, in one run: `throttlescope logs --json`, GoAccess
 * (--log-format=AWSALB, Debian's goaccess) and DuckDB (read_csv + GROUP BY through @duckdb/node-api),
 * each the median of BENCH_LOG_ROUNDS interleaved rounds.
 * Generates LINES realistic entries (default 1,000,000; BENCH_LOG_LINES to change) with our own
 * writer, gzip, in the AWS key layout, cached under .bench-data/. Reports wall time, peak RSS
 * (GNU time) and ratios, then times the line engines alone (parser vs projection scanner) in this
 * process. Nothing is asserted: the figures go to docs/performance.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { formatAlbLine } from '../src/logs/format-line.js';
import { albRecord } from '../src/logs/record.js';
import { albLogKey } from '../src/logs/s3-key.js';
import { benchLcg, machineLine } from './log-data.js';
import { interleavedRounds, type PeerTool, printRuns } from './peer-rounds.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const dataDir = join(root, '.bench-data', `alb-${LINES}`);
const PER_FILE = 20_000;

function generate(): void {
  if (existsSync(join(dataDir, '.complete'))) return;
  mkdirSync(dataDir, { recursive: true });
  const start = Date.parse('2026-11-24T00:00:00Z');
  const reasons = ['LambdaThrottling', 'LambdaUnhandled', 'LambdaInvalidResponse'];
  const paths = ['/api/cart', '/api/items', '/', '/checkout', '/api/search', '/static/app.js'];
  const tgs = ['api/73e2d6bc24d8a067', 'web/0a1b2c3d4e5f6789', 'search/1234abcd5678ef90'];
  const next = benchLcg(42);
  let bytes = 0;
  for (let f = 0; f * PER_FILE < LINES; f++) {
    const lines: string[] = [];
    for (let i = 0; i < PER_FILE && f * PER_FILE + i < LINES; i++) {
      const ms = start + (f * PER_FILE + i) * 20;
      const failed = next() < 0.2;
      const reason = failed ? (reasons[Math.floor(next() * 3)] as string) : null;
      const iso = (t: number) => new Date(t).toISOString().replace('Z', '417Z');
      lines.push(
        formatAlbLine(
          albRecord({
            type: 'https',
            time: iso(ms),
            elb: 'app/shop/50dc6c495c0c9188',
            client: `203.0.113.${Math.floor(next() * 250)}`,
            clientPort: 1024 + Math.floor(next() * 60000),
            requestProcessingTime: 0,
            targetProcessingTime: failed ? null : Math.round(next() * 300) / 1000,
            responseProcessingTime: failed ? null : 0,
            elbStatusCode: failed ? 502 : 200,
            targetStatusCode: failed ? null : 200,
            receivedBytes: 200 + Math.floor(next() * 400),
            sentBytes: failed ? 277 : 500 + Math.floor(next() * 5000),
            request: `GET https://shop.example.com:443${paths[Math.floor(next() * paths.length)]}?id=${Math.floor(next() * 1e6)} HTTP/1.1`,
            userAgent:
              'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
            sslCipher: 'ECDHE-RSA-AES128-GCM-SHA256',
            sslProtocol: 'TLSv1.2',
            targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${tgs[Math.floor(next() * 3)]}`,
            traceId: `Root=1-${Math.floor(ms / 1000).toString(16)}-${Math.floor(next() * 2 ** 48)
              .toString(16)
              .padStart(24, '0')}`,
            domainName: 'shop.example.com',
            chosenCertArn:
              'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
            matchedRulePriority: 1,
            requestCreationTime: iso(ms - 15),
            actionsExecuted: 'forward',
            errorReason: reason,
            connTraceId: 'TID_0123456789abcdef0123456789abcdef',
          }),
        ),
      );
    }
    const text = `${lines.join('\n')}\n`;
    bytes += text.length;
    const key = albLogKey({
      prefix: '',
      accountId: '123456789012',
      region: 'eu-west-1',
      loadBalancerName: 'shop',
      loadBalancerId: '50dc6c495c0c9188',
      endMs: start + (f + 1) * PER_FILE * 20,
      nodeIp: '10.0.1.17',
      random: `r${f.toString(36)}`,
    });
    const path = join(dataDir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, gzipSync(text, { level: 6 }));
  }
  writeFileSync(join(dataDir, '.complete'), String(bytes));
}

function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.log.gz'))
    .map((f) => join(dir, f));
}

generate();
const all = files(dataDir);
const gzBytes = all.reduce((n, f) => n + statSync(f).size, 0);
console.log(machineLine());
console.log(
  `data: ${LINES.toLocaleString('en-US')} lines in ${all.length} gzip files (${(gzBytes / 1e6).toFixed(0)} MB gz)`,
);

spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

const ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 3);
const outDir = join(root, '.bench-data', 'out');
mkdirSync(outDir, { recursive: true });
const tools: PeerTool[] = [
  {
    name: 'throttlescope logs --json',
    shell: `node ${join(root, 'bin/throttlescope.js')} logs ${dataDir} --json > ${outDir}/ours.json`,
  },
];
const goaccess = spawnSync('bash', ['-c', 'command -v goaccess'], { encoding: 'utf8' }).stdout.trim();
if (goaccess) {
  tools.push({
    name: 'goaccess --log-format=AWSALB',
    shell: `find ${dataDir} -name '*.log.gz' -print0 | sort -z | xargs -0 zcat | ${goaccess} - --log-format=AWSALB --no-progress -o ${outDir}/goaccess.json > /dev/null`,
  });
} else console.log('goaccess: not installed (apt-get install goaccess) - skipped');

// DuckDB reads the same files with read_csv (every column text, as the log has no header). Two
// queries: the summary `logs --json` gives (status, reason, target group x reason, minute x status,
// minute x reason, failing paths: one GROUPING SETS query), which is the comparison the goal is
// judged on, and status x reason alone, the least a group-by can do, for reference.
const duckScript = join(root, '.bench-data', 'duck.mjs');
const cols = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`c${i}`, 'VARCHAR']));
const source = `read_csv('${dataDir}/**/*.log.gz', delim=' ', quote='"', escape='\\', header=false, columns=${JSON.stringify(cols).replace(/"/g, "'")}, auto_detect=false)`;
const sameSummary = `SELECT status, reason, tg, minute, path, count(*) AS n FROM (
  SELECT c8 AS status, nullif(c24, '-') AS reason, split_part(c16, ':', 6) AS tg,
    substr(c1, 1, 16) AS minute,
    CASE WHEN c8 >= '500' THEN regexp_extract(c12, '^\\S+ (?:[a-z]+://[^/ ]+)?(/[^? ]*)', 1) END AS path
  FROM ${source})
GROUP BY GROUPING SETS ((status), (reason), (tg, reason), (minute, status), (minute, reason), (path))`;
const minimal = `SELECT c8 AS status, c24 AS reason, count(*) AS n FROM ${source} GROUP BY ALL`;
writeFileSync(
  duckScript,
  `import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const query = process.argv[2] === 'minimal' ? ${JSON.stringify(minimal)} : ${JSON.stringify(sameSummary)};
const r = await c.runAndReadAll(query);
console.log(JSON.stringify(r.getRowObjectsJson()));
`,
);
tools.push({
  name: 'duckdb, same summary',
  shell: `cd ${root} && node ${duckScript} same > ${outDir}/duckdb.json`,
});
tools.push({
  name: 'duckdb, status x reason',
  shell: `cd ${root} && node ${duckScript} minimal > /dev/null`,
});

const runs = interleavedRounds(tools, ROUNDS);

// Both summaries must say the same thing, or the comparison means nothing.
try {
  const ourSummary = JSON.parse(readFileSync(join(outDir, 'ours.json'), 'utf8')) as {
    lines: number;
    byElbStatus: Record<string, number>;
    byErrorReason: Record<string, number>;
    series: unknown[];
  };
  const duck = JSON.parse(readFileSync(join(outDir, 'duckdb.json'), 'utf8')) as Record<
    string,
    string | null
  >[];
  const byStatus: Record<string, number> = {};
  const byReason: Record<string, number> = {};
  let minutes = 0;
  for (const row of duck) {
    const only = (k: string) =>
      ['status', 'reason', 'tg', 'minute', 'path'].every((c) => (c === k) === (row[c] !== null));
    if (only('status')) byStatus[row.status as string] = Number(row.n);
    if (only('reason')) byReason[row.reason as string] = Number(row.n);
    if (row.minute !== null && row.status !== null) minutes++;
  }
  const same =
    JSON.stringify(Object.entries(byStatus).sort()) ===
      JSON.stringify(Object.entries(ourSummary.byElbStatus).sort()) &&
    JSON.stringify(Object.entries(byReason).sort()) ===
      JSON.stringify(Object.entries(ourSummary.byErrorReason).sort());
  console.log(
    `answers: ${same ? 'the same' : 'DIFFERENT'} counts by status and error reason (ours ${ourSummary.lines.toLocaleString('en-US')} lines, ${ourSummary.series.length} minutes; duckdb ${minutes} minute x status rows)`,
  );
} catch (e) {
  console.log(`answers: not compared (${(e as Error).message})`);
}

printRuns(runs, LINES, ROUNDS);

// The line engines alone, in this process, on the lines of the first files (decompressed first):
// the full parser (records, --records), the JavaScript projection scanner and the WebAssembly
// scanner (aggregation; the JavaScript one needs the bytes decoded into strings first, timed on its
// own line). The built modules are timed, as the CLI runs them.
{
  const dist = (m: string) => pathToFileURL(join(root, 'dist', 'logs', m)).href;
  const { parseAlbLine } = (await import(
    dist('parse-line.js')
  )) as typeof import('../src/logs/parse-line.js');
  const { AlbLineScanner } = (await import(
    dist('scan-line.js')
  )) as typeof import('../src/logs/scan-line.js');
  const { LogAggregator } = (await import(dist('aggregate.js'))) as typeof import('../src/logs/aggregate.js');
  const { WasmBlockScanner } = (await import(
    dist('wasm-scanner.js')
  )) as typeof import('../src/logs/wasm-scanner.js');
  const blocks: string[] = [];
  const files: Buffer[] = [];
  let lines = 0;
  for (const f of all.slice(0, 10)) {
    const bytes = gunzipSync(readFileSync(f));
    files.push(bytes);
    for (let s = 0; s < bytes.length; ) {
      const e = bytes.lastIndexOf(10, Math.min(bytes.length, s + 65536) - 1) + 1 || bytes.length;
      const text = bytes.toString('utf8', s, e);
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      blocks.push(text);
      s = e;
    }
  }
  const scanner = new AlbLineScanner();
  const engines: [
    string,
    (text: string, from: number, to: number, agg: InstanceType<typeof LogAggregator>) => void,
  ][] = [
    ['parseAlbLine (record)', (t, a, b) => parseAlbLine(t.slice(a, b))],
    ['AlbLineScanner (projection)', (_t, a, b) => scanner.scan(a, b)],
    ['parseAlbLine + aggregate', (t, a, b, agg) => agg.add(parseAlbLine(t.slice(a, b)))],
    ['AlbLineScanner + aggregate', (_t, a, b, agg) => agg.add(scanner.scan(a, b))],
  ];
  const best = new Map<string, number>();
  for (let round = 0; round < 5; round++) {
    for (const [name, run] of engines) {
      const agg = new LogAggregator();
      const t0 = performance.now();
      for (const text of blocks) {
        scanner.setText(text);
        let p = 0;
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', p)) {
          run(text, p, i, agg);
          p = i + 1;
        }
      }
      const us = ((performance.now() - t0) * 1000) / lines;
      best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, us));
    }
    const wasm = WasmBlockScanner.create();
    if (wasm === null) throw new Error('the WebAssembly scanner is not built (npm run build)');
    const byteEngines: [string, (agg: InstanceType<typeof LogAggregator>) => void][] = [
      ["UTF-8 decode (the JavaScript scanner's input)", () => files.forEach(decodeBlocks)],
      ['WasmBlockScanner (from bytes)', () => scanBytes(wasm, () => {})],
      ['WasmBlockScanner + aggregate', (agg) => scanBytes(wasm, (f) => agg.add(f))],
    ];
    for (const [name, run] of byteEngines) {
      const t0 = performance.now();
      run(new LogAggregator());
      const us = ((performance.now() - t0) * 1000) / lines;
      best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, us));
    }
  }
  function decodeBlocks(bytes: Buffer): void {
    for (let s = 0; s < bytes.length; ) {
      const e = bytes.lastIndexOf(10, Math.min(bytes.length, s + 65536) - 1) + 1 || bytes.length;
      bytes.toString('utf8', s, e);
      s = e;
    }
  }
  function scanBytes(
    wasm: NonNullable<ReturnType<typeof WasmBlockScanner.create>>,
    fields: (f: import('../src/logs/scan-line.js').AlbLineFields) => void,
  ): void {
    const sink = { fields, empty() {}, other() {} };
    for (const bytes of files) wasm.read(bytes, 0, bytes.length, sink);
  }
  console.log(`\nline engines on ${lines.toLocaleString('en-US')} decompressed lines (best of 5)   µs/line`);
  for (const [name, us] of best) console.log(`${name.padEnd(48)} ${us.toFixed(2).padStart(8)}`);
}
