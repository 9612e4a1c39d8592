import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../db/database.js';
import { withImmediateTransactions } from '../../db/sqlite-immediate.js';
import { withStatementCache } from '../../db/statement-cache.js';

/**
 * The records thread's own connection to the SQLite file (records-thread-worker.ts), also what
 * bench/records-write.ts measures. `synchronous = NORMAL`, as the store's own connection under its
 * WAL (connect.ts): no fsync per commit. `begin immediate`, as there too: a batch takes the write
 * lock up front.
 */
export function openRecordsConnection(file: string, busyTimeoutMs: number): Kysely<Database> {
  const sqlite = new BetterSqlite3(file, { timeout: busyTimeoutMs });
  sqlite.pragma('synchronous = NORMAL');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withImmediateTransactions(withStatementCache(sqlite)) }) });
}
