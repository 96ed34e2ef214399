import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/common/random.js';
import { intendedOffsets, waitUntil } from '../../src/probe/scheduler.js';

describe('open-model schedule', () => {
  it('spaces constant arrivals exactly 1000/rate ms apart, without drift', () => {
    const offsets = intendedOffsets(3, 'constant', 1, 3001);
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBeCloseTo(333.333, 3);
    expect(offsets[3000]).toBe(1_000_000);
  });

  it('supports fractional rates for long soaks', () => {
    expect(intendedOffsets(0.2, 'constant', 1, 3)).toEqual([0, 5000, 10000]);
  });

  it('draws reproducible Poisson arrivals with the right mean gap', () => {
    const a = intendedOffsets(100, 'poisson', 42, 20_001);
    const b = intendedOffsets(100, 'poisson', 42, 20_001);
    expect(a).toEqual(b);
    expect(intendedOffsets(100, 'poisson', 43, 10)).not.toEqual(a.slice(0, 10));
    const meanGap = a[20_000]! / 20_000;
    expect(meanGap).toBeGreaterThan(9.7);
    expect(meanGap).toBeLessThan(10.3);
    for (let i = 1; i < a.length; i++) expect(a[i]!).toBeGreaterThanOrEqual(a[i - 1]!);
    // Exponential gaps: about 1 - 1/e of them are shorter than the mean.
    let short = 0;
    for (let i = 1; i < a.length; i++) if (a[i]! - a[i - 1]! < 10) short++;
    expect(short / 20_000).toBeCloseTo(1 - Math.exp(-1), 1);
  });

  it('seeded random stays in [0, 1)', () => {
    const r = seededRandom(7);
    for (let i = 0; i < 10_000; i++) {
      const v = r();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('waitUntil returns at once when aborted', async () => {
    const c = new AbortController();
    c.abort();
    const t = performance.now();
    await waitUntil(performance.now() + 60_000, c.signal);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('waitUntil does not return before the target', async () => {
    const target = performance.now() + 30;
    await waitUntil(target, new AbortController().signal);
    expect(performance.now()).toBeGreaterThanOrEqual(target - 0.05);
  });
});
