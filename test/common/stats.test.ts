import { describe, expect, it } from 'vitest';
import {
  normalCdf,
  runsTest,
  twoProportionZTest,
  twoSidedP,
  wilsonInterval,
} from '../../src/common/stats.js';
import { newTraceRoot, traceRootOf } from '../../src/common/trace-id.js';

describe('stats', () => {
  it('normalCdf matches table values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 6);
    expect(twoSidedP(6)).toBeGreaterThan(0);
    expect(twoSidedP(6)).toBeLessThan(1e-8);
  });

  it('wilsonInterval brackets the proportion and matches a textbook value', () => {
    const { low, high } = wilsonInterval(81, 263);
    expect(low).toBeCloseTo(0.2553, 3);
    expect(high).toBeCloseTo(0.3662, 3);
    expect(wilsonInterval(0, 10).low).toBe(0);
  });

  it('twoProportionZTest separates 20% from 0.1% at n=3000 and not 20% from 20%', () => {
    const strong = twoProportionZTest(600, 3000, 3, 3000);
    expect(strong.z).toBeGreaterThan(20);
    expect(strong.p).toBeLessThan(1e-9);
    expect(twoProportionZTest(600, 3000, 600, 3000).p).toBeCloseTo(1, 9);
  });

  it('runsTest flags streaks and passes alternation', () => {
    const streaky = Array.from({ length: 200 }, (_, i) => Math.floor(i / 20) % 2 === 0);
    const r = runsTest(streaky);
    expect(r.runs).toBe(10);
    expect(r.z).toBeLessThan(-10);
    expect(r.p).toBeLessThan(1e-6);
    const alternating = Array.from({ length: 200 }, (_, i) => i % 2 === 0);
    expect(runsTest(alternating).z).toBeGreaterThan(10);
  });
});

describe('trace id', () => {
  it('makes roots in the ALB format and reads them back', () => {
    const root = newTraceRoot(Date.UTC(2026, 10, 24, 0, 0, 0));
    expect(root).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(root.slice(2, 10)).toBe((Date.UTC(2026, 10, 24) / 1000).toString(16));
    expect(traceRootOf(`Self=1-67891234-12456789abcdef012345678;Root=${root};Foo=bar`)).toBe(root);
    expect(traceRootOf('Root=nonsense')).toBeUndefined();
  });
});
