import { describe, expect, test } from 'vitest';
import { MemoryMetricsStore } from '../../src/lab/metrics-store.js';
import { MemoryObjectStore } from '../../src/lab/object-store.js';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const id = (dims: Record<string, string> = {}) => ({
  namespace: 'AWS/Lambda',
  metricName: 'Duration',
  dimensions: Object.entries(dims).map(([name, value]) => ({ name, value })),
});

describe('MemoryMetricsStore', () => {
  test('statistics at 1 s and 60 s periods, buckets aligned to the epoch, empty buckets omitted', () => {
    const m = new MemoryMetricsStore();
    const a = id({ FunctionName: 'a' });
    // seconds 0, 0, 0, 1
    [10, 20, 30, 40].forEach((v, i) => {
      m.put(a, v, T0 + i * 400);
    });
    m.put(a, 100, T0 + 120_500); // minute 2
    const q = (stat: Parameters<MemoryMetricsStore['query']>[1], period: number) =>
      m.query(a, stat, period, T0, T0 + 180_000);
    expect(q('Sum', 1)).toEqual({ timestampsMs: [T0, T0 + 1000, T0 + 120_000], values: [60, 40, 100] });
    expect(q('Sum', 60)).toEqual({ timestampsMs: [T0, T0 + 120_000], values: [100, 100] });
    expect(q('Average', 60).values).toEqual([25, 100]);
    expect(q('Maximum', 60).values).toEqual([40, 100]);
    expect(q('Minimum', 60).values).toEqual([10, 100]);
    expect(q('SampleCount', 60).values).toEqual([4, 1]);
    expect(q('p50', 60).values).toEqual([20, 100]);
    expect(q('p99', 300).values).toEqual([100]);
    // [start, end): the end is excluded
    expect(m.query(a, 'Sum', 1, T0, T0 + 1000).values).toEqual([60]);
  });

  test('dimensions match exactly (order-insensitive) for queries, partially for list', () => {
    const m = new MemoryMetricsStore();
    m.put(id({ FunctionName: 'a', Resource: 'a' }), 1, T0);
    m.put(id({ FunctionName: 'a' }), 2, T0);
    m.put(id(), 3, T0);
    m.put({ namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: [] }, 1, T0);
    expect(m.query(id({ Resource: 'a', FunctionName: 'a' }), 'Sum', 60, T0, T0 + 60_000).values).toEqual([1]);
    expect(m.query(id({ FunctionName: 'a' }), 'Sum', 60, T0, T0 + 60_000).values).toEqual([2]);
    expect(m.query(id(), 'Sum', 60, T0, T0 + 60_000).values).toEqual([3]);
    expect(m.list({ namespace: 'AWS/Lambda' })).toHaveLength(3);
    expect(m.list({ dimensions: [{ name: 'FunctionName' }] })).toHaveLength(2);
    expect(m.list({ dimensions: [{ name: 'Resource', value: 'a' }] })).toHaveLength(1);
    expect(m.list({ metricName: 'RequestCount' })).toHaveLength(1);
  });

  test('out-of-order datapoints land in their own second', () => {
    const m = new MemoryMetricsStore();
    m.put(id(), 1, T0 + 5000);
    m.put(id(), 2, T0 + 1000);
    m.put(id(), 3, T0 + 5500);
    expect(m.query(id(), 'Sum', 1, T0, T0 + 10_000)).toEqual({
      timestampsMs: [T0 + 1000, T0 + 5000],
      values: [2, 4],
    });
  });
});

describe('MemoryObjectStore', () => {
  test('lists keys by prefix in UTF-8 binary order with MD5 ETags', () => {
    const s = new MemoryObjectStore(() => T0);
    s.createBucket('b');
    s.put('b', 'p/é', Buffer.from('x'));
    s.put('b', 'p/z', Buffer.from('x'));
    s.put('b', 'q/a', Buffer.from('hello'));
    expect(s.list('b', 'p/').map((o) => o.key)).toEqual(['p/z', 'p/é']);
    expect(s.get('b', 'q/a')!.etag).toBe('"5d41402abc4b2a76b9719d911017c592"');
    expect(s.hasBucket('b')).toBe(true);
    expect(s.hasBucket('c')).toBe(false);
    expect(s.buckets()).toEqual([{ name: 'b', createdMs: T0 }]);
  });
});
