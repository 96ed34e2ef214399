import { describe, expect, it } from 'vitest';
import {
  captureGroupCount,
  dayAllowed,
  parseStatement,
  partitionConstraint,
  UnsupportedStatementError,
  unescapeHiveString,
} from '../../../src/lab/athena/hive-ddl.js';
import { ALB_INPUT_REGEX_LITERAL, albAthenaDdl } from '../../../src/logs/athena/ddl.js';

describe('Hive string literals', () => {
  it('read as Hive reads them: \\\\ and \\" unescaped, other escapes stand for the character', () => {
    expect(unescapeHiveString(String.raw`\"([^\"]*)\" [^\\s] [^\s] a\_b`)).toBe(
      String.raw`"([^"]*)" [^\s] [^s] a\_b`,
    );
  });
});

describe('capture groups', () => {
  it('counts ( that capture: not escaped, not (?, not inside a class', () => {
    expect(captureGroupCount(String.raw`(a)(?:b)\((c)[(](d)`)).toBe(3);
    expect(captureGroupCount(unescapeHiveString(ALB_INPUT_REGEX_LITERAL))).toBe(34);
    expect(
      captureGroupCount(unescapeHiveString(ALB_INPUT_REGEX_LITERAL.replace('?(?: .*)?', '?( .*)?'))),
    ).toBe(35);
  });
});

describe('statements', () => {
  it('parses our DDL into a RegexSerDe table with a projected day', () => {
    const [db, table] = albAthenaDdl({
      location: 's3://bkt/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/',
      database: 'alb',
      table: 'logs',
    });
    expect(parseStatement(db as string, 'default')).toEqual({
      kind: 'create-database',
      name: 'alb',
      ifNotExists: true,
    });
    const t = parseStatement(table as string, 'default');
    expect(t.kind).toBe('create-table');
    if (t.kind !== 'create-table') return;
    expect(t.table.database).toBe('alb');
    expect(t.table.columns).toHaveLength(34);
    expect(t.table.partitions).toEqual([{ name: 'day', type: 'string' }]);
    expect(t.table.properties['storage.location.template']).toBe(
      `s3://bkt/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/\${day}`,
    );
  });

  it('queries pass through; other statements are unsupported, naming them', () => {
    expect(parseStatement('  with x as (select 1) select * from x', 'd').kind).toBe('query');
    expect(() => parseStatement('ALTER TABLE t ADD PARTITION (day = 1)', 'd')).toThrow(
      UnsupportedStatementError,
    );
    expect(() => parseStatement('ALTER TABLE t ADD PARTITION (day = 1)', 'd')).toThrow(
      /"ALTER TABLE T \.\.\."/,
    );
  });
});

describe('partition pruning from the query text', () => {
  it('reads =, IN, BETWEEN and bounds on day; ANDed ranges narrow, listed days add up', () => {
    const c = partitionConstraint(
      `SELECT 1 FROM t WHERE t.day BETWEEN '2024/05/01' AND '2024/05/09' AND "day" <= '2024/05/03'`,
      'day',
    );
    expect(c).toEqual({ from: '2024/05/01', to: '2024/05/03' });
    expect(dayAllowed('2024/05/03', c)).toBe(true);
    expect(dayAllowed('2024/05/04', c)).toBe(false);
    const listed = partitionConstraint(
      `WHERE day = '2024/05/01' OR day IN ('2024/05/07', '2024/05/08')`,
      'day',
    );
    expect([...(listed.days ?? [])].sort()).toEqual(['2024/05/01', '2024/05/07', '2024/05/08']);
    expect(partitionConstraint(`WHERE today = '2024/05/01'`, 'day')).toEqual({});
  });
});
