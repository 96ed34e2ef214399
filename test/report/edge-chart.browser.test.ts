/** The report's CloudFront chart and a finding's IaC fix, drawn in headless Chromium. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html.js';
import type { ReportModel } from '../../src/report/model.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { IMG_PAYLOAD, noisyNeighbourModel, SCRIPT_PAYLOAD } from './fixture.js';

interface PageChart {
  config: { type: string };
  data: { datasets: { label: string; data: unknown[] }[] };
}
interface PageCanvas {
  id: string;
}
declare const document: { getElementById(id: string): PageCanvas | null };
declare const window: { __pwned?: unknown; Chart?: { getChart(canvas: PageCanvas): PageChart | undefined } };

function edgeModel(): ReportModel {
  const model = noisyNeighbourModel();
  const t0 = model.window.startMs;
  const minutes = Array.from({ length: 10 }, (_, i) => t0 + i * 60_000);
  model.charts.edge = {
    minutesMs: minutes,
    viewer5xx: minutes.map((_, i) => (i % 3 === 0 ? 40 : 0)),
    alb5xx: minutes.map((_, i) => (i % 3 === 0 ? 4 : 0)),
    replayed: minutes.map((_, i) => (i % 3 === 0 ? 36 : 0)),
  };
  model.findings.push({
    code: 'cloudfront-error-caching',
    title: `144 of 160 viewer 5xx were cached replays of an origin error (ErrorCachingMinTTL 10 s); the ALB answered 16`,
    confidence: 0.9,
    evidence: [{ text: 'ALB logs: 16 5xx in the same minutes' }],
    fix: {
      summary: 'Set the error caching minimum TTL to 0',
      cloudformation: `CacheBehaviors:\n  - PathPattern: "${SCRIPT_PAYLOAD}"`,
      terraform: `path_pattern = "${IMG_PAYLOAD}"`,
    },
  });
  return model;
}

describe.runIf(chromiumAvailable)('CloudFront chart in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'throttlescope-edge-'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws viewer-side and ALB-side 5xx per minute in one chart, and shows the fix as text', async () => {
    const file = join(dir, 'report.html');
    await writeFile(file, renderHtmlReport(edgeModel()));
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof window.Chart !== 'undefined');
    const chart = await page.evaluate(() => {
      const canvas = document.getElementById('chart-edge');
      const c = canvas ? window.Chart?.getChart(canvas) : undefined;
      return c
        ? {
            type: c.config.type,
            labels: c.data.datasets.map((d) => d.label),
            points: c.data.datasets.map((d) => d.data.length),
          }
        : null;
    });
    expect(chart).toEqual({ type: 'bar', labels: ['viewer 5xx (CloudFront)', 'ALB 5xx'], points: [10, 10] });
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered, visible text is what is under test
    const text = await page.locator('#findings').innerText();
    expect(text).toContain(`PathPattern: "${SCRIPT_PAYLOAD}"`);
    expect(text).toContain(IMG_PAYLOAD);
    expect(problems).toEqual([]);
    await context.close();
  });
});
