interface Entry<V> {
  readonly value: V;
  readonly storedAt: number;
}

/**
 * A map that keeps at most `maxEntries` (least recently used go first) for at most `ttlMs` each.
 * Users: /conv answers (the seed's map never evicted, SEEDS-SPEC §4.6 [BUG]) and stored gateway
 * keys found in the database.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly limits: { readonly maxEntries: number; readonly ttlMs: number }) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (Date.now() - entry.storedAt >= this.limits.ttlMs) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, storedAt: Date.now() });
    while (this.entries.size > this.limits.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Changes a cached value in place, keeping its age; nothing happens when it is not cached. */
  update(key: string, change: (value: V) => V): void {
    const entry = this.entries.get(key);
    if (entry) this.entries.set(key, { value: change(entry.value), storedAt: entry.storedAt });
  }

  get size(): number {
    return this.entries.size;
  }
}
