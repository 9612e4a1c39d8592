import { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { Store } from '../../db/connect.js';
import { SqliteThreadDialect } from '../../db/sqlite-thread-dialect.js';

/**
 * A background write that waits for a lock another process holds gives up after this long and is
 * retried later with backoff (RELIABILITY F21). It waits on the writer thread, never on the event
 * loop; the short wait keeps one stuck batch from delaying the next flush.
 */
const BACKGROUND_BUSY_TIMEOUT_MS = 50;

/** The handle background writes go through, and how to close it. */
export interface BackgroundWriter {
  readonly db: Kysely<Database>;
  close(): Promise<void>;
}

/**
 * Background writes (records, counters, heartbeats) must never freeze the proxy. better-sqlite3
 * is synchronous, so for a SQLite file they run on their own connection in a worker thread
 * (db/sqlite-thread-dialect.ts); PostgreSQL writes do not block the event loop, and an in-memory
 * SQLite has one connection only, so both keep the store's handle.
 */
export function openBackgroundWriter(store: Store): BackgroundWriter {
  const file = store.sqlite?.name;
  if (store.dialect !== 'sqlite' || file === undefined || file === ':memory:' || store.sqlite?.memory === true) {
    return { db: store.db, close: () => Promise.resolve() };
  }
  const db = new Kysely<Database>({ dialect: new SqliteThreadDialect({ file, busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS }) });
  return { db, close: () => db.destroy() };
}
