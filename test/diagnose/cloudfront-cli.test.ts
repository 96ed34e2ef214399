/**
 * diagnose with CloudFront in front, end to end in-process: ALB and CloudFront logs in one
 * directory, the distribution's config read through the real SDK v3 CloudFront client from a
 * local REST-XML endpoint, findings in --json, the terminal and the HTML report.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { cloudFrontFileHeader, cloudFrontLogKey } from '../../src/logs/cloudfront/index.js';
import { lambdaLine } from '../helpers/alb-lines.js';
import { fakeCli } from '../helpers/cli.js';
import { cloudFrontLine } from '../helpers/cloudfront-lines.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const ID = 'E2QWRUHAPOMQZL';
const HOSTILE_PAGE = '/errors/<img src=x onerror=alert(1)>.html';
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The GetDistributionConfig answer, as the API documents it (REST-XML, 2020-05-31). */
const CONFIG_XML = `<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <CallerReference>lab</CallerReference>
  <Origins><Quantity>0</Quantity></Origins>
  <DefaultCacheBehavior><TargetOriginId>alb</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><CachePolicyId>658327ea-f89d-4fab-a63d-7e88639e58f6</CachePolicyId></DefaultCacheBehavior>
  <CustomErrorResponses><Quantity>1</Quantity><Items><CustomErrorResponse><ErrorCode>502</ErrorCode><ResponsePagePath>${xmlEscape(HOSTILE_PAGE)}</ResponsePagePath><ResponseCode>502</ResponseCode><ErrorCachingMinTTL>10</ErrorCachingMinTTL></CustomErrorResponse></Items></CustomErrorResponses>
  <Comment></Comment>
  <Enabled>true</Enabled>
</DistributionConfig>`;

let server: Server;
let endpoint: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === 'GET' && req.url === `/2020-05-31/distribution/${ID}/config`) {
      res.writeHead(200, { 'content-type': 'text/xml', etag: 'E1LABETAG' });
      res.end(CONFIG_XML);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/xml' });
    res.end(
      '<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>NoSuchDistribution</Code><Message>The specified distribution does not exist.</Message></Error></ErrorResponse>',
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Minute 0: 4 throttled at the ALB, 40 502s to viewers; minute 1: 2 and 12. */
async function evidenceDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ts-cf-diag-'));
  const alb: string[] = [];
  const viewer: string[] = [];
  [
    [4, 40],
    [2, 12],
  ].forEach(([throttled, viewer502], m) => {
    const at = T0 + (m as number) * 60_000;
    for (let i = 0; i < 30; i++) {
      alb.push(lambdaLine(at + i * 1000));
      viewer.push(cloudFrontLine(at + i * 1000));
    }
    for (let i = 0; i < (throttled as number); i++)
      alb.push(lambdaLine(at + 31_000 + i, { reason: 'LambdaThrottling', path: '/api/cart' }));
    for (let i = 0; i < (viewer502 as number); i++)
      viewer.push(cloudFrontLine(at + 31_000 + i * 100, { status: 502 }));
  });
  await writeFile(join(dir, 'alb.log'), `${alb.join('\n')}\n`);
  const key = cloudFrontLogKey({ prefix: '', distributionId: ID, hourMs: T0, unique: 'LAB1' });
  await writeFile(join(dir, key), gzipSync(`${cloudFrontFileHeader()}${viewer.join('\n')}\n`));
  return dir;
}

/** `diagnose` over the logs in `dir` for the window the evidence covers, without AWS. */
const logsArgs = (dir: string) => [
  'diagnose',
  '--logs',
  dir,
  '--since',
  '2026-11-24T09:59:00Z',
  '--until',
  '2026-11-24T10:05:00Z',
  '--no-cloudwatch',
  '--no-target-groups',
];

const args = (dir: string, id: string, ...more: string[]) => [
  ...logsArgs(dir),
  '--distribution',
  id,
  '--endpoint-url',
  endpoint,
  ...more,
];

describe('diagnose with CloudFront in front', () => {
  it('--json: the Lambda cause stays the root cause; CloudFront findings, their fix, and the per-minute join', async () => {
    const dir = await evidenceDir();
    const c = fakeCli();
    const code = await main(args(dir, ID, '--json'), c.ctx);
    expect(c.err.join('')).toBe('');
    // A root cause other than healthy is a verdict (exit 6).
    expect(code).toBe(6);
    expect(requests).toContain(`GET /2020-05-31/distribution/${ID}/config`);
    const doc = JSON.parse(c.out.join(''));
    expect(doc.rootCause).not.toMatch(/^cloudfront-/);
    const byCode = Object.fromEntries(doc.findings.map((f: { code: string }) => [f.code, f]));
    expect(byCode['cloudfront-error-caching'].title).toBe(
      '46 of 52 viewer 5xx were cached replays of an origin error (ErrorCachingMinTTL 10 s); the ALB answered 6',
    );
    expect(byCode['cloudfront-error-caching'].fix.terraform).toContain('error_caching_min_ttl = 0');
    expect(byCode['cloudfront-masked-origin'].title).toContain(
      `custom error page ${HOSTILE_PAGE} (status 502)`,
    );
    expect(doc.cloudfront).toMatchObject({
      distributionId: ID,
      viewerSource: 'logs',
      viewer5xx: 52,
      alb5xx: 6,
      replayed: 46,
      series: [
        { minute: '2026-11-24T10:00:00.000Z', viewer5xx: 40, viewerOrigin5xx: 40, alb5xx: 4, replayed: 36 },
        { minute: '2026-11-24T10:01:00.000Z', viewer5xx: 12, viewerOrigin5xx: 12, alb5xx: 2, replayed: 10 },
      ],
    });
    expect(doc.gaps.join('\n')).not.toContain('CloudFront configuration not read');
  });

  it('prints the findings with the fix on the terminal, and an unknown distribution becomes a stated gap', async () => {
    const dir = await evidenceDir();
    const c = fakeCli();
    const code = await main(args(dir, 'ENOSUCH'), c.ctx);
    expect(code).toBe(6);
    const text = c.out.join('');
    expect(text).toContain('CloudFront: cloudfront-error-caching (70%)');
    expect(text).toContain('CloudFormation:');
    expect(text).toContain('ErrorCachingMinTTL: 0');
    expect(text).toContain('CloudFront distribution ENOSUCH:');
  });

  it('CloudFront logs alone, with viewer 5xx and no rule to explain them: unexplained, never healthy (exit 6)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-cf-diag-'));
    const lines = [cloudFrontLine(T0), cloudFrontLine(T0 + 1000, { status: 504, detail: 'OriginCommError' })];
    await writeFile(join(dir, 'cf.log'), `${cloudFrontFileHeader()}${lines.join('\n')}\n`);
    const c = fakeCli();
    const code = await main([...logsArgs(dir), '--json'], c.ctx);
    expect(code).toBe(6);
    const doc = JSON.parse(c.out.join(''));
    expect(doc.rootCause).toBe('unexplained');
    expect(doc.headline).toBe('unexplained: 1 5xx CloudFront sent to viewers match no known cause');
    expect(doc.cloudfront).toMatchObject({ viewer5xx: 1, viewerOrigin5xx: 0, alb5xx: 0 });
  });

  it('--html: one chart of viewer-side and ALB-side 5xx per minute, every string escaped', async () => {
    const dir = await evidenceDir();
    const html = join(dir, 'report.html');
    const c = fakeCli();
    expect(await main(args(dir, ID, '--html', html), c.ctx)).toBe(6);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('id="chart-edge"');
    expect(page).toContain('5xx per minute: what viewers got from CloudFront, what the ALB answered');
    expect(page).toContain('cloudfront-error-caching');
    expect(page).toContain('error_caching_min_ttl = 0');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
