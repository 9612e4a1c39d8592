/**
 * Items in flight, each in a numbered slot: `add` returns the slot, `remove` frees it for reuse.
 *
 * For long-lived collections that see one add and one remove per request. A JS Set or Map under
 * that churn keeps rehashing into new backing tables, and on Node 20's V8 a retired table still
 * points at the entries it held and at the table that replaced it. Once one such table has reached
 * the old generation, the young-generation collector takes its stale pointers for live ones: every
 * request an entry held is copied and promoted with all it references, and so is the next table,
 * which keeps the chain going (BENCHMARKS.md, gateway section: ~3 MB promoted per scavenge and
 * 8 ms pauses instead of 1.5 ms, in about half of the runs). An array of slots is never replaced
 * while it stays within its peak size, and a freed slot holds nothing.
 */
export class SlotList<T> {
  private readonly slots: (T | undefined)[] = [];
  private readonly free: number[] = [];
  private count = 0;

  add(item: T): number {
    const slot = this.free.pop() ?? this.slots.length;
    this.slots[slot] = item;
    this.count++;
    return slot;
  }

  /** Frees `slot` if it still holds `item`; removing twice, or a slot reused since, changes nothing. */
  remove(slot: number, item: T): void {
    if (slot < 0 || this.slots[slot] !== item) return;
    this.slots[slot] = undefined;
    this.free.push(slot);
    this.count--;
  }

  get size(): number {
    return this.count;
  }

  /** The items present now, as a copy: a caller may remove items while it goes through them. */
  values(): T[] {
    return this.slots.filter((item): item is T => item !== undefined);
  }
}
