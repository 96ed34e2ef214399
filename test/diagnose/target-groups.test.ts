/**
 * diagnose with ALB logs that show LambdaThrottling and no CloudWatch: the functions behind the
 * throttled target groups, asked of the lab's ELBv2 API, are the finding's victims; a refusal is a
 * gap, not a failure; the same rule as CloudWatch decides whether AWS is asked at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runDiagnosis } from '../../src/diagnose/run.js';
import { type AwsEndpoint, startAwsEndpoint } from '../../src/lab/aws-api/server.js';
import { lambdaLine } from '../helpers/alb-lines.js';
import { fakeCli } from '../helpers/cli.js';
import { DIAGNOSE_JSON_KEYS } from '../helpers/diagnose-json.js';
import {
  createBackendWithTargetGroups,
  createMemoryBackend,
  type MemoryBackend,
  NO_AWS_CONFIG_ENV,
  REGION,
  targetGroupArn,
} from '../helpers/memory-backend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
let dir: string;
let logFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-diagnose-tg-'));
  logFile = join(dir, 'alb.log');
  const lines: string[] = [];
  // web-tg is throttled more than api-tg; both also serve requests that succeed.
  for (let i = 0; i < 60; i++) {
    const ms = T0 + i * 2_000;
    lines.push(lambdaLine(ms, { tg: targetGroupArn('api-tg'), path: '/api/cart' }));
    lines.push(lambdaLine(ms + 500, { tg: targetGroupArn('web-tg'), path: '/' }));
    if (i % 6 === 0)
      lines.push(
        lambdaLine(ms + 700, { tg: targetGroupArn('api-tg'), path: '/api/cart', reason: 'LambdaThrottling' }),
      );
    if (i % 3 === 0)
      lines.push(
        lambdaLine(ms + 900, { tg: targetGroupArn('web-tg'), path: '/', reason: 'LambdaThrottling' }),
      );
  }
  writeFileSync(logFile, `${lines.join('\n')}\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function diagnoseLogs(opts: { endpointUrl?: string; targetGroups?: boolean }) {
  return runDiagnosis({
    logs: [logFile],
    cloudwatch: false,
    region: REGION,
    env: NO_AWS_CONFIG_ENV,
    sinceMs: T0 - 60_000,
    untilMs: T0 + 10 * 60_000,
    ...opts,
  });
}

describe('diagnose without CloudWatch, with ELBv2 (lab endpoint)', () => {
  let backend: MemoryBackend;
  let endpoint: AwsEndpoint;

  beforeAll(async () => {
    backend = createBackendWithTargetGroups();
    endpoint = await startAwsEndpoint(backend, { port: 0 });
  });

  afterAll(async () => endpoint.close());

  it('names the functions behind the throttled target groups as victims, most throttled first', async () => {
    const { diagnosis } = await diagnoseLogs({ endpointUrl: endpoint.url });
    expect(diagnosis.rootCause).toBe('account-concurrency-exhausted');
    expect(diagnosis.culprit).toBeNull();
    expect(diagnosis.victims).toEqual(['web', 'api']);
    expect(diagnosis.confidence).toBe(0.4);
    expect(diagnosis.headline).toBe(
      'Lambda throttling of web, api behind the load balancer (cause not confirmed: no CloudWatch metrics)',
    );
    const text = diagnosis.findings[0]!.evidence.map((e) => e.text);
    expect(text).toContain(
      'ALB logs: LambdaThrottling by target group: web-tg -> function web (20), api-tg -> function api (10)',
    );
    expect(diagnosis.gaps.some((g) => /target group/.test(g))).toBe(false);
  });

  it('a target group ELBv2 no longer knows: the others still name their function, the gap says which', async () => {
    const partial = createMemoryBackend();
    partial.addTargetGroup('web-tg', ['web']);
    const partialEndpoint = await startAwsEndpoint(partial, { port: 0 });
    try {
      const { diagnosis } = await diagnoseLogs({ endpointUrl: partialEndpoint.url });
      expect(diagnosis.victims).toEqual(['web']);
      expect(diagnosis.findings[0]!.evidence.map((e) => e.text)).toContain(
        'ALB logs: LambdaThrottling by target group: web-tg -> function web (20), api-tg -> function unknown (10)',
      );
      expect(diagnosis.gaps).toContainEqual(
        expect.stringMatching(/^target group targetgroup\/api-tg\/[0-9a-f]+ \(in the logs\) was not found/),
      );
    } finally {
      await partialEndpoint.close();
    }
  });

  it('access denied: the diagnosis is still made, without victims, and the gap names the permission', async () => {
    const denied = createMemoryBackend();
    denied.addTargetGroup('api-tg', ['api']);
    denied.denyElbv2();
    const deniedEndpoint = await startAwsEndpoint(denied, { port: 0 });
    try {
      const { diagnosis } = await diagnoseLogs({ endpointUrl: deniedEndpoint.url });
      expect(diagnosis.rootCause).toBe('account-concurrency-exhausted');
      expect(diagnosis.victims).toEqual([]);
      expect(diagnosis.headline).toBe(
        'Lambda throttling behind the load balancer (cause not confirmed: no CloudWatch metrics)',
      );
      expect(diagnosis.gaps).toContainEqual(
        expect.stringMatching(
          /^target groups not mapped to Lambda functions: .*the caller lacks elasticloadbalancing:DescribeTargetGroups/,
        ),
      );
    } finally {
      await deniedEndpoint.close();
    }
  });

  it('the CLI: `diagnose --json --no-cloudwatch --endpoint-url` lists the victims under the stable keys', async () => {
    const { out, ctx } = fakeCli({ env: NO_AWS_CONFIG_ENV });
    const code = await main(
      [
        'diagnose',
        '--json',
        '--no-cloudwatch',
        '--logs',
        logFile,
        '--endpoint-url',
        endpoint.url,
        '--region',
        REGION,
        '--since',
        new Date(T0 - 60_000).toISOString(),
        '--until',
        new Date(T0 + 10 * 60_000).toISOString(),
      ],
      ctx,
    );
    // A root cause other than "healthy" is a negative verdict (issue 11); --json is printed anyway.
    expect(code).toBe(6);
    const json = JSON.parse(out.join('')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(DIAGNOSE_JSON_KEYS);
    expect(json.victims).toEqual(['web', 'api']);
    const withFlag = fakeCli({ env: NO_AWS_CONFIG_ENV });
    await main(
      [
        'diagnose',
        '--json',
        '--no-cloudwatch',
        '--no-target-groups',
        '--logs',
        logFile,
        '--endpoint-url',
        endpoint.url,
        '--since',
        new Date(T0 - 60_000).toISOString(),
        '--until',
        new Date(T0 + 10 * 60_000).toISOString(),
      ],
      withFlag.ctx,
    );
    expect((JSON.parse(withFlag.out.join('')) as { victims: string[] }).victims).toEqual([]);
  });

  it('--no-target-groups: ELBv2 is not asked, and that is no gap', async () => {
    const { diagnosis } = await diagnoseLogs({ endpointUrl: endpoint.url, targetGroups: false });
    expect(diagnosis.victims).toEqual([]);
    expect(diagnosis.findings[0]!.evidence.map((e) => e.text)).toContain(
      'ALB logs: LambdaThrottling by target group: web-tg -> function unknown (20), api-tg -> function unknown (10)',
    );
    expect(diagnosis.gaps.some((g) => /target group/.test(g))).toBe(false);
  });
});

describe('diagnose without credentials or an endpoint', () => {
  it('does not call AWS for target groups, and says so', async () => {
    const { diagnosis } = await diagnoseLogs({});
    expect(diagnosis.victims).toEqual([]);
    expect(diagnosis.gaps).toContain(
      'the functions behind the throttled target groups were not looked up (ELBv2): no AWS credentials found',
    );
  });
});
