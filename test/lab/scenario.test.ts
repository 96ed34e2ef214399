import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/common/errors.js';
import { builtinScenario } from '../../src/lab/builtin.js';
import { loadScenarioFile, parseScenario, scenarioJsonSchema } from '../../src/lab/scenario.js';

const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));

function problemsOf(text: string): string[] {
  try {
    parseScenario(text, { source: 'bad.yaml', baseDir: SCENARIOS });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

const MINIMAL = `
name: ok
functions: [{ name: a, synthetic: { duration: { kind: fixed, value: 200ms } } }]
loadBalancer: { name: lb, targetGroups: [{ name: tg, function: a }], defaultTargetGroup: tg }
`;

describe('scenario files', () => {
  test('a minimal scenario gets AWS defaults', () => {
    const s = parseScenario(MINIMAL);
    expect(s.account).toEqual({
      id: '123456789012',
      region: 'us-east-1',
      concurrencyLimit: 1000,
      unreservedMinimum: 100,
      scalingRate: true,
    });
    expect(s.functions[0]).toMatchObject({
      memoryMb: 128,
      timeout: 3000,
      async: { maximumRetryAttempts: 2, maximumEventAge: 21_600_000 },
    });
    expect(s.loadBalancer.accessLogs).toEqual({
      bucket: 'lab-alb-access-logs',
      prefix: '',
      interval: 300_000,
    });
    expect(s.timeScale).toBe(1);
  });

  test('the unreserved minimum scales with the account limit', () => {
    const s = parseScenario(MINIMAL.replace('name: ok', 'name: ok\naccount: { concurrencyLimit: 50 }'));
    expect(s.account.unreservedMinimum).toBe(5);
  });

  test('every problem is listed at once, each with its path and what was expected', () => {
    const problems = problemsOf(`
name: x
timeScale: -1
account: { concurrencyLimit: 10, bogus: 1, region: moon }
functions:
  - name: "a b"
    timeout: 3x
    synthetic: { duration: { kind: fixed, value: 1s }, errorRate: 2 }
  - name: b
    reservedConcurrency: 20
    synthetic: { duration: { kind: weird } }
  - name: c
    handler: { module: nope.mjs }
    synthetic: { duration: { kind: lognormal, median: 1s, p99: 0.5s } }
loadBalancer:
  name: lb
  targetGroups: [{ name: tg, function: zz }]
  rules: [{ priority: 1, targetGroup: nope }]
  defaultTargetGroup: tg
background: [{ name: q, function: b, kind: queue, rate: [{at: 1s, perSecond: 3}] }]
`);
    const expected = [
      'timeScale: expected a number > 0, got -1',
      'account.region: expected a region (like us-east-1), got "moon"',
      'account.bogus: unknown field (not expected here)',
      'functions[0].name: expected a Lambda function name (1-64 letters, digits, - or _), got "a b"',
      'functions[0].timeout: expected a timeout like 250ms, 3s, 5m or 1h, got "3x"',
      'functions[0].synthetic.errorRate: expected a number <= 1, got 2',
      'functions[1].synthetic.duration.kind: expected one of "fixed", "uniform", "exponential", "lognormal", got "weird"',
      'functions[2]: expected exactly one of "synthetic" or "handler", got both',
      'functions[2].synthetic.duration.p99: expected at least the median',
      'functions: expected reserved concurrency to total at most 9 (limit 10 - unreserved minimum 1), got 20',
      'loadBalancer.targetGroups[0].function: expected one of the functions, "zz" is not defined',
      'loadBalancer.rules[0].targetGroup: expected one of the target groups, "nope" is not defined',
      'loadBalancer.rules[0]: expected at least one condition (path, host or method)',
      'background[0].rate[0].at: expected 0s (the first step starts the scenario)',
    ];
    for (const p of expected) expect(problems).toContain(p);
    expect(problems.some((p) => p.startsWith('functions[2].handler.module: expected a module file'))).toBe(
      true,
    );
    expect(problems).toHaveLength(expected.length + 1);
  });

  test('missing sections are named', () => {
    expect(problemsOf('name: x')).toEqual([
      'functions: expected a list, but it is missing',
      'loadBalancer: expected a mapping, but it is missing',
    ]);
  });

  test('YAML syntax errors give line and column', () => {
    const problems = problemsOf('name: [unclosed\nfoo: bar');
    expect(problems[0]).toMatch(/^line \d+, column \d+: expected valid YAML/);
  });

  test.each(['noisy-neighbour', 'shared-pool'])('the %s file equals the built-in', (name) => {
    const file = loadScenarioFile(`${SCENARIOS}${name}.yaml`);
    const builtin = builtinScenario(name)!;
    expect({ ...file, baseDir: '' }).toEqual({ ...builtin, baseDir: '' });
  });

  test('every example scenario validates; handler paths resolve next to the file', () => {
    const s = loadScenarioFile(`${SCENARIOS}real-handlers.yaml`);
    expect(s.functions.find((f) => f.name === 'orders')!.handlerPath).toBe(`${SCENARIOS}handlers/orders.mjs`);
  });

  test('the JSON Schema describes the file format', () => {
    const schema = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'name',
        'timeScale',
        'account',
        'functions',
        'loadBalancer',
        'background',
        'traffic',
      ]),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'functions', 'loadBalancer']));
    // docs/lab.md embeds it; keep the two in step.
    const doc = readFileSync(fileURLToPath(new URL('../../docs/lab.md', import.meta.url)), 'utf8');
    const block = /### JSON Schema[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc);
    expect(block).not.toBeNull();
    expect(JSON.parse(block![1]!)).toEqual(scenarioJsonSchema());
  });
});
