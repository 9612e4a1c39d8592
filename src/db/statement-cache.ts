import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct write statements kept prepared; record batches use a handful of shapes. */
const MAX_CACHED = 32;

/**
 * A better-sqlite3 handle whose write statements are prepared once per SQL text, for the SQLite
 * writer thread (sqlite-thread-worker.ts), which gets each statement as text: preparing a 100-row
 * insert of 21 columns is a large share of writing it (BENCHMARKS.md, gateway section). Readers
 * are never cached: one may still be iterating when the same SQL runs again, which better-sqlite3
 * refuses.
 */
export function withStatementCache(database: SqliteDatabase): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached) return cached;
      const statement = database.prepare(sql);
      if (statement.reader) return statement;
      const oldest = cache.size >= MAX_CACHED ? cache.keys().next() : undefined;
      if (oldest?.done === false) cache.delete(oldest.value);
      cache.set(sql, statement);
      return statement;
    },
  };
}
