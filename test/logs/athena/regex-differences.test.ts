/**
 * Where the AWS table's `input.regex` reads a line differently from our parser: each difference
 * shown on a line, the agreement everywhere else checked on the tricky lines the scanner tests
 * use, and the summary difference it makes through the lab's Athena. docs/athena.md lists them.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unescapeHiveString } from '../../../src/lab/athena/hive-ddl.js';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import { analyseAlbLogs } from '../../../src/logs/analyse.js';
import { AthenaQueryRunner } from '../../../src/logs/athena/client.js';
import { ALB_ATHENA_COLUMNS, ALB_INPUT_REGEX_LITERAL, albAthenaDdl } from '../../../src/logs/athena/ddl.js';
import { analyseOnAthena } from '../../../src/logs/athena/summary.js';
import { parseAlbLine } from '../../../src/logs/parse-line.js';
import type { AlbLogRecord } from '../../../src/logs/record.js';
import { albLogDayPrefix } from '../../../src/logs/s3-key.js';
import { mutatedReal, REAL_LINES, realWithReplacements } from '../../helpers/alb-arbitraries.js';
import { DOC_HTTPS, DOC_LAMBDA_FAILED, THROTTLED_NEW } from '../../helpers/alb-lines.js';
import { ACCOUNT, albLogsRoot, createMemoryBackend, REGION } from '../../helpers/memory-backend.js';

/** RegexSerDe: the whole line must match (Matcher.matches), the DDL literal read as Hive reads it. */
const REGEX = new RegExp(`^(?:${unescapeHiveString(ALB_INPUT_REGEX_LITERAL)})$`);
const col = (name: string) => ALB_ATHENA_COLUMNS.findIndex(([n]) => n === name) + 1;

function both(line: string): { record: AlbLogRecord | undefined; groups: string[] | undefined } {
  let record: AlbLogRecord | undefined;
  try {
    record = parseAlbLine(line);
  } catch {
    record = undefined;
  }
  const m = REGEX.exec(line.replace(/\r$/, ''));
  return { record, groups: m ? [...m] : undefined };
}

const swap = (line: string, from: string, to: string) => {
  expect(line).toContain(from);
  return line.replace(from, to);
};

describe('the regex has one group per column', () => {
  it('34 columns, 34 groups, and the AWS documentation entries match', () => {
    expect(new RegExp(`${REGEX.source}|`).exec('')?.length).toBe(ALB_ATHENA_COLUMNS.length + 1);
    for (const line of [DOC_LAMBDA_FAILED, DOC_HTTPS]) expect(both(line).groups).toBeDefined();
  });
});

describe('documented differences (docs/athena.md)', () => {
  it('1. a quoted field with an escaped quote: the parser reads it, the regex rejects the line (all NULL)', () => {
    const { record, groups } = both(THROTTLED_NEW);
    expect(record?.userAgent).toBe('Mozilla/5.0 "quoted" ua');
    expect(groups).toBeUndefined();
  });

  it('2. escapes in quoted fields: the parser decodes them, the regex keeps the text', () => {
    const line = swap(DOC_LAMBDA_FAILED, '"LambdaInvalidResponse"', '"Lambda\\x41"');
    const { record, groups } = both(line);
    expect(record?.errorReason).toBe('LambdaA');
    expect(groups?.[col('lambda_error_reason')]).toBe('Lambda\\x41');
  });

  it('3. a quoted value in an unquoted field: the parser unquotes it, the regex keeps the quotes', () => {
    const arn = 'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067';
    const line = swap(DOC_LAMBDA_FAILED, ` ${arn} `, ` "${arn}" `);
    const { record, groups } = both(line);
    expect(record?.targetGroupArn).toBe(arn);
    expect(groups?.[col('target_group_arn')]).toBe(`"${arn}"`);
  });

  it('4. values the parser checks and the regex does not: it accepts them, the parser rejects the line', () => {
    const negative = swap(DOC_LAMBDA_FAILED, ' 0.000 0.001 0.000 ', ' 0.000 -12 0.000 ');
    expect(both(negative).record).toBeUndefined();
    expect(both(negative).groups?.[col('target_processing_time')]).toBe('-12');
    const badMonth = swap(DOC_LAMBDA_FAILED, '2018-11-30T22:23:00.186641Z', '2018-13-30T22:23:00.186641Z');
    expect(both(badMonth).record).toBeUndefined();
    expect(both(badMonth).groups?.[col('time')]).toBe('2018-13-30T22:23:00.186641Z');
  });

  it('5. older layouts (fewer trailing fields): the parser reads them, the current regex rejects them', () => {
    const older = DOC_LAMBDA_FAILED.replace(/ "-" "-"$/, '');
    expect(both(older).record?.errorReason).toBe('LambdaInvalidResponse');
    expect(both(older).groups).toBeUndefined();
  });
});

describe('everywhere else they agree', () => {
  it('on the tricky and real lines: where both accept, status and URL agree; time, reason and target group agree unless quoted or escaped (differences 2, 3)', () => {
    const lines = [
      ...REAL_LINES,
      ...fc.sample(realWithReplacements, { numRuns: 3000, seed: 13 }),
      ...fc.sample(mutatedReal, { numRuns: 3000, seed: 17 }),
    ];
    let compared = 0;
    for (const line of lines) {
      const { record: r, groups: g } = both(line);
      if (!r || !g) continue;
      compared++;
      // Difference 3: a quoted value in an unquoted field keeps its quotes in the regex's group.
      const time = g[col('time')] as string;
      if (!time.startsWith('"')) expect(time, line).toBe(r.time);
      const status = g[col('elb_status_code')] as string;
      expect(status === '-' || status === '' ? null : Number(status), line).toBe(r.elbStatusCode);
      const url =
        r.request === null ? null : r.request.slice(r.request.indexOf(' ') + 1, r.request.lastIndexOf(' '));
      expect(g[col('request_url')], line).toBe(url);
      const reason = g[col('lambda_error_reason')] as string;
      if (!reason.includes('\\')) expect(reason === '-' ? null : reason, line).toBe(r.errorReason);
      const tg = g[col('target_group_arn')] as string;
      if (!tg.startsWith('"')) expect(tg === '-' ? null : tg, line).toBe(r.targetGroupArn);
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

describe('through the lab: the summary difference is the documented one', () => {
  let endpoint: AwsEndpoint;
  let runner: AthenaQueryRunner;
  const root = albLogsRoot('diff-logs');
  const day = Date.UTC(2026, 10, 24);
  const others = REAL_LINES.filter((l) => l !== THROTTLED_NEW);

  beforeAll(async () => {
    const backend = createMemoryBackend();
    backend.addObject(
      'diff-logs',
      `${albLogDayPrefix('', ACCOUNT, REGION, day)}all.log`,
      `${REAL_LINES.join('\n')}\n`,
    );
    backend.addObject('diff-logs', 'others/x.log', `${others.join('\n')}\n`);
    endpoint = await startAwsEndpoint(backend, { port: 0 });
    runner = await AthenaQueryRunner.create({
      aws: { endpointUrl: endpoint.url, region: REGION },
      settings: { outputLocation: 's3://r/' },
      pollMs: { firstMs: 5, maxMs: 50 },
    });
    for (const sql of albAthenaDdl({ location: root, database: 'd', table: 't' })) await runner.run(sql);
  }, 60_000);

  afterAll(async () => {
    runner.close();
    await endpoint.close();
  });

  it('the escaped-quote line is malformed on Athena and counted locally; the rest is equal', async () => {
    const aws = { endpointUrl: endpoint.url, region: REGION };
    const athena = (await analyseOnAthena(runner, { database: 'd', table: 't' })).summary;
    const all = (await analyseAlbLogs([root], { aws, workers: 1 })).summary;
    const withoutIt = (await analyseAlbLogs(['s3://diff-logs/others/'], { aws, workers: 1 })).summary;
    expect(all.lines).toBe(REAL_LINES.length);
    expect(all.malformed).toBe(0);
    expect(athena.lines).toBe(REAL_LINES.length - 1);
    expect(athena.malformed).toBe(1);
    expect(all.byErrorReason.LambdaThrottling).toBe(1);
    expect(athena.byErrorReason.LambdaThrottling).toBeUndefined();
    expect(JSON.parse(JSON.stringify(athena))).toEqual(
      JSON.parse(JSON.stringify({ ...withoutIt, malformed: 1 })),
    );
  });
});
