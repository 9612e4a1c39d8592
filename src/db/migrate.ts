import { Migrator, sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import { dialectOf } from './dialect.js';
import { migrations } from './migrations/index.js';

/**
 * On a PostgreSQL shared by several Switchboards (one schema each, via search_path) Kysely's
 * bookkeeping tables are pinned to our own schema, so another instance's are never taken for
 * ours. (The store's introspector lists only our schema too: own-schema-introspector.ts.)
 * A schema named in the search path but not created yet is created, as Prisma does for its
 * `?schema=`; PostgreSQL would otherwise refuse the first table with "no schema has been selected".
 */
async function migrationSchema(db: Kysely<Database>): Promise<string | undefined> {
  if (dialectOf(db) !== 'postgres') return undefined;
  const { rows } = await sql<{ schema: string | null; path: string }>`select current_schema() as schema, current_setting('search_path') as path`.execute(db);
  const { schema, path } = rows[0] ?? { schema: null, path: '' };
  if (schema !== null) return schema;
  const wanted = firstNamedSchema(path);
  if (wanted === undefined) throw new Error(`PostgreSQL search_path "${path}" names no schema to create the tables in`);
  await sql`create schema if not exists ${sql.id(wanted)}`.execute(db);
  return wanted;
}

/** The first entry of a search_path other than `"$user"`, unquoted: `"$user", "My App", public` → `My App`. */
export function firstNamedSchema(searchPath: string): string | undefined {
  for (const match of searchPath.matchAll(/\s*("(?:[^"]|"")*"|[^,]+?)\s*(?:,|$)/g)) {
    const entry = match[1] ?? '';
    const name = entry.startsWith('"') ? entry.slice(1, -1).replaceAll('""', '"') : entry.toLowerCase();
    if (name !== '' && name !== '$user') return name;
  }
  return undefined;
}

/** Applies every pending migration in their one global order (names sort as they run). */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const schema = await migrationSchema(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    // Per-capability number ranges (migrations/index.ts): 0003 arrives after 0060 ran.
    allowUnorderedMigrations: true,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((result) => result.status === 'Error');
  const message = error instanceof Error ? error.message : JSON.stringify(error);
  throw new Error(`${failed ? `migration ${failed.migrationName}` : 'migrations'} failed: ${message}`, { cause: error });
}
