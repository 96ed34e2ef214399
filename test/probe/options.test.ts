import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/common/errors.js';
import { parseExpect, parseHeader, parseProbeOptions, parseRate } from '../../src/probe/options.js';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const m = (error as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('expected a UsageError');
}

describe('parseProbeOptions', () => {
  it('defaults to a gentle open-model rate and says so', () => {
    const o = parseProbeOptions({ urls: ['http://127.0.0.1/'], count: 3 });
    expect(o.model).toMatchObject({ kind: 'open', rate: 1, arrivals: 'constant' });
    expect(o.defaultedRate).toBe(true);
    expect(o.expect).toEqual([{ min: 200, max: 399 }]);
    expect(o.redact).toBe(true);
  });

  it("takes the scenarios' name `uniform` for constant arrivals, and records `constant`", () => {
    const urls = ['http://127.0.0.1/'];
    const uniform = parseProbeOptions({ urls, count: 3, rate: 5, arrivals: 'uniform' });
    expect(uniform.model).toMatchObject({ kind: 'open', arrivals: 'constant' });
    const constant = parseProbeOptions({ urls, count: 3, rate: 5, arrivals: 'constant' });
    expect(constant.model).toMatchObject({ kind: 'open', arrivals: 'constant' });
    expect(
      usageMessage(() => parseProbeOptions({ urls, count: 3, rate: 5, arrivals: 'even' as 'constant' })),
    ).toMatch(/"constant" \(or "uniform"\) or "poisson"/);
  });

  it('uses a closed loop with --concurrency', () => {
    const o = parseProbeOptions({ urls: ['https://x.example/a?b=1'], concurrency: 4, durationMs: 1000 });
    expect(o.model).toEqual({ kind: 'closed', concurrency: 4 });
    expect(o.defaultedRate).toBe(false);
  });

  it('refuses anything but http and https', () => {
    expect(usageMessage(() => parseProbeOptions({ urls: ['ftp://x/'], count: 1 }))).toMatch(/only http/);
    expect(usageMessage(() => parseProbeOptions({ urls: ['file:///etc/passwd'], count: 1 }))).toMatch(
      /only http/,
    );
    expect(usageMessage(() => parseProbeOptions({ urls: ['not a url'], count: 1 }))).toMatch(/<url>/);
  });

  it('refuses an unbounded run unless --forever is explicit', () => {
    expect(usageMessage(() => parseProbeOptions({ urls: ['http://x/'] }))).toMatch(
      /--count, --duration or --forever/,
    );
    expect(parseProbeOptions({ urls: ['http://x/'], forever: true }).forever).toBe(true);
  });

  it('names each bad flag and what it expected, all in one line', () => {
    const m = usageMessage(() =>
      parseProbeOptions({ urls: ['http://x/'], rate: -1, concurrency: 0, count: 1.5, timeoutMs: 0 }),
    );
    expect(m).toContain('--rate:');
    expect(m).toContain('--concurrency:');
    expect(m).toContain('--count:');
    expect(m).toContain('--timeout:');
  });

  it('refuses --rate with --concurrency', () => {
    expect(
      usageMessage(() => parseProbeOptions({ urls: ['http://x/'], rate: 1, concurrency: 1, count: 1 })),
    ).toMatch(/choose one/);
  });
});

describe('flag value parsers', () => {
  it('parses rates including fractional and per-minute ones', () => {
    expect(parseRate('5')).toBe(5);
    expect(parseRate('0.2/s')).toBe(0.2);
    expect(parseRate('30/m')).toBe(0.5);
    expect(parseRate('360/h')).toBe(0.1);
    expect(usageMessage(() => parseRate('0'))).toMatch(/^--rate:/);
    expect(usageMessage(() => parseRate('fast'))).toMatch(/^--rate:/);
  });

  it('parses --expect lists', () => {
    expect(parseExpect('2xx,3xx')).toEqual([
      { min: 200, max: 299 },
      { min: 300, max: 399 },
    ]);
    expect(parseExpect('200-204, 301')).toEqual([
      { min: 200, max: 204 },
      { min: 301, max: 301 },
    ]);
    expect(usageMessage(() => parseExpect('ok'))).toMatch(/^--expect:/);
    expect(usageMessage(() => parseExpect('700'))).toMatch(/^--expect:/);
  });

  it('parses headers', () => {
    expect(parseHeader('Authorization: Bearer x:y')).toEqual(['Authorization', 'Bearer x:y']);
    expect(usageMessage(() => parseHeader('nocolon'))).toMatch(/^--header:/);
  });
});
