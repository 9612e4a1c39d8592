import { randomFillSync } from 'node:crypto';

/** Random bytes are drawn in blocks (as crypto.randomUUID does) rather than per id. */
const POOL_BYTES = 16 * 256;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/**
 * A new request id: an RFC 9562 UUIDv7 (48-bit ms timestamp, then 74 random bits). Ids are also
 * the records table's primary key, and time-ordered keys land at the right edge of its index: a
 * batch of random v4 ids dirtied one index page per row, which halved the SQLite write rate and
 * kept slowing as the table grew (BENCHMARKS.md, gateway section). An id a client sends in
 * x-request-id is used as its request's id, but its record gets one of ours (exchange.ts).
 */
export function newRequestId(now = Date.now()): string {
  if (poolOffset === POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
