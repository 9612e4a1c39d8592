import { describe, expect, it } from 'vitest';
import { SlotList } from '../../src/platform/slot-list.js';

describe('SlotList', () => {
  it('holds what was added until it is removed, and counts it', () => {
    const list = new SlotList<{ name: string }>();
    const a = { name: 'a' };
    const b = { name: 'b' };
    const slotA = list.add(a);
    const slotB = list.add(b);
    expect(list.size).toBe(2);
    expect(list.values()).toEqual([a, b]);
    list.remove(slotA, a);
    expect(list.size).toBe(1);
    expect(list.values()).toEqual([b]);
    list.remove(slotB, b);
    expect(list.size).toBe(0);
    expect(list.values()).toEqual([]);
  });

  it('reuses freed slots, so steady churn never grows it past its peak', () => {
    const list = new SlotList<number>();
    const live: { slot: number; item: number }[] = [];
    const slotsSeen = new Set<number>();
    for (let item = 0; item < 10_000; item++) {
      const slot = list.add(item);
      slotsSeen.add(slot);
      live.push({ slot, item });
      if (live.length > 50) {
        const oldest = live.shift();
        if (oldest) list.remove(oldest.slot, oldest.item);
      }
    }
    expect(list.size).toBe(50);
    expect(slotsSeen.size).toBe(51);
    expect(list.values().sort((x, y) => x - y)).toEqual(live.map(({ item }) => item).sort((x, y) => x - y));
  });

  it('ignores a second remove, and a remove of a slot that holds something else by now', () => {
    const list = new SlotList<string>();
    const slot = list.add('first');
    list.remove(slot, 'first');
    list.remove(slot, 'first');
    expect(list.size).toBe(0);
    const reused = list.add('second');
    expect(reused).toBe(slot);
    list.remove(slot, 'first');
    list.remove(-1, 'second');
    expect(list.size).toBe(1);
    expect(list.values()).toEqual(['second']);
  });

  it('hands out a copy: removing while going through the items is safe', () => {
    const list = new SlotList<{ slot: number }>();
    const items = Array.from({ length: 5 }, () => ({ slot: -1 }));
    for (const item of items) item.slot = list.add(item);
    for (const item of list.values()) list.remove(item.slot, item);
    expect(list.size).toBe(0);
  });
});
