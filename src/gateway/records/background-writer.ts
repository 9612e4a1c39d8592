import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../db/database.js';
import type { Store } from '../../db/connect.js';
import { withStatementCache } from './statement-cache.js';

/**
 * better-sqlite3 is synchronous: a write that waits for a lock another process holds waits on the
 * event loop. The main connection waits up to 5 s (fine for a request that needs its write), but
 * background writes (records, heartbeats) must never freeze the proxy, so they get their own
 * connection that gives up after this long and retries later with backoff (RELIABILITY F21).
 */
const BACKGROUND_BUSY_TIMEOUT_MS = 50;

/** The handle background writes go through, and how to close it. */
export interface BackgroundWriter {
  readonly db: Kysely<Database>;
  close(): Promise<void>;
}

export function openBackgroundWriter(store: Store): BackgroundWriter {
  const file = store.sqlite?.name;
  if (store.dialect !== 'sqlite' || file === undefined || file === ':memory:' || store.sqlite?.memory === true) {
    // PostgreSQL writes do not block the event loop; an in-memory SQLite has one connection only.
    return { db: store.db, close: () => Promise.resolve() };
  }
  const sqlite = new BetterSqlite3(file, { timeout: BACKGROUND_BUSY_TIMEOUT_MS });
  sqlite.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, close: () => db.destroy() };
}
