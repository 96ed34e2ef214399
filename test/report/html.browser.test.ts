import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html.js';
import { CHROMIUM, chromiumAvailable, launchChromium, requireTools } from '../helpers/browser.js';
import { IMG_PAYLOAD, noisyNeighbourModel, SCRIPT_PAYLOAD } from './fixture.js';

const haveChromium = chromiumAvailable;
const SCREENSHOT = process.env.THROTTLESCOPE_REPORT_SCREENSHOT ?? '/tmp/report.png';

interface ChartInfo {
  id: string;
  type: string | null;
  datasets: number;
  points: number;
}

// The callbacks given to page.evaluate run in Chromium. The project compiles without the DOM lib (and a
// `/// <reference lib="dom" />` would leak into every file), so declare here, module-locally, the little they touch.
interface PageChart {
  config: { type: string };
  data: { datasets: { data: unknown[] }[] };
}
interface PageCanvas {
  id: string;
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
}
declare const document: {
  querySelectorAll(selector: 'canvas'): Iterable<PageCanvas>;
  querySelector(selector: 'canvas'): PageCanvas | null;
};
declare const window: {
  __pwned?: unknown;
  Chart?: { getChart(canvas: PageCanvas): PageChart | undefined };
};

describe.runIf(!haveChromium && requireTools)('HTML report in Chromium (required)', () => {
  it('needs Chromium', () => {
    expect.fail(`THROTTLESCOPE_REQUIRE_TOOLS=1 but ${CHROMIUM} does not exist (apt-get install chromium)`);
  });
});

describe.runIf(haveChromium)('HTML report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'throttlescope-report-'));
    file = join(dir, 'report.html');
    await writeFile(file, renderHtmlReport(noisyNeighbourModel()));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders the charts with data, with no console errors, no network and no injected script', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning')
        problems.push(`console.${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:')) requests.push(req.url());
    });

    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof window.Chart !== 'undefined');

    const charts = await page.evaluate(() =>
      [...document.querySelectorAll('canvas')].map((canvas): ChartInfo => {
        const chart = window.Chart?.getChart(canvas);
        return {
          id: canvas.id,
          type: chart ? chart.config.type : null,
          datasets: chart ? chart.data.datasets.length : 0,
          points: chart ? chart.data.datasets.reduce((a: number, d) => a + d.data.length, 0) : 0,
        };
      }),
    );
    expect(charts.map((c) => c.id)).toEqual(['chart-errors', 'chart-concurrency', 'chart-probe']);
    expect(charts.map((c) => c.type)).toEqual(['bar', 'line', 'line']);
    for (const c of charts) {
      expect(c.datasets, c.id).toBeGreaterThan(0);
      expect(c.points, c.id).toBeGreaterThan(0);
    }
    // 3 functions + the dashed account-limit line
    expect(charts[1]?.datasets).toBe(4);

    // the canvases were actually painted (not blank)
    const painted = await page.evaluate(() =>
      [...document.querySelectorAll('canvas')].map((canvas) => {
        const ctx = canvas.getContext('2d');
        if (!ctx || canvas.width === 0 || canvas.height === 0) return 0;
        const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let ink = 0;
        for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) ink++;
        return ink;
      }),
    );
    for (const ink of painted) expect(ink).toBeGreaterThan(1000);

    // planted markup is text, never code
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(3);
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered, visible text is what is under test
    const text = await page.locator('body').innerText();
    expect(text).toContain(SCRIPT_PAYLOAD);
    expect(text).toContain(IMG_PAYLOAD);
    expect(await page.locator('#root-cause').getByText(`checkout-api${IMG_PAYLOAD}`).isVisible()).toBe(true);
    expect(await page.locator('#root-cause ul.victims li').first().textContent()).toBe(
      `checkout-api${IMG_PAYLOAD}`,
    );

    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await context.close();
  });

  it('enforces its CSP: an inline script or handler that bypassed escaping does not run', async () => {
    // Defence in depth: simulate an escaping bug by splicing raw markup into the page.
    const page0 = renderHtmlReport(noisyNeighbourModel());
    const tampered = page0.replace('<main>', `<main>${SCRIPT_PAYLOAD}${IMG_PAYLOAD}`);
    const bad = join(dir, 'tampered.html');
    await writeFile(bad, tampered);
    const context = await browser.newContext();
    const page = await context.newPage();
    const blocked: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') blocked.push(msg.text());
    });
    await page.goto(pathToFileURL(bad).href, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof window.Chart !== 'undefined');
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(blocked.some((t) => /Content Security Policy/i.test(t))).toBe(true);
    // the page's own, hashed scripts still ran
    expect(
      await page.evaluate(() => Boolean(window.Chart?.getChart(document.querySelector('canvas')!))),
    ).toBe(true);
    await context.close();
  });

  it('is readable without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered, visible text is what is under test
    const text = await page.locator('body').innerText();
    expect(text).toContain('Root cause');
    expect(text).toContain('report-exporter');
    expect(text).toContain('this chart needs JavaScript');
    expect(text).toContain('Evidence chain');
    expect(text).toContain('19.8% (n=3,000) → 0.1% (n=3,000), p < 1e-9');
    await context.close();
  });
});
