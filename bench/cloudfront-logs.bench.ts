/**
 * CloudFront standard-log summary vs its peers on the same files, in one run:
 * `throttlescope logs --json` (its `cloudfront` key), GoAccess (--log-format=CLOUDFRONT, Debian's
 * goaccess) and DuckDB (read_csv + GROUPING SETS through @duckdb/node-api computing the same
 * summary), each the median of BENCH_LOG_ROUNDS interleaved rounds, with peak RSS (GNU time).
 * Generates LINES entries (default 1,000,000; BENCH_LOG_LINES) with our own writer, gzip, with the
 * #Version/#Fields header, named in CloudFront's key layout, cached under .bench-data/. Then times
 * the line engines alone (full parser vs the summary's scan). Nothing is asserted: the figures go
 * to docs/performance.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { cloudFrontFileHeader } from '../src/logs/cloudfront/fields.js';
import { formatCloudFrontLine } from '../src/logs/cloudfront/format-line.js';
import { cloudFrontDateTime, cloudFrontRecord } from '../src/logs/cloudfront/record.js';
import { cloudFrontLogKey } from '../src/logs/cloudfront/s3-key.js';
import { benchLcg, machineLine } from './log-data.js';
import { interleavedRounds, type PeerTool, printRuns } from './peer-rounds.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const dataDir = join(root, '.bench-data', `cloudfront-${LINES}`);
const PER_FILE = 20_000;
const DISTRIBUTION = 'E2QWRUHAPOMQZL';

function generate(): void {
  if (existsSync(join(dataDir, '.complete'))) return;
  mkdirSync(dataDir, { recursive: true });
  const start = Date.parse('2026-11-24T00:00:00Z');
  const paths = ['/api/cart', '/api/items', '/', '/checkout', '/api/search', '/static/app.js'];
  const edges = ['FRA56-P4', 'FRA60-P1', 'AMS58-P2', 'LHR61-P3', 'IAD79-C1', 'CDG52-P1'];
  const next = benchLcg(42);
  let bytes = 0;
  for (let f = 0; f * PER_FILE < LINES; f++) {
    const lines: string[] = [];
    const first = start + f * PER_FILE * 50;
    for (let i = 0; i < PER_FILE && f * PER_FILE + i < LINES; i++) {
      const ms = first + i * 50;
      const roll = next();
      // 70% cache misses answered 200, 8% hits, 15% origin 502s passed on or replayed, 3%
      // CloudFront's own 504 (origin timeout), the rest 304 revalidations.
      const [status, result, detail] =
        roll < 0.7
          ? [200, 'Miss', 'Miss']
          : roll < 0.78
            ? [200, 'Hit', 'Hit']
            : roll < 0.93
              ? [502, 'Error', 'Error']
              : roll < 0.96
                ? [504, 'Error', 'OriginCommError']
                : [304, 'RefreshHit', 'RefreshHit'];
      const { date, time } = cloudFrontDateTime(ms);
      const failed = status >= 500;
      lines.push(
        formatCloudFrontLine(
          cloudFrontRecord({
            date,
            time,
            edgeLocation: edges[Math.floor(next() * edges.length)] as string,
            scBytes: failed ? 915 : 500 + Math.floor(next() * 5000),
            clientIp: `203.0.113.${Math.floor(next() * 250)}`,
            method: 'GET',
            host: 'd111111abcdef8.cloudfront.net',
            uriStem: paths[Math.floor(next() * paths.length)] as string,
            status,
            referer: 'https://shop.example.com/',
            userAgent:
              'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
            uriQuery: `id=${Math.floor(next() * 1e6)}`,
            resultType: result,
            requestId: `${Math.floor(next() * 2 ** 48).toString(36)}Q${Math.floor(next() * 2 ** 48).toString(36)}==`,
            hostHeader: 'shop.example.com',
            protocol: 'https',
            csBytes: 200 + Math.floor(next() * 400),
            timeTaken: failed ? 0.002 : Math.round(next() * 300) / 1000,
            sslProtocol: 'TLSv1.3',
            sslCipher: 'TLS_AES_128_GCM_SHA256',
            responseResultType: result,
            protocolVersion: 'HTTP/2.0',
            clientPort: 1024 + Math.floor(next() * 60000),
            timeToFirstByte: failed ? 0.002 : Math.round(next() * 300) / 1000,
            detailedResultType: detail,
            contentType: failed ? 'text/html' : 'application/json',
            contentLength: failed ? 612 : 400 + Math.floor(next() * 4000),
          }),
        ),
      );
    }
    const text = `${cloudFrontFileHeader()}${lines.join('\n')}\n`;
    bytes += text.length;
    const key = cloudFrontLogKey({
      prefix: 'cf-logs',
      distributionId: DISTRIBUTION,
      hourMs: first - (first % 3_600_000),
      unique: `U${f.toString(36).toUpperCase()}`,
    });
    const path = join(dataDir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, gzipSync(text, { level: 6 }));
  }
  writeFileSync(join(dataDir, '.complete'), String(bytes));
}

generate();
const all = (readdirSync(dataDir, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.gz'))
  .map((f) => join(dataDir, f));
const gzBytes = all.reduce((n, f) => n + statSync(f).size, 0);
const rawBytes = Number(readFileSync(join(dataDir, '.complete'), 'utf8'));
console.log(machineLine());
console.log(
  `data: ${LINES.toLocaleString('en-US')} CloudFront lines in ${all.length} gzip files (${(gzBytes / 1e6).toFixed(0)} MB gz, ${(rawBytes / 1e6).toFixed(0)} MB raw), keys like ${all[0]?.slice(dataDir.length + 1)}`,
);

spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

const ROUNDS = Number(process.env.BENCH_LOG_ROUNDS ?? 3);
const outDir = join(root, '.bench-data', 'out');
mkdirSync(outDir, { recursive: true });
const tools: PeerTool[] = [
  {
    name: 'throttlescope logs --json',
    shell: `node ${join(root, 'bin/throttlescope.js')} logs ${dataDir} --json > ${outDir}/cf-ours.json`,
  },
];
const goaccess = spawnSync('bash', ['-c', 'command -v goaccess'], { encoding: 'utf8' }).stdout.trim();
if (goaccess) {
  tools.push({
    name: 'goaccess CLOUDFRONT',
    shell: `find ${dataDir} -name '*.gz' -print0 | sort -z | xargs -0 zcat | ${goaccess} - --log-format=CLOUDFRONT --no-progress -o ${outDir}/cf-goaccess.json > /dev/null`,
  });
} else console.log('goaccess: not installed (apt-get install goaccess) - skipped');

// DuckDB computes the same summary from the same files: every column text (header lines skipped
// as comments), one GROUPING SETS query for the counts by status, result type, detailed result
// type and edge location, the per-minute series (status, result type, 5xx by detailed type), and
// the first and last times.
const duckScript = join(root, '.bench-data', 'cf-duck.mjs');
const cols = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`c${i}`, 'VARCHAR']));
const source = `read_csv('${dataDir}/**/*.gz', delim='\\t', quote='', escape='', comment='#', header=false, columns=${JSON.stringify(cols).replace(/"/g, "'")}, auto_detect=false)`;
const sameSummary = `SELECT status, result, detail, edge, minute, fivexx, count(*) AS n, min(t) AS first, max(t) AS last FROM (
  SELECT c8 AS status, c13 AS result, c28 AS detail, c2 AS edge, c0 || 'T' || substr(c1, 1, 5) AS minute,
    CASE WHEN c8 LIKE '5__' THEN c28 END AS fivexx, c0 || 'T' || c1 AS t
  FROM ${source})
GROUP BY GROUPING SETS ((), (status), (result), (detail), (edge), (minute, status), (minute, result), (minute, fivexx))`;
writeFileSync(
  duckScript,
  `import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const r = await c.runAndReadAll(${JSON.stringify(sameSummary)});
console.log(JSON.stringify(r.getRowObjectsJson()));
`,
);
tools.push({
  name: 'duckdb, same summary',
  shell: `cd ${root} && node ${duckScript} > ${outDir}/cf-duckdb.json`,
});

const runs = interleavedRounds(tools, ROUNDS);

// The summaries must agree, or the comparison means nothing.
try {
  const ours = (
    JSON.parse(readFileSync(join(outDir, 'cf-ours.json'), 'utf8')) as {
      cloudfront: {
        lines: number;
        byStatus: Record<string, number>;
        byResultType: Record<string, number>;
        byDetailedResultType: Record<string, number>;
        byEdgeLocation: Record<string, number>;
        series: { fiveXx: Record<string, number> }[];
      };
    }
  ).cloudfront;
  const duck = JSON.parse(readFileSync(join(outDir, 'cf-duckdb.json'), 'utf8')) as Record<
    string,
    string | null
  >[];
  const keys = ['status', 'result', 'detail', 'edge', 'minute', 'fivexx'];
  const grouped = (k: string) => {
    const m: Record<string, number> = {};
    for (const row of duck)
      if (keys.every((c) => (c === k) === (row[c] !== null))) m[row[k] as string] = Number(row.n);
    return m;
  };
  const eq = (a: Record<string, number>, b: Record<string, number>) =>
    JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  const duck5xx = duck
    .filter((r) => r.minute !== null && r.fivexx !== null)
    .reduce((n, r) => n + Number(r.n), 0);
  const our5xx = ours.series.reduce((n, m) => n + Object.values(m.fiveXx).reduce((a, b) => a + b, 0), 0);
  const same =
    eq(grouped('status'), ours.byStatus) &&
    eq(grouped('result'), ours.byResultType) &&
    eq(grouped('detail'), ours.byDetailedResultType) &&
    eq(grouped('edge'), ours.byEdgeLocation) &&
    duck5xx === our5xx;
  console.log(
    `answers: ${same ? 'the same' : 'DIFFERENT'} counts by status, result type, detailed result type, edge location and per-minute 5xx (ours ${ours.lines.toLocaleString('en-US')} lines, ${ours.series.length} minutes)`,
  );
} catch (e) {
  console.log(`answers: not compared (${(e as Error).message})`);
}

printRuns(runs, LINES, ROUNDS);

// The line engines alone, in this process, on the first files decompressed: the full parser (what
// --records and the lab's tests use) and the summary's scan, the built modules as the CLI runs them.
{
  const dist = (m: string) => pathToFileURL(join(root, 'dist', 'logs', 'cloudfront', m)).href;
  const { parseCloudFrontLine } = (await import(
    dist('parse-line.js')
  )) as typeof import('../src/logs/cloudfront/parse-line.js');
  const { CloudFrontObjectReader, emptyCloudFrontReadStats } = (await import(
    dist('reader.js')
  )) as typeof import('../src/logs/cloudfront/reader.js');
  const { CloudFrontAggregator } = (await import(
    dist('summary.js')
  )) as typeof import('../src/logs/cloudfront/summary.js');
  const files = all.slice(0, 10).map((f) => gunzipSync(readFileSync(f)));
  const texts = files.map((b) => b.toString('utf8'));
  const lines = texts.reduce((n, t) => n + t.split('\n').length - 3, 0);
  const best = new Map<string, number>();
  const time = (name: string, run: () => void) => {
    const t0 = performance.now();
    run();
    const us = ((performance.now() - t0) * 1000) / lines;
    best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, us));
  };
  for (let round = 0; round < 5; round++) {
    time('parseCloudFrontLine (record)', () => {
      for (const t of texts) {
        const ls = t.split('\n');
        for (let i = 2; i < ls.length; i++) if (ls[i]) parseCloudFrontLine(ls[i] as string);
      }
    });
    time('summary scan + aggregate (from bytes)', () => {
      const agg = new CloudFrontAggregator();
      const stats = emptyCloudFrontReadStats();
      for (const b of files) {
        const r = new CloudFrontObjectReader('bench', { fields: (f) => agg.add(f) }, stats);
        r.push(b);
        r.end();
      }
    });
  }
  console.log(`\nline engines on ${lines.toLocaleString('en-US')} decompressed lines (best of 5)   µs/line`);
  for (const [name, us] of best) console.log(`${name.padEnd(48)} ${us.toFixed(2).padStart(8)}`);
}
