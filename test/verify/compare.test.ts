import { describe, expect, it } from 'vitest';
import { compareFailureRates, fisherExact } from '../../src/verify/compare.js';

describe('compareFailureRates', () => {
  it('reports a large drop as improved with a tiny p-value (z test)', () => {
    const c = compareFailureRates(
      { label: '502 rate', failures: 594, total: 3000 },
      { label: '502 rate', failures: 3, total: 3000 },
    );
    expect(c.test).toBe('two-proportion-z');
    expect(c.verdict).toBe('improved');
    expect(c.pValue).toBeLessThan(1e-9);
    expect(c.sentence).toBe('502 rate 19.8% (n=3,000) -> 0.10% (n=3,000), p < 1e-9: improved');
  });
  it('uses the exact test for small counts, and calls noise no change', () => {
    const c = compareFailureRates(
      { label: 'failures', failures: 2, total: 40 },
      { label: 'failures', failures: 1, total: 40 },
    );
    expect(c.test).toBe('fisher-exact');
    expect(c.verdict).toBe('no-change');
    expect(
      compareFailureRates(
        { label: 'x', failures: 10, total: 1000 },
        { label: 'x', failures: 80, total: 1000 },
      ).verdict,
    ).toBe('worse');
  });
  it('Fisher exact matches known values', () => {
    // Classic tea-tasting table [[3,1],[1,3]]: two-sided p = 0.4857
    expect(fisherExact(3, 1, 1, 3)).toBeCloseTo(0.4857, 4);
    // [[10,0],[0,10]]: p = 2 / C(20,10) = 1.0825e-5
    expect(fisherExact(10, 0, 0, 10)).toBeCloseTo(1.0825e-5, 8);
  });
});
