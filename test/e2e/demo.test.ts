/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/** The README's main job: `throttlescope demo`, end to end on the embedded lab, and its report in a browser. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { CHROMIUM, chromiumAvailable, launchChromium, requireTools } from '../helpers/browser.js';

describe('throttlescope demo', { timeout: 120_000 }, () => {
  it('replays the incident: diagnoses the noisy neighbour, applies reserved concurrency, verifies the drop', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ts-demo-'));
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await main(['demo', '--json', '--seconds', '8', '--rate', '5', '--out', out], {
      stdout: { write: (s: string) => stdout.push(s) > 0 },
      stderr: { write: (s: string) => stderr.push(s) > 0 },
      stdin: Readable.from([]),
      env: {},
      cwd: process.cwd(),
      signal: new AbortController().signal,
    });
    const doc = JSON.parse(stdout.join(''));
    expect(Object.keys(doc).sort()).toEqual(['after', 'before', 'diagnosis', 'fix', 'report', 'verdict']);
    expect(doc.before.total).toBeGreaterThan(50);
    expect(doc.before.failureRate).toBeGreaterThan(0.05);
    // Through CloudFront the viewers saw the shop's error page, many of them replays of a cached
    // error; the ALB probed directly answered its own 502s.
    expect(doc.before.customErrorPages).toBe(doc.before.failures);
    expect(doc.before.cachedErrors).toBeGreaterThan(0);
    expect(doc.before.inside.failures).toBeGreaterThan(0);
    expect(doc.before.inside.fromAlb).toBe(doc.before.inside.failures);
    expect(doc.before.failureRate).toBeGreaterThan(doc.before.inside.failureRate);
    expect(doc.diagnosis).toMatchObject({
      rootCause: 'account-concurrency-exhausted',
      culprit: 'reports-worker',
    });
    // CloudFront's logs and config join the diagnosis: the viewers' 5xx were cached replays of the
    // ALB's throttles, behind the site's error page.
    expect(doc.diagnosis.cloudfrontFindings).toEqual(
      expect.arrayContaining(['cloudfront-error-caching', 'cloudfront-masked-origin']),
    );
    expect(doc.fix.function).toBe('reports-worker');
    expect(doc.fix.reservedConcurrency).toBeGreaterThan(0);
    expect(doc.after.failureRate).toBeLessThan(doc.before.failureRate / 3);
    expect(doc.verdict.improved).toBe(true);
    expect(doc.verdict.pValue).toBeLessThan(0.01);
    expect(code).toBe(0);
    // The narration went to stderr, step by step.
    expect(stderr.join('')).toMatch(
      /1\. Lab up: CloudFront[\s\S]*2\. Probing through CloudFront[\s\S]*custom error page[\s\S]*probing the origin directly[\s\S]*3\. Diagnosing[\s\S]*4\. Fixing[\s\S]*6\. Verify \(through CloudFront\)/,
    );
    const rollback = JSON.parse(await readFile(join(out, 'rollback.json'), 'utf8'));
    expect(rollback.functions).toEqual([
      { name: 'reports-worker', previous: null, applied: doc.fix.reservedConcurrency },
    ]);

    const html = await readFile(doc.report, 'utf8');
    expect(html).toContain('account-concurrency-exhausted');
    if (!chromiumAvailable) {
      if (requireTools) throw new Error(`${CHROMIUM} is required (THROTTLESCOPE_REQUIRE_TOOLS=1)`);
      return;
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`file://${doc.report}`);
      await page.waitForFunction(() => document.querySelectorAll('canvas').length >= 2);
      const datasets = await page.evaluate(() =>
        [...document.querySelectorAll('canvas')].map((c) => {
          const chart = (
            window as unknown as {
              Chart: {
                getChart(c: HTMLCanvasElement): { data: { datasets: { data: unknown[] }[] } } | undefined;
              };
            }
          ).Chart.getChart(c);
          return chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0;
        }),
      );
      expect(datasets.length).toBeGreaterThanOrEqual(3);
      for (const n of datasets) expect(n).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
