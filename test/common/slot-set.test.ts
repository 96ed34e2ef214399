import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotSet } from '../../src/common/slot-set.js';

const item = (id: number) => ({ id, slot: -1 });
const ids = (set: SlotSet<{ id: number; slot: number }>) => {
  const out: number[] = [];
  set.forEach((x) => {
    out.push(x.id);
  });
  return out.sort((a, b) => a - b);
};

describe('SlotSet', () => {
  it('holds what was added and not deleted, reusing freed slots', () => {
    const set = new SlotSet<{ id: number; slot: number }>();
    const a = item(1);
    const b = item(2);
    const c = item(3);
    set.add(a);
    set.add(b);
    set.delete(a);
    expect(a.slot).toBe(-1);
    set.add(c);
    expect(c.slot).toBe(0);
    expect(ids(set)).toEqual([2, 3]);
    expect(set.size).toBe(2);
  });

  it('ignores deleting what is not in it (twice, or never added)', () => {
    const set = new SlotSet<{ id: number; slot: number }>();
    const a = item(1);
    const b = item(2);
    set.add(a);
    set.delete(b);
    set.delete(a);
    set.delete(a);
    set.add(b);
    expect(ids(set)).toEqual([2]);
    expect(set.size).toBe(1);
  });

  it('visits every item once while items delete themselves during the walk', () => {
    const set = new SlotSet<{ id: number; slot: number }>();
    const items = [1, 2, 3, 4, 5].map(item);
    for (const x of items) set.add(x);
    const seen: number[] = [];
    set.forEach((x) => {
      seen.push(x.id);
      set.delete(x);
    });
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(set.size).toBe(0);
    expect(ids(set)).toEqual([]);
  });

  it('has, values and clear agree with what was added', () => {
    const set = new SlotSet<{ id: number; slot: number }>();
    const [a, b, c] = [item(1), item(2), item(3)];
    set.add(a);
    set.add(b);
    set.add(c);
    set.delete(b);
    expect(set.has(a)).toBe(true);
    expect(set.has(b)).toBe(false);
    expect(set.values().map((x) => x.id)).toEqual([1, 3]);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has(a)).toBe(false);
    expect(a.slot).toBe(-1);
    set.add(b);
    expect(set.values()).toEqual([b]);
  });

  it('matches a Set under any sequence of adds and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 9 })), { maxLength: 200 }),
        (ops) => {
          const items = Array.from({ length: 10 }, (_, i) => item(i));
          const set = new SlotSet<{ id: number; slot: number }>();
          const model = new Set<number>();
          for (const [add, i] of ops) {
            if (add && !model.has(i)) {
              set.add(items[i]!);
              model.add(i);
            } else if (!add) {
              set.delete(items[i]!);
              model.delete(i);
            }
          }
          expect(ids(set)).toEqual([...model].sort((a, b) => a - b));
          expect(set.size).toBe(model.size);
        },
      ),
    );
  });
});
