import { Migrator, sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { dialectOf } from './dialect.js';
import { migrations } from './migrations/index.js';

/**
 * Kysely looks for its bookkeeping tables across every schema it can see; on a PostgreSQL shared
 * by several Switchboards (one schema each, via search_path) that finds another instance's
 * tables. Pin them to our own schema.
 */
async function migrationSchema(db: Kysely<Database>): Promise<string | undefined> {
  if (dialectOf(db) !== 'postgres') return undefined;
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema;
}

/** Runs of the migrator when another schema's table vanished under its table listing. */
const MIGRATE_ATTEMPTS = 5;

/**
 * Kysely's Migrator looks for its own table by listing every column of every table in every schema,
 * looking each table up by name as it goes; a table or schema that another client drops meanwhile
 * (another instance's schema on a shared PostgreSQL, another test file's) fails the whole listing
 * with 42P01 or 3F000. Nothing of ours was involved, so the run is repeated.
 */
function isOtherSchemaGone(error: unknown, schema: string | undefined): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if ((code !== '42P01' && code !== '3F000') || typeof message !== 'string' || schema === undefined) return false;
  const gone = /(?:relation "([^".]+)\.|schema "([^"]+)")/.exec(message);
  const goneSchema = gone?.[1] ?? gone?.[2];
  return goneSchema !== undefined && goneSchema !== schema;
}

/** Applies every pending migration in their one global order (names sort as they run). */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const schema = await migrationSchema(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (error === undefined) return;
    if (attempt < MIGRATE_ATTEMPTS && isOtherSchemaGone(error, schema)) continue;
    const failed = results?.find((result) => result.status === 'Error');
    const message = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${message}`, { cause: error });
  }
}
