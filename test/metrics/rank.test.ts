import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rankNoisyNeighbours } from '../../src/metrics/rank.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const s = (values: number[]) => ({ timestampsMs: values.map((_, i) => T0 + i * 60_000), values });

describe('rankNoisyNeighbours', () => {
  it('shares lie in [0,1], the culprit is never reserved, victims were throttled', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            reserved: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
            conc: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 5, maxLength: 5 }),
            thr: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 5, maxLength: 5 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (fns) => {
          const functions = fns.map((f, i) => ({
            name: `f${i}`,
            reserved: f.reserved,
            series: { concurrentExecutions: s(f.conc), throttles: s(f.thr) },
          }));
          const account = s([0, 1, 2, 3, 4].map((i) => fns.reduce((n, f) => n + (f.conc[i] ?? 0), 0)));
          const r = rankNoisyNeighbours({
            account: { limit: 20 },
            functions,
            accountSeries: { concurrentExecutions: account },
          });
          for (const f of r.functions) {
            expect(f.share).toBeGreaterThanOrEqual(0);
            expect(f.share).toBeLessThanOrEqual(1);
          }
          if (r.culprit) expect(functions.find((f) => f.name === r.culprit)?.reserved).toBeNull();
          for (const v of r.victims)
            expect(r.functions.find((f) => f.name === v)?.throttles).toBeGreaterThan(0);
        },
      ),
    );
  });
  it('says there was no throttling when there was none', () => {
    const r = rankNoisyNeighbours({
      account: { limit: 10 },
      functions: [
        { name: 'a', reserved: null, series: { concurrentExecutions: s([9, 9]), throttles: s([0, 0]) } },
      ],
      accountSeries: { concurrentExecutions: s([9, 9]) },
    });
    expect(r.culprit).toBeNull();
    expect(r.sentence).toBe('no throttling in the window');
  });
});
