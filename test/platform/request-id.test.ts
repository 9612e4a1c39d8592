import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/platform/request-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newRequestId', () => {
  it('is an RFC 9562 UUIDv7 carrying the millisecond timestamp', () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0, 123);
    const id = newRequestId(now);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replace('-', '').slice(0, 12), 16)).toBe(now);
  });

  it('never repeats, across many refills of its random pool', () => {
    const ids = Array.from({ length: 20_000 }, () => newRequestId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
  });

  it('sorts by creation time across milliseconds (records are keyed by it)', () => {
    const ids = [3, 1, 2].map((offset) => newRequestId(1_700_000_000_000 + offset));
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0]]);
  });
});
