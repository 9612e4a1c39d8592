import type { SqliteDatabase } from 'kysely';

/**
 * Kysely opens SQLite transactions with a plain (deferred) `begin`. Background writes run on
 * their own connection in a worker thread (sqlite-thread-dialect.ts), so they can commit between
 * a transaction's first read and its first write; SQLite then refuses that write at once with
 * SQLITE_BUSY_SNAPSHOT, without waiting. `begin immediate` takes the write lock up front, where
 * the busy timeout waits out the writer thread's short batch instead.
 */
export function withImmediateTransactions(sqlite: SqliteDatabase): SqliteDatabase {
  return {
    close: () => sqlite.close(),
    prepare: (sql) => sqlite.prepare(sql === 'begin' ? 'begin immediate' : sql),
  };
}
