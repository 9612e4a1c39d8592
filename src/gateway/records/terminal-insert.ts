import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { NewRecord } from './records-repository.js';

/** Columns a terminal row fills in over its `pending` marker (everything but id and created_at). */
const TERMINAL_COLUMNS = [
  'ip', 'key_id', 'method', 'path', 'model', 'stream', 'target_id', 'attempts', 'status', 'outcome', 'error_class',
  'ttfb_ms', 'elapsed_ms', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'body', 'response', 'instance_id', 'usage_estimated', 'client_request_id',
] as const;

/** Rows a terminal row may replace: its own marker, or a marker wrongly reconciled while we were alive. */
const REPLACEABLE_OUTCOMES = ['pending', 'aborted'];

/** Rows per statement: a full batch (500 by default) is a few statements of one shape. */
const CHUNK_ROWS = 100;

/**
 * Statement sizes for what is left after the full chunks: a flush ends with a partial chunk of any
 * size from 1 to 99, and a shape per size thrashed the 32-shape caches (here and the writer
 * thread's prepared statements), so most flushes built, compiled and prepared a new statement of
 * up to 99 rows. Split into these sizes, every batch uses at most eight shapes.
 */
const REMAINDER_ROWS = [64, 32, 16, 8, 4, 2, 1];

/** 237 rows → 100, 100, 32, 4, 1. */
export function chunkSizes(total: number): number[] {
  const sizes: number[] = [];
  let left = total;
  for (; left >= CHUNK_ROWS; left -= CHUNK_ROWS) sizes.push(CHUNK_ROWS);
  for (const size of REMAINDER_ROWS) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

/** Most statement shapes remembered (chunk sizes × column lists). */
const MAX_SHAPES = 32;

function buildInsert(db: Kysely<Database>, rows: readonly NewRecord[]) {
  return db
    .insertInto('records')
    .values(rows)
    .onConflict((conflict) =>
      conflict
        .column('id')
        .doUpdateSet((eb) => Object.fromEntries(TERMINAL_COLUMNS.map((column) => [column, eb.ref(`excluded.${column}`)])))
        .where('records.outcome', 'in', REPLACEABLE_OUTCOMES),
    );
}

/**
 * Every value of every row in column order, then the WHERE values: the statement's parameters,
 * when all rows have exactly these columns set.
 */
function flatParameters(rows: readonly NewRecord[], columns: readonly string[]): unknown[] | undefined {
  const values: unknown[] = [];
  for (const row of rows) {
    const record = row as unknown as Record<string, unknown>;
    if (Object.keys(record).length !== columns.length) return undefined;
    for (const column of columns) {
      const value = record[column];
      if (value === undefined) return undefined;
      values.push(value);
    }
  }
  values.push(...REPLACEABLE_OUTCOMES);
  return values;
}

function sameValues(left: readonly unknown[], right: readonly unknown[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/**
 * The terminal-row upsert, compiled once per shape (row count and columns) and then only bound to
 * new values. Building and compiling the Kysely query for 100 rows of 21 columns cost as much as
 * SQLite's own insert (BENCHMARKS.md, gateway section). A shape is cached only after Kysely's own
 * compile of it produced exactly the parameters we bind, so the fast path cannot drift from it.
 */
export class TerminalInsert {
  private readonly sqlByShape = new Map<string, string>();

  async run(db: Kysely<Database>, rows: readonly NewRecord[]): Promise<void> {
    let start = 0;
    for (const size of chunkSizes(rows.length)) {
      await this.runChunk(db, rows.slice(start, start + size));
      start += size;
    }
  }

  private async runChunk(db: Kysely<Database>, rows: readonly NewRecord[]): Promise<void> {
    const columns = Object.keys(rows[0] ?? {});
    const parameters = flatParameters(rows, columns);
    if (!parameters) {
      await buildInsert(db, rows).execute();
      return;
    }
    const shape = `${rows.length}:${columns.join(',')}`;
    const sql = this.sqlByShape.get(shape);
    if (sql !== undefined) {
      await db.executeQuery(CompiledQuery.raw(sql, parameters));
      return;
    }
    const compiled = buildInsert(db, rows).compile();
    if (sameValues(compiled.parameters, parameters)) this.remember(shape, compiled.sql);
    await db.executeQuery(compiled);
  }

  private remember(shape: string, sql: string): void {
    const oldest = this.sqlByShape.size >= MAX_SHAPES ? this.sqlByShape.keys().next() : undefined;
    if (oldest?.done === false) this.sqlByShape.delete(oldest.value);
    this.sqlByShape.set(shape, sql);
  }
}
