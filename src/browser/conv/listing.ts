import { randomInt } from 'node:crypto';

/** Go's encoding/json writes map keys sorted at every level; the seed re-encoded listings so. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeysDeep((value as Record<string, unknown>)[key]);
  return sorted;
}

/** The seed's empty listing that makes the client start a new conversation (SEEDS-SPEC §4.6 (1)). */
export const EMPTY_LISTING = '{"items":[],"total":0,"limit":1,"offset":0,"has_missing_conversations":false}';

function itemIds(listing: Readonly<Record<string, unknown>>): string[] {
  const items = listing['items'];
  if (!Array.isArray(items)) return [];
  return items.map((item: unknown) => {
    const id = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['id'] : undefined;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
  });
}

/**
 * SEEDS-SPEC §4.6 (1): `index` is 0 unless -multi; with -multi a random conversation among the
 * first `total` that no answer is streaming into, or -1 when all are busy. `multi` tells which.
 * Recomputed on every call, cached or not; the result is re-encoded with sorted keys.
 */
export function decorateListing(listing: Readonly<Record<string, unknown>>, options: { multi: boolean; isBusy: (id: string) => boolean }): string {
  let index = 0;
  if (options.multi) {
    const total = typeof listing['total'] === 'number' ? listing['total'] : 0;
    const ids = itemIds(listing).slice(0, Math.max(0, total));
    const free = ids.flatMap((id, position) => (id !== '' && !options.isBusy(id) ? [position] : []));
    index = free.length === 0 ? -1 : (free[randomInt(free.length)] ?? -1);
  }
  return JSON.stringify(sortKeysDeep({ ...listing, index, multi: options.multi }));
}
