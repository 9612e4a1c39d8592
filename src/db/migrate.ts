import { Migrator, sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { dialectOf } from './dialect.js';
import { migrations } from './migrations/index.js';

/**
 * On a PostgreSQL shared by several Switchboards (one schema each, via search_path) Kysely's
 * bookkeeping tables are pinned to our own schema, so another instance's are never taken for
 * ours. (The store's introspector lists only our schema too: own-schema-introspector.ts.)
 */
async function migrationSchema(db: Kysely<Database>): Promise<string | undefined> {
  if (dialectOf(db) !== 'postgres') return undefined;
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema;
}

/** Applies every pending migration in their one global order (names sort as they run). */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const schema = await migrationSchema(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((result) => result.status === 'Error');
  const message = error instanceof Error ? error.message : JSON.stringify(error);
  throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${message}`, { cause: error });
}
