/**
 * Diagnose fails closed (issue 11): real probe runs against loopback servers (a closed port, a
 * server answering as the ALB does with its own 502, a healthy one), diagnosed through the CLI.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runProbe } from '../../src/probe/runner.js';
import { fakeCli } from '../helpers/cli.js';
import { DIAGNOSE_JSON_KEYS } from '../helpers/diagnose-json.js';
import { alb502, ok, startServer, type TestServer } from '../probe/servers.js';

const NO_AWS = { AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function probeRun(url: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ts-fail-closed-'));
  await runProbe({ urls: [url], rate: 10, durationMs: 1000, outDir: dir, seed: 3, timeoutMs: 2000 });
  return dir;
}

async function diagnoseCli(args: string[]) {
  const c = fakeCli({ env: NO_AWS });
  const code = await main(['diagnose', '--no-cloudwatch', ...args], c.ctx);
  return { code, out: c.out.join(''), err: c.err.join('') };
}

describe('diagnose never says healthy over failures', { timeout: 30_000 }, () => {
  let refusedDir: string;
  let albDir: string;
  let healthyDir: string;
  let refusedUrl: string;
  let albServer: TestServer;
  let okServer: TestServer;

  beforeAll(async () => {
    refusedUrl = `http://127.0.0.1:${await closedPort()}/`;
    albServer = await startServer((_req, res) => alb502(res));
    okServer = await startServer((_req, res) => ok(res));
    [refusedDir, albDir, healthyDir] = await Promise.all([
      probeRun(refusedUrl),
      probeRun(`${albServer.url}api/cart`),
      probeRun(okServer.url),
    ]);
  });
  afterAll(async () => {
    await albServer?.close();
    await okServer?.close();
  });

  it('a refused port: endpoint-unreachable with counts by kind, per URL, times and next steps; exit 6 with --json printed', async () => {
    const { code, out } = await diagnoseCli(['--probe', refusedDir, '--json']);
    expect(code).toBe(6);
    const doc = JSON.parse(out);
    expect(Object.keys(doc)).toEqual(DIAGNOSE_JSON_KEYS);
    expect(doc.rootCause).toBe('endpoint-unreachable');
    const n = (JSON.parse(await readFile(join(refusedDir, 'summary.json'), 'utf8')) as { total: number })
      .total;
    expect(n).toBeGreaterThan(3);
    expect(doc.headline).toBe(
      `${refusedUrl} cannot be reached: ${n} of ${n} probe requests got no HTTP answer (${n} refused)`,
    );
    const texts: string[] = doc.findings[0].evidence.map((e: { text: string }) => e.text);
    expect(texts).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^probe: ${n} transport failures with no HTTP answer: ${n} refused; first \\S+Z, last \\S+Z$`,
        ),
      ),
    );
    expect(texts).toContainEqual(
      expect.stringMatching(
        new RegExp(`^${refusedUrl}: ${n} of ${n} requests unanswered \\(${n} refused\\)`),
      ),
    );
    expect(texts).toContainEqual(
      expect.stringMatching(/^refused: connection refused: nothing listens .*; next: check/),
    );
    expect(doc.findings[0].evidence.find((e: { time?: string }) => e.time)).toBeDefined();
  });

  it('the refused port in the terminal and the HTML report', async () => {
    const term = await diagnoseCli(['--probe', refusedDir]);
    expect(term.code).toBe(6);
    expect(term.out).toMatch(/^Root cause: endpoint-unreachable \(confidence 95%\)/);
    expect(term.out).toMatch(/- refused: connection refused/);
    const html = join(await mkdtemp(join(tmpdir(), 'ts-fail-closed-')), 'r.html');
    expect((await diagnoseCli(['--probe', refusedDir, '--html', html])).code).toBe(6);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('<code>endpoint-unreachable</code>');
    expect(page).toContain('refused: connection refused: nothing listens on that address and port');
  });

  it('awselb 502s with no logs and no metrics: unexplained, naming the load balancer and --logs', async () => {
    const { code, out } = await diagnoseCli(['--probe', albDir, '--json']);
    expect(code).toBe(6);
    const doc = JSON.parse(out);
    expect(doc.rootCause).toBe('unexplained');
    expect(doc.headline).toMatch(
      /^unexplained: the load balancer behind 127\.0\.0\.1:\d+ itself answered \d+ 502s \(Server: awselb\/2\.0\); its access logs \(--logs\) give the reason$/,
    );
    const texts: string[] = doc.findings[0].evidence.map((e: { text: string }) => e.text);
    expect(texts).toContainEqual(expect.stringMatching(/^probe: failed requests by status: 502 x\d+$/));
    expect(texts).toContainEqual(
      expect.stringMatching(
        /^probe: who answered them: the load balancer itself \(Server: awselb\/2\.0\) x\d+$/,
      ),
    );
    expect(texts).toContainEqual(expect.stringMatching(/run diagnose again with --logs s3:/));
    expect(doc.gaps).toContainEqual(expect.stringMatching(/^no ALB access logs given \(--logs\)/));
    expect(doc.gaps).toContainEqual(expect.stringMatching(/^no CloudWatch access: /));
  });

  it('a healthy run is still healthy, exit 0', async () => {
    const { code, out } = await diagnoseCli(['--probe', healthyDir, '--json']);
    const doc = JSON.parse(out);
    expect(doc.rootCause).toBe('healthy');
    expect(doc.headline).toBe('healthy: no failures in the evidence');
    expect(code).toBe(0);
  });

  it('fix recommends no concurrency change on either, and says why (exit 6)', async () => {
    for (const [dir, why] of [
      [
        refusedDir,
        /no concurrency change recommended: .*cannot be reached.*no Lambda function was invoked or throttled for them/,
      ],
      [albDir, /no concurrency change recommended: unexplained: .*Nothing in the evidence shows throttling/],
    ] as const) {
      const c = fakeCli({ env: NO_AWS });
      expect(await main(['fix', '--no-cloudwatch', '--probe', dir], c.ctx)).toBe(6);
      expect(c.out.join('')).toBe('');
      expect(c.err.join('')).toMatch(why);
      expect(c.err.join('')).toMatch(/\[TS_FIX_NO_CULPRIT\]\n$/);
    }
  });
});
