/** The summary's scan agrees with the full parser, however the bytes arrive. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseCloudFrontLine,
  parseFieldsHeader,
  standardLayout,
} from '../../../src/logs/cloudfront/index.js';
import {
  CloudFrontObjectReader,
  detectLogFormat,
  emptyCloudFrontReadStats,
} from '../../../src/logs/cloudfront/reader.js';
import { CloudFrontAggregator } from '../../../src/logs/cloudfront/summary.js';
import { cloudFrontLine } from '../../helpers/cloudfront-lines.js';

const EXAMPLES = readFileSync(new URL('../../fixtures/cloudfront-log-examples.txt', import.meta.url), 'utf8');

/** The example file's header and data lines, without annotations (one object, as CloudFront writes it). */
function exampleObject(): string {
  return EXAMPLES.split('\n')
    .filter((l) => l !== '' && !l.startsWith('# ') && l !== '#')
    .join('\n');
}

function scan(chunks: Buffer[]) {
  const agg = new CloudFrontAggregator();
  const stats = emptyCloudFrontReadStats();
  const errors: string[] = [];
  const reader = new CloudFrontObjectReader(
    'x.gz',
    { fields: (f) => agg.add(f), malformed: (e, ref) => errors.push(`${ref.line}: ${e.message}`) },
    stats,
  );
  for (const c of chunks) reader.push(c);
  reader.end();
  return { summary: agg.summary(stats), errors };
}

/** The same counts, from records the full parser builds. */
function parsedSummary(text: string) {
  const agg = new CloudFrontAggregator();
  let layout = standardLayout();
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      layout = parseFieldsHeader(line) ?? layout;
      continue;
    }
    const r = parseCloudFrontLine(line, layout);
    lines++;
    agg.add(r);
  }
  return agg.summary({ lines, malformed: 0, files: 1 });
}

describe('CloudFrontObjectReader', () => {
  it('counts the example object exactly as the full parser does', () => {
    const text = exampleObject();
    const { summary, errors } = scan([Buffer.from(text)]);
    expect(errors).toEqual([]);
    expect(summary).toEqual(parsedSummary(text));
    expect(summary.lines).toBe(18);
    expect(summary.byDetailedResultType.OriginDnsError).toBe(3);
    // The 24-field lines carry no detailed result type: counted under their result type.
    expect(summary.byStatus['000']).toBe(1);
  });

  it('gives the same result whatever the chunking (property)', () => {
    const bytes = Buffer.from(
      `${exampleObject()}\n${cloudFrontLine(Date.UTC(2026, 10, 24), { edge: 'MÜN1' })}`,
    );
    const whole = scan([bytes]).summary;
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let last = 0;
        for (const p of points) {
          chunks.push(bytes.subarray(last, p));
          last = p;
        }
        chunks.push(bytes.subarray(last));
        expect(scan(chunks).summary).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('hands out equal values for equal cells, and tells apart values that share a prefix', () => {
    const t = Date.UTC(2026, 10, 24, 10);
    const lines = ['Miss', 'MissX', 'Miss', 'Mis'].map((r, i) => cloudFrontLine(t + i, { result: r }));
    const { summary } = scan([Buffer.from(lines.join('\n'))]);
    expect(summary.byResultType).toEqual({ Miss: 2, Mis: 1, MissX: 1 });
  });

  it('reports a malformed line by line number with the parser message, and keeps counting', () => {
    const t = Date.UTC(2026, 10, 24, 10);
    const good = cloudFrontLine(t);
    const bad = good.replace('2026-11-24', '2026-13-24');
    const { summary, errors } = scan([Buffer.from(`#Version: 1.0\n${good}\n${bad}\n${good}\n`)]);
    expect(summary).toMatchObject({ lines: 2, malformed: 1 });
    expect(errors).toEqual(['3: field date (column 1): expected a UTC date YYYY-MM-DD, got "2026-13-24"']);
  });
});

describe('detectLogFormat', () => {
  it.each([
    ['#Version: 1.0\n#Fields: date time', 'cloudfront'],
    ['#Fields: date time x-edge-location\n', 'cloudfront'],
    [`${cloudFrontLine(Date.UTC(2026, 10, 24))}\n`, 'cloudfront'],
    ['http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 -', 'alb'],
    ['2026-11-24 10:00:00 ', 'alb'],
  ])('%j is %s', (head, format) => {
    expect(detectLogFormat(Buffer.from(head))).toBe(format);
  });

  it('waits for more bytes when the first line is too short to tell', () => {
    expect(detectLogFormat(Buffer.from('2026-11-'))).toBeUndefined();
  });
});
