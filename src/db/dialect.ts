import { PostgresAdapter, sql, type CreateTableBuilder, type Kysely } from 'kysely';

/** The only place SQL differences between SQLite and PostgreSQL live (STYLE.md §9). */
export type DialectName = 'sqlite' | 'postgres';

export function dialectOf<T>(db: Kysely<T>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Auto-increment integer primary key named `id`. */
export function withSerialId<T extends string>(
  db: Kysely<unknown>,
  table: CreateTableBuilder<T>,
): CreateTableBuilder<T, 'id'> {
  return dialectOf(db) === 'postgres'
    ? table.addColumn('id', 'bigserial', (column) => column.primaryKey())
    : table.addColumn('id', 'integer', (column) => column.primaryKey().autoIncrement());
}

/** Binary column (embeddings, encrypted values). */
export function blobType(db: Kysely<unknown>) {
  return dialectOf(db) === 'postgres' ? sql`bytea` : sql`blob`;
}

/** Current time in epoch milliseconds, computed by the database. */
export function nowMs(db: Kysely<unknown>) {
  return dialectOf(db) === 'postgres'
    ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
    : sql<number>`cast(unixepoch('subsec') * 1000 as integer)`;
}
