import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runsTest } from '../../src/common/stats.js';
import type { ProbeRecord } from '../../src/probe/record.js';
import { intersectionMs, runsTestFromCounts, SummaryBuilder, summarize } from '../../src/probe/summary.js';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

/** Records for a pass/fail pattern: one per 100 ms, 10 ms each. */
function records(pattern: readonly boolean[], urlIndex = 0, url = 'http://a/', seqStart = 1): ProbeRecord[] {
  return pattern.map((failed, i) => {
    const sent = T0 + i * 100;
    return {
      seq: seqStart + i,
      urlIndex,
      urlSeq: i + 1,
      url,
      intended: sent,
      sent,
      at: new Date(sent).toISOString(),
      latencyMs: 10 + i,
      serviceMs: 10,
      status: failed ? 502 : 200,
      bytes: 2,
      traceId: `Root=1-00000000-${String(i).padStart(24, '0')}`,
      ok: !failed,
      error: null,
      origin: failed ? 'alb' : null,
    };
  });
}

const F = true;
const o = false;

describe('summary: counts and episodes', () => {
  it('finds maximal runs of consecutive failures with their first/last seq, times and length', () => {
    // Prepare
    const recs = records([o, F, F, o, o, F, o, F, F, F]);
    // Act
    const s = summarize(['http://a/'], recs);
    // Assess
    expect(s.total).toBe(10);
    expect(s.failed).toBe(6);
    expect(s.succeeded).toBe(4);
    expect(s.byStatus).toEqual({ '200': 4, '502': 6 });
    expect(s.byOrigin.alb).toBe(6);
    expect(s.episodes.map((e) => [e.firstSeq, e.lastSeq, e.failures])).toEqual([
      [2, 3, 2],
      [6, 6, 1],
      [8, 10, 3],
    ]);
    expect(s.episodes[0]!.start).toBe(new Date(T0 + 100).toISOString());
    expect(s.episodes[0]!.end).toBe(new Date(T0 + 200 + 10).toISOString());
    expect(s.longestStreak).toBe(3);
    expect(s.currentStreak).toBe(3);
    expect(s.successRate).toBeCloseTo(0.4);
  });

  it('gives the same summary whatever order records complete in, however far ahead, with skipped numbers, for one URL or two', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.boolean(),
        (pattern, seed, twoUrls) => {
          // Prepare: records of one or two URLs; some numbers stopped in flight (skipped)
          const urls = twoUrls ? ['http://a/', 'http://b/'] : ['http://a/'];
          const recs = records(pattern).map((r, i) => ({
            ...r,
            urlIndex: twoUrls ? i % 2 : 0,
            url: urls[twoUrls ? i % 2 : 0]!,
          }));
          const skipped = new Set(recs.filter((_, i) => (i * 7 + seed) % 11 === 0).map((r) => r.seq));
          const kept = recs.filter((r) => !skipped.has(r.seq));
          // A seeded shuffle: any record may arrive far ahead of earlier ones
          const events: (ProbeRecord | number)[] = [...kept, ...skipped];
          let x = seed || 1;
          for (let i = events.length - 1; i > 0; i--) {
            x = (x * 1103515245 + 12345) % 2 ** 31;
            const j = x % (i + 1);
            [events[i], events[j]] = [events[j]!, events[i]!];
          }
          const b = new SummaryBuilder(urls);
          // Act
          for (const e of events) typeof e === 'number' ? b.skip(e) : b.add(e);
          const waitingBeforeFinish = b.waiting;
          b.finish();
          // Assert: as if they had come in order
          expect(waitingBeforeFinish).toBe(0);
          expect(b.summary()).toEqual(summarize(urls, kept));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the same summary whatever order records complete in', () => {
    const recs = records([o, F, F, o, F, F, F, o, o, F, o]);
    const shuffled = [recs[3]!, recs[0]!, recs[10]!, recs[1]!, recs[2]!, recs[9]!, ...recs.slice(4, 9)];
    expect(summarize(['http://a/'], shuffled)).toEqual(summarize(['http://a/'], recs));
  });

  it('treats a skipped (stopped in flight) sequence number as absent, not as a break in order', () => {
    const recs = records([F, F, F, F]);
    const b = new SummaryBuilder(['http://a/']);
    b.add(recs[0]!);
    b.skip(2);
    b.add(recs[3]!);
    b.add(recs[2]!);
    b.finish();
    const s = b.summary();
    expect(s.total).toBe(3);
    expect(s.episodes).toHaveLength(1);
    expect(s.episodes[0]).toMatchObject({ firstSeq: 1, lastSeq: 4, failures: 3 });
  });

  it('separates success and failure latency', () => {
    const s = summarize(['http://a/'], records([o, F]));
    expect(s.latencyMs.max).toBe(10);
    expect(s.failureLatencyMs.max).toBe(11);
  });

  it('reports nulls, not zeros, when nothing completed', () => {
    const s = summarize(['http://a/'], []);
    expect(s.total).toBe(0);
    expect(s.successRate).toBeNull();
    expect(s.latencyMs).toEqual({ p50: null, p90: null, p99: null, max: null });
    expect(s.findings).toEqual(['no request completed']);
  });
});

describe('summary: runs test', () => {
  it('says failures cluster when they come in long streaks', () => {
    const pattern = [...Array(40).fill(o), ...Array(20).fill(F), ...Array(40).fill(o), ...Array(20).fill(F)];
    const s = summarize(['http://a/'], records(pattern));
    expect(s.runsTest.clustered).toBe(true);
    expect(s.runsTest.z).toBeLessThan(-5);
    expect(s.findings.some((f) => f.includes('streaks'))).toBe(true);
  });

  it('does not call alternating failures clustered', () => {
    const pattern = Array.from({ length: 60 }, (_, i) => i % 2 === 0);
    const s = summarize(['http://a/'], records(pattern));
    expect(s.runsTest.clustered).toBe(false);
    expect(s.runsTest.z).toBeGreaterThan(0);
  });

  it('matches common/stats runsTest computed on the whole sequence (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 0, maxLength: 300 }), (pattern) => {
        const s = summarize(['http://a/'], records(pattern));
        const ref = runsTest(pattern);
        expect(s.runsTest.runs).toBe(ref.runs);
        expect(s.runsTest.z).toBeCloseTo(ref.z, 9);
        expect(s.runsTest.p).toBeCloseTo(ref.p, 9);
      }),
    );
  });

  it('is neutral when there are no failures or no successes', () => {
    expect(runsTestFromCounts(10, 0, 1)).toMatchObject({ z: 0, p: 1, clustered: false });
    expect(runsTestFromCounts(10, 10, 1)).toMatchObject({ z: 0, p: 1, clustered: false });
  });
});

describe('summary: properties', () => {
  it("episodes' failures sum to failed, episodes are maximal and ordered (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 400 }), (pattern) => {
        const s = summarize(['http://a/'], records(pattern));
        expect(s.episodes.reduce((n, e) => n + e.failures, 0)).toBe(s.failed);
        expect(s.succeeded + s.failed).toBe(s.total);
        for (const e of s.episodes) {
          expect(e.lastSeq - e.firstSeq + 1).toBe(e.failures);
          // Maximal: the neighbours are successes (or the ends).
          if (e.firstSeq > 1) expect(pattern[e.firstSeq - 2]).toBe(false);
          if (e.lastSeq < pattern.length) expect(pattern[e.lastSeq]).toBe(false);
        }
        for (let i = 1; i < s.episodes.length; i++) {
          expect(s.episodes[i]!.firstSeq).toBeGreaterThan(s.episodes[i - 1]!.lastSeq + 1);
        }
      }),
    );
  });

  it('is independent of completion order (property)', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.boolean(), { minLength: 1, maxLength: 80 })
          .chain((p) =>
            fc.tuple(
              fc.constant(p),
              fc.shuffledSubarray(records(p), { minLength: p.length, maxLength: p.length }),
            ),
          ),
        ([pattern, shuffled]) => {
          expect(summarize(['http://a/'], shuffled)).toEqual(summarize(['http://a/'], records(pattern)));
        },
      ),
    );
  });
});

describe('summary: several URLs', () => {
  it('keeps per-URL results and reports overlapping failure episodes', () => {
    // URL a and b interleaved in seq; both fail in the same time window.
    const a = records([o, o, F, F, F, o, o], 0, 'http://a/');
    const b = records([o, o, o, F, F, o, o], 1, 'http://b/');
    const merged: ProbeRecord[] = [];
    a.forEach((r, i) => {
      merged.push({ ...r, seq: 2 * i + 1 });
      merged.push({ ...b[i]!, seq: 2 * i + 2, sent: b[i]!.sent + 5 });
    });
    const s = summarize(['http://a/', 'http://b/'], merged);
    expect(s.urls.map((u) => [u.url, u.total, u.failed])).toEqual([
      ['http://a/', 7, 3],
      ['http://b/', 7, 2],
    ]);
    expect(s.urls[0]!.episodes).toHaveLength(1);
    expect(s.urls[0]!.episodes[0]).toMatchObject({ firstSeq: 5, lastSeq: 9, failures: 3 });
    expect(s.overlaps).toHaveLength(1);
    expect(s.overlaps[0]).toMatchObject({ a: 'http://a/', b: 'http://b/', overlappingA: 1, overlappingB: 1 });
    expect(s.overlaps[0]!.overlapMs).toBeGreaterThan(0);
    expect(s.findings.some((f) => f.includes('fail at the same moments'))).toBe(true);
  });

  it('says when two URLs fail but never together', () => {
    const a = records([F, F, o, o, o, o], 0, 'http://a/');
    const b = records([o, o, o, o, F, F], 1, 'http://b/', 100);
    const s = summarize(['http://a/', 'http://b/'], [...a, ...b]);
    expect(s.overlaps[0]).toMatchObject({ overlappingA: 0, overlappingB: 0, overlapMs: 0 });
    expect(s.findings.some((f) => f.includes('never at the same time'))).toBe(true);
  });

  it('intersects interval lists', () => {
    expect(
      intersectionMs(
        [
          { start: 0, end: 10 },
          { start: 20, end: 30 },
        ],
        [{ start: 5, end: 25 }],
      ),
    ).toBe(10);
  });
});

describe('summary: service time histogram', () => {
  it('gives service-time percentiles of the services, whether they equal the latencies throughout, at first only, or never', () => {
    // Prepare: closed-loop records (service = latency), then open-model ones (service < latency)
    const sameFirst = records(Array.from({ length: 200 }, () => o)).map((r, i) =>
      i < 150
        ? { ...r, latencyMs: 100 + i, serviceMs: 100 + i }
        : { ...r, latencyMs: 900 + i, serviceMs: 1 + i },
    );
    const allSame = sameFirst.slice(0, 150);
    const neverSame = sameFirst.slice(150);
    const exact = (rs: ProbeRecord[]) => {
      const v = rs.map((r) => r.serviceMs).sort((a, b) => a - b);
      return { p50: v[Math.ceil(v.length * 0.5) - 1], max: v[v.length - 1] };
    };
    for (const rs of [sameFirst, allSame, neverSame]) {
      // Act
      const s = summarize(['http://a/'], rs);
      // Assert: HDR at 3 significant digits
      expect(s.serviceMs.p50).toBeCloseTo(exact(rs).p50!, 0);
      expect(s.serviceMs.max).toBeCloseTo(exact(rs).max!, 0);
      expect(s.urls[0]!.serviceMs).toEqual(s.serviceMs);
    }
    expect(summarize(['http://a/'], sameFirst).latencyMs.max).toBeCloseTo(1099, 0);
  });
});
