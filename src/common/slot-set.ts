/**
 * A set of objects that come and go all the time (requests in flight, pending timers), each kept
 * in a slot of one array (freed slots reused) and knowing its slot: add, delete and walk without
 * a hash table.
 *
 * Why not a Set: a Set under constant add/delete is rebuilt every few operations, and V8 links
 * each replaced table to its successor (so that live iterators can follow). Once one replaced
 * table has been promoted to the old generation, the chain keeps every later table, and every
 * object they held, alive through young-generation collections until the next full one: they are
 * all promoted, and the process spends its time copying and marking them. Measured in the probe
 * (docs/performance.md): about half the runs fell into that mode, at 2-3 µs more per request.
 */
export class SlotSet<T extends { slot: number }> {
  private readonly slots: (T | undefined)[] = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `item` (not in any SlotSet: its `slot` is -1). */
  add(item: T): void {
    const slot = this.free.length > 0 ? this.free.pop()! : this.slots.length;
    this.slots[slot] = item;
    item.slot = slot;
    this.count++;
  }

  /** Removes `item`; nothing happens when it is not in this set. */
  delete(item: T): void {
    const slot = item.slot;
    if (slot < 0 || this.slots[slot] !== item) return;
    this.slots[slot] = undefined;
    item.slot = -1;
    this.free.push(slot);
    this.count--;
  }

  has(item: T): boolean {
    return item.slot >= 0 && this.slots[item.slot] === item;
  }

  /**
   * Calls `f` for each item in the set now; `f` may delete items (an item added meanwhile, in a
   * freed slot, may be visited too).
   */
  forEach(f: (item: T) => void): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const item = slots[i];
      if (item !== undefined) f(item);
    }
  }

  /** The items in the set now, in a new array. */
  values(): T[] {
    const out: T[] = [];
    for (const item of this.slots) if (item !== undefined) out.push(item);
    return out;
  }

  clear(): void {
    for (const item of this.slots) if (item !== undefined) item.slot = -1;
    this.slots.length = 0;
    this.free.length = 0;
    this.count = 0;
  }
}
