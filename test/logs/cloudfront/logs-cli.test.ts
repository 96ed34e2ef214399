/** `logs` over CloudFront standard logs: detection per file, --format, the `cloudfront` JSON key, human output. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { analyseAlbLogs } from '../../../src/logs/analyse.js';
import { cloudFrontFileHeader, cloudFrontLogKey } from '../../../src/logs/cloudfront/index.js';
import { lambdaLine } from '../../helpers/alb-lines.js';
import { fakeCli } from '../../helpers/cli.js';
import { cloudFrontLine } from '../../helpers/cloudfront-lines.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const HOUR = Date.parse('2026-11-24T10:00:00Z');

/** A gzip file with the header, named as CloudFront names it. */
async function cloudFrontFile(
  dir: string,
  lines: string[],
  hourMs = HOUR,
  unique = 'A1B2C3',
): Promise<string> {
  const key = cloudFrontLogKey({ prefix: '', distributionId: 'E2QWRUHAPOMQZL', hourMs, unique });
  const path = join(dir, key);
  await writeFile(path, gzipSync(`${cloudFrontFileHeader()}${lines.join('\n')}\n`));
  return path;
}

const viewerLines = [
  cloudFrontLine(T0, { status: 200, result: 'Miss' }),
  cloudFrontLine(T0 + 1000, { status: 502 }),
  cloudFrontLine(T0 + 2000, { status: 502 }),
  cloudFrontLine(T0 + 61_000, { status: 504, detail: 'OriginCommError', edge: 'IAD79-C1' }),
  cloudFrontLine(T0 + 62_000, { status: 200, result: 'Hit' }),
];

describe('logs over CloudFront standard logs', () => {
  it('--json keeps the ALB keys for ALB files and adds `cloudfront` for the CloudFront file beside them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cf-'));
    await writeFile(
      join(dir, 'alb.log'),
      [lambdaLine(T0), lambdaLine(T0 + 5, { reason: 'LambdaThrottling' })].join('\n'),
    );
    await cloudFrontFile(dir, viewerLines);
    const c = fakeCli();
    const code = await main(['logs', dir, '--json'], c.ctx);
    expect(c.err.join('')).toBe('');
    expect(code).toBe(0);
    const doc = JSON.parse(c.out.join(''));
    expect(doc).toMatchObject({ lines: 2, files: 1, byErrorReason: { LambdaThrottling: 1 } });
    expect(doc.cloudfront).toEqual({
      lines: 5,
      malformed: 0,
      files: 1,
      firstTime: '2026-11-24T10:00:00.000Z',
      lastTime: '2026-11-24T10:01:02.000Z',
      requests: 5,
      byStatus: { '200': 2, '502': 2, '504': 1 },
      byResultType: { Error: 3, Hit: 1, Miss: 1 },
      byDetailedResultType: { Error: 2, Hit: 1, Miss: 1, OriginCommError: 1 },
      byEdgeLocation: { 'FRA56-P4': 4, 'IAD79-C1': 1 },
      series: [
        {
          minute: '2026-11-24T10:00:00.000Z',
          requests: 3,
          byStatus: { '200': 1, '502': 2 },
          byResultType: { Miss: 1, Error: 2 },
          fiveXx: { Error: 2 },
        },
        {
          minute: '2026-11-24T10:01:00.000Z',
          requests: 2,
          byStatus: { '504': 1, '200': 1 },
          byResultType: { Error: 1, Hit: 1 },
          fiveXx: { OriginCommError: 1 },
        },
      ],
    });
  });

  it('ALB-only input has no `cloudfront` key (the document is unchanged)', async () => {
    const c = fakeCli({ stdin: lambdaLine(T0) });
    expect(await main(['logs', '-', '--json'], c.ctx)).toBe(0);
    expect(JSON.parse(c.out.join(''))).not.toHaveProperty('cloudfront');
  });

  it('detects a headerless CloudFront stream from its shape, and --format alb reads it as ALB (all malformed: exit 3)', async () => {
    const text = viewerLines.join('\n');
    const c = fakeCli({ stdin: text });
    expect(await main(['logs', '-', '--json'], c.ctx)).toBe(0);
    expect(JSON.parse(c.out.join('')).cloudfront).toMatchObject({ lines: 5, files: 1, requests: 5 });
    const forced = fakeCli({ stdin: text });
    expect(await main(['logs', '-', '--json', '--format', 'alb'], forced.ctx)).toBe(3);
    expect(forced.out.join('')).toBe('');
    expect(forced.err.join('')).toContain('all 5 line(s) are malformed, none is an ALB access-log entry');
  });

  it('--format cloudfront reads a file whose first line is not recognisable, naming bad lines by file:line and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cf-'));
    const path = join(dir, 'odd.log');
    const bad = viewerLines[1]?.replace('\t502\t', '\t5x2\t') as string;
    await writeFile(path, ['garbage first line', ...viewerLines.slice(0, 1), bad].join('\n'));
    const c = fakeCli();
    expect(await main(['logs', path, '--json', '--format', 'cloudfront'], c.ctx)).toBe(0);
    expect(JSON.parse(c.out.join('')).cloudfront).toMatchObject({ lines: 1, malformed: 2 });
    const err = c.err.join('');
    expect(err).toContain(`${path}:1: field`);
    expect(err).toContain(`${path}:3: field sc-status (column 9): expected a 3-digit status code`);
  });

  it('rejects an unknown --format', async () => {
    const c = fakeCli();
    expect(await main(['logs', '-', '--format', 'w3c'], c.ctx)).toBe(2);
    expect(c.err.join('')).toContain('--format expects alb or cloudfront, got "w3c"');
  });

  it('--since/--until apply to entries, and files named for other hours are not opened', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cf-'));
    await cloudFrontFile(dir, viewerLines);
    await cloudFrontFile(dir, [cloudFrontLine(HOUR - 3_600_000 + 5)], HOUR - 3_600_000, 'OLD');
    const a = await analyseAlbLogs([dir], { sinceMs: T0 + 60_000, workers: 1 });
    expect(a.read.skippedFiles).toBe(1);
    expect(a.cloudfront).toMatchObject({ files: 1, lines: 5, requests: 2, byStatus: { '504': 1, '200': 1 } });
  });

  it('--status filters sc-status', async () => {
    const a = await analyseAlbLogs(['-'], {
      stdin: (await import('node:stream')).Readable.from([Buffer.from(viewerLines.join('\n'))]),
      filter: { statuses: { codes: new Set([502]), classes: new Set() } },
    });
    expect(a.cloudfront).toMatchObject({ lines: 5, requests: 2, byStatus: { '502': 2 } });
  });

  it('threads count CloudFront files exactly as one thread does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cf-'));
    for (let h = 0; h < 4; h++) {
      const lines = viewerLines.map((_, i) =>
        cloudFrontLine(HOUR + h * 3_600_000 + i * 7_000, { status: i % 3 === 0 ? 502 : 200 }),
      );
      await cloudFrontFile(dir, lines, HOUR + h * 3_600_000, `U${h}`);
    }
    await writeFile(join(dir, 'alb.log'), lambdaLine(T0, { reason: 'LambdaThrottling' }));
    const one = await analyseAlbLogs([dir], { workers: 1 });
    const many = await analyseAlbLogs([dir], { workers: 2, parallelMinBytes: 0 });
    expect(many.cloudfront).toEqual(one.cloudfront);
    expect(many.summary).toEqual(one.summary);
    expect(one.cloudfront?.files).toBe(4);
    expect(one.summary.files).toBe(1);
  });

  it('prints a human summary of the CloudFront logs alone, with control characters escaped', async () => {
    // Written raw (CloudFront would encode it): the summary counts cells without decoding them.
    const sneaky = cloudFrontLine(T0, { status: 502, edge: 'FRAX' }).replace('FRAX', 'FRA\u001b[31m');
    expect(sneaky).toContain('\u001b');
    const c = fakeCli({ stdin: [...viewerLines, sneaky].join('\n') });
    expect(await main(['logs', '-'], c.ctx)).toBe(0);
    const text = c.out.join('');
    expect(text).toContain('CloudFront standard logs: 1 file(s), 6 entries');
    expect(text).toContain('5xx sent to viewers: 4');
    expect(text).toContain('By x-edge-detailed-result-type:');
    expect(text).toContain('OriginCommError');
    expect(text).toContain('Viewer 5xx per minute by x-edge-detailed-result-type (UTC):');
    expect(text).not.toContain('ALB access logs');
    expect(text).not.toContain('\u001b');
  });
});
