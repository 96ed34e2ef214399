import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHART_JS_FILE, chartJsSource, formatPValue, renderHtmlReport } from '../../src/report/html.js';
import type { ReportModel } from '../../src/report/model.js';
import { IMG_PAYLOAD, noisyNeighbourModel, SCRIPT_PAYLOAD } from './fixture.js';

/** The text of the embedded JSON block. */
function reportData(html: string): string {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m?.[1]) throw new Error('no report-data block');
  return m[1];
}

/** Contents of every inline <script> without a type (the executable ones). */
function executableScripts(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
}

/** Sequence of tag names outside script contents: the page's structure. */
function tagSequence(html: string): string[] {
  const outside = html.replace(/(<script[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');
  return [...outside.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => m[0].toLowerCase());
}

function cspOf(html: string): string {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  if (!m?.[1]) throw new Error('no CSP meta');
  return m[1]
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** Replaces every string in the model (keys kept) with one produced by `pick`. */
function mapStrings(value: unknown, pick: (i: number) => string, counter = { i: 0 }): unknown {
  if (typeof value === 'string') return pick(counter.i++);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, pick, counter));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, pick, counter)]));
  }
  return value;
}

describe('renderHtmlReport: structure', () => {
  const model = noisyNeighbourModel();
  const html = renderHtmlReport(model);

  it('is one HTML document with the sections in order: root cause first', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const order = [
      'root-cause',
      'charts',
      'evidence-chain',
      'findings',
      'recommendation',
      'verification',
    ].map((id) => html.indexOf(`<section id="${id}"`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (const id of ['chart-errors', 'chart-concurrency', 'chart-probe']) {
      expect(html).toContain(`<canvas id="${id}"`);
    }
  });

  it('embeds the model as JSON that parses back identically', () => {
    expect(JSON.parse(reportData(html))).toEqual(model);
  });

  it('inlines the Chart.js UMD build from node_modules', () => {
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('chart.js')), CHART_JS_FILE);
    const original = readFileSync(file, 'utf8');
    expect(original).toContain('Chart.js v4');
    const inlined = chartJsSource();
    expect(original.startsWith(inlined)).toBe(true);
    expect(inlined.length).toBeGreaterThan(100_000);
    expect(inlined).not.toContain('sourceMappingURL');
    expect(executableScripts(html)[0]).toBe(inlined);
  });

  it('references nothing on the network', () => {
    expect(html).not.toMatch(/\b(?:src|href|action|poster|srcset|data)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<(?:link|img|iframe|object|embed|base|form)\b/i);
    expect(html).not.toMatch(/url\(\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import/i);
  });

  it('has a strict CSP whose script and style hashes match the inline blocks', () => {
    const csp = cspOf(html);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('img-src data:');
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
    const scripts = executableScripts(html);
    expect(scripts).toHaveLength(2);
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1]?.split(' ') ?? [];
    expect(scriptSrc.sort()).toEqual(scripts.map(hash).sort());
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(styles).toHaveLength(1);
    expect(/style-src ([^;]*)/.exec(csp)?.[1]).toBe(hash(styles[0] ?? ''));
  });

  it('shows planted markup as escaped text only', () => {
    const outside = html.replace(/(<script[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');
    expect(outside).not.toContain(SCRIPT_PAYLOAD);
    expect(outside).not.toContain(IMG_PAYLOAD);
    expect(outside).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(outside).toContain('&lt;img src=x onerror=window.__pwned=1&gt;');
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html.match(/<\/script/gi)).toHaveLength(3);
  });

  it('renders the text parts on the server (readable without JavaScript)', () => {
    expect(html).toContain(escapeText(model.rootCause.headline));
    expect(html).toContain('report-exporter');
    expect(html).toContain('aws lambda put-function-concurrency --function-name report-exporter');
    expect(html).toContain('19.8% (n=3,000) → 0.1% (n=3,000), p &lt; 1e-9');
    expect(html).toContain('Combined peak: <strong>1,000</strong> of the account limit 1,000');
  });

  it('is deterministic', () => {
    expect(renderHtmlReport(noisyNeighbourModel())).toBe(html);
  });

  it('survives a model with no data (empty window, no probe, no recommendation)', () => {
    const empty: ReportModel = {
      title: 'empty',
      generatedAt: '2024-05-01T12:00:00.000Z',
      window: { startMs: 0, endMs: 0 },
      rootCause: { code: 'healthy', headline: 'Nothing is wrong.', confidence: 1, victims: [] },
      findings: [],
      charts: {
        errorsByReason: { minutesMs: [], series: [] },
        concurrency: { timesMs: [], accountLimit: 1000, series: [] },
      },
      evidenceChain: [],
    };
    const out = renderHtmlReport(empty);
    expect(out).toContain('No 5xx responses in the window.');
    expect(out).toContain('No concurrency metrics for the window.');
    expect(out).toContain('No probe run was given');
    expect(out).not.toContain('<canvas');
    expect(JSON.parse(reportData(out))).toEqual(empty);
  });

  it('for arbitrary strings anywhere in the model: same page structure, data round-trips, no </script from data', () => {
    const baseline = tagSequence(html);
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            // non-empty: an empty culprit legitimately changes the page ("none named")
            fc.string({ unit: 'binary', minLength: 1 }),
            fc.constantFrom(
              SCRIPT_PAYLOAD,
              IMG_PAYLOAD,
              '</SCRIPT >',
              '<!--',
              '-->',
              '\u2028',
              '"\'>&',
              '</style>',
            ),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        (pool) => {
          const m = mapStrings(model, (i) => pool[i % pool.length] ?? '') as ReportModel;
          const out = renderHtmlReport(m);
          expect(JSON.parse(reportData(out))).toEqual(m);
          expect(tagSequence(out)).toEqual(baseline);
          expect(out.match(/<\/script/gi)).toHaveLength(3);
          expect(out.match(/<\/style/gi)).toHaveLength(1);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('formatPValue', () => {
  it('formats tiny, small and ordinary p-values', () => {
    expect(formatPValue(1e-12)).toBe('p < 1e-9');
    expect(formatPValue(3.2e-5)).toBe('p = 3.2e-5');
    expect(formatPValue(0.0421)).toBe('p = 0.042');
    expect(formatPValue(Number.NaN)).toBe('p = —');
  });
});

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;');
}
