import { describe, expect, it } from 'vitest';
import { traceRootOf } from '../../src/common/trace-id.js';
import type { ProbeRecord } from '../../src/probe/record.js';
import { jsonDocument, progressLine, renderSummary } from '../../src/probe/render.js';
import { type RunInfo, TraceIds } from '../../src/probe/runner.js';
import { summarize } from '../../src/probe/summary.js';

function rec(seq: number, ok: boolean, urlIndex = 0): ProbeRecord {
  const sent = 1_790_000_000_000 + seq * 10;
  return {
    seq,
    urlIndex,
    urlSeq: seq,
    url: 'http://a/',
    intended: sent,
    sent,
    at: new Date(sent).toISOString(),
    latencyMs: 5,
    serviceMs: 5,
    status: ok ? 200 : 502,
    bytes: 2,
    traceId: 'Root=1-00000000-000000000000000000000000',
    ok,
    error: null,
    origin: ok ? null : 'alb',
  };
}

const RUN = {
  urls: ['http://a/'],
  model: { kind: 'closed', concurrency: 1 },
  stoppedBy: 'count',
  elapsedMs: 1234,
  dropped: 0,
  sendLagP99Ms: null,
} as unknown as RunInfo;

describe('TraceIds', () => {
  it('makes unique roots in the ALB format with the current epoch seconds', () => {
    const ids = new TraceIds();
    const now = Date.UTC(2026, 10, 24, 10, 0, 0);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const root = ids.next(now + i);
      expect(traceRootOf(`Root=${root}`)).toBe(root);
      seen.add(root);
    }
    expect(seen.size).toBe(10_000);
    expect(ids.next(now).slice(0, 11)).toBe(`1-${Math.floor(now / 1000).toString(16)}-`);
  });
});

describe('render', () => {
  it('renders the summary with status, origin, episodes, runs test and findings', () => {
    const s = summarize(['http://a/'], [rec(1, true), rec(2, false), rec(3, false), rec(4, true)]);
    const text = renderSummary(s, RUN);
    expect(text).toContain('closed loop, 1 per URL, stopped by count');
    expect(text).toContain('status   200:2 502:2');
    expect(text).toContain('origin   alb:2');
    expect(text).toContain('#2–#3');
    expect(text).toContain('findings');
    expect(text).toContain('502 from the ALB itself');
  });

  it('escapes control characters coming from URLs', () => {
    const line = progressLine(
      {
        url: 'http://a/\x1b[31mred',
        total: 1,
        succeeded: 1,
        failed: 0,
        byStatus: { '200': 1 },
        byError: {},
        p50: 1,
        p99: 2,
        currentStreak: 0,
        rate: 1,
        inFlight: 0,
        dropped: 0,
      },
      1000,
    );
    expect(line).not.toContain('\x1b');
    expect(line).toContain('\\x1b');
  });

  it('puts the summary keys first and the run last in --json', () => {
    const s = summarize(['http://a/'], [rec(1, true)]);
    const doc = JSON.parse(jsonDocument(s, RUN));
    expect(Object.keys(doc).slice(0, 4)).toEqual(['total', 'succeeded', 'failed', 'successRate']);
    expect(Object.keys(doc).at(-1)).toBe('run');
  });
});
