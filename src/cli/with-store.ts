import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import { openStore } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';

/** Opens the configured store (migrated), runs one CLI subcommand's work on it, and closes it. */
export async function withStore<T>(config: Config, cwd: string, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const store = await openStore(config.database, cwd);
  try {
    await migrateToLatest(store.db);
    return await work(store.db);
  } finally {
    await store.close();
  }
}
