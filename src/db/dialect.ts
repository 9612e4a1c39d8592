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

/**
 * Text as both databases store it alike: PostgreSQL refuses NUL in text ("invalid byte sequence",
 * 22021) where SQLite keeps it, so a NUL that reaches storage from outside (an upstream's answer)
 * becomes U+FFFD on either. The APIs refuse a client's NUL before it gets here; the messages and
 * records repositories store what upstreams answered, NUL replaced.
 */
export function storableText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

/**
 * `storableText` over every text value of rows about to be inserted (changed in place). Only a
 * value that holds a NUL is written back: every string of every row was stored again before, for
 * rows that almost never change (the records thread runs this for every usage record).
 */
export function makeTextStorable(rows: readonly object[]): void {
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    for (const column in record) {
      const value = record[column];
      if (typeof value === 'string' && value.includes('\0')) record[column] = storableText(value);
    }
  }
}
