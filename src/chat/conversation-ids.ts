import { randomBytes } from 'node:crypto';

/**
 * A random conversation id in 1..2^53-1 (SEEDS-SPEC §3.2 [REC]). Seed clients parse ids as
 * integers, and JavaScript clients as doubles, so 53 bits is the most we can use. With N ids in
 * use a new one collides with probability N/2^53 (about 1e-10 at a million), and the insert
 * retries on a collision; guessing someone's id is just as unlikely.
 */
export function newConversationId(): number {
  for (;;) {
    // 64 random bits shifted down to 53.
    const id = Number(randomBytes(8).readBigUInt64BE() >> 11n);
    if (id > 0) return id;
  }
}

/**
 * Parses a path id the way the seed's `strconv.Atoi` does: `[+-]?digits` within int64, else
 * undefined (400). A well-formed integer that cannot be one of our ids becomes 0 (→ 404).
 */
export function parseConversationId(text: string): number | undefined {
  if (!/^[+-]?\d{1,19}$/.test(text)) return undefined;
  const value = BigInt(text);
  if (value > 9_223_372_036_854_775_807n || value < -9_223_372_036_854_775_808n) return undefined;
  return value > 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : 0;
}
