import { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { Store } from '../../db/connect.js';
import { SqliteThreadDialect } from '../../db/sqlite-thread-dialect.js';
import type { RecordSink } from './recorder.js';
import { RecordsRepository } from './records-repository.js';
import { RecordsThread } from './records-thread.js';

/**
 * A background write that waits for a lock another process holds gives up after this long and is
 * retried later with backoff (RELIABILITY F21). It waits on the writer thread, never on the event
 * loop; the short wait keeps one stuck batch from delaying the next flush.
 */
const BACKGROUND_BUSY_TIMEOUT_MS = 50;

/** The handle background writes go through, where usage records go, and how to close both. */
export interface BackgroundWriter {
  readonly db: Kysely<Database>;
  readonly records: RecordSink;
  /** Resolves once records can be written without waiting for a thread to start. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Background writes (records, counters, heartbeats) must never freeze the proxy. better-sqlite3
 * is synchronous, so for a SQLite file they run on their own connections in worker threads
 * (db/sqlite-thread-dialect.ts, and records-thread.ts for usage records); PostgreSQL writes do not
 * block the event loop, and an in-memory SQLite has one connection only, so both keep the store's
 * handle and write records from the main thread.
 */
export function openBackgroundWriter(store: Store, options: { readonly storeResponse: boolean }): BackgroundWriter {
  const file = store.sqlite?.name;
  if (store.dialect !== 'sqlite' || file === undefined || file === ':memory:' || store.sqlite?.memory === true) {
    return { db: store.db, records: new RecordsRepository(store.db, store.db, options), ready: () => Promise.resolve(), close: () => Promise.resolve() };
  }
  const db = new Kysely<Database>({ dialect: new SqliteThreadDialect({ file, busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS }) });
  const records = new RecordsThread({ file, busyTimeoutMs: BACKGROUND_BUSY_TIMEOUT_MS, storeResponse: options.storeResponse });
  return {
    db,
    records,
    ready: () => records.ready(),
    close: async () => {
      await records.close();
      await db.destroy();
    },
  };
}
