import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.js';
import type { RecordTable } from '../tables.js';

export type RecordRow = Selectable<RecordTable>;
export type NewRecord = Insertable<RecordTable>;

/** Columns a terminal row fills in over its `pending` marker (everything but id and created_at). */
const TERMINAL_COLUMNS = [
  'ip', 'key_id', 'method', 'path', 'model', 'stream', 'target_id', 'attempts', 'status', 'outcome', 'error_class',
  'ttfb_ms', 'elapsed_ms', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'body', 'response', 'instance_id', 'usage_estimated',
] as const;

/** Rows a terminal row may replace: its own marker, or a marker wrongly reconciled while we were alive. */
const REPLACEABLE_OUTCOMES = ['pending', 'aborted'];

/** The first row per id: a client may reuse an x-request-id, and one statement must not touch a row twice. */
function firstPerId(rows: readonly NewRecord[]): NewRecord[] {
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.id) && Boolean(seen.add(row.id)));
}

export class RecordsRepository {
  /** `writer` may be a separate connection with a short lock wait (SQLite, RELIABILITY F21). */
  constructor(private readonly db: Kysely<Database>, private readonly writer: Kysely<Database> = db) {}

  /**
   * Terminal rows. Idempotent: a batch retried after a partial failure must not double-log (R5);
   * a row replaces only a `pending` marker of the same request, never another terminal row.
   */
  async insertMany(rows: readonly NewRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.writer
      .insertInto('records')
      .values(firstPerId(rows))
      .onConflict((conflict) =>
        conflict
          .column('id')
          .doUpdateSet((eb) => Object.fromEntries(TERMINAL_COLUMNS.map((column) => [column, eb.ref(`excluded.${column}`)])))
          .where('records.outcome', 'in', REPLACEABLE_OUTCOMES),
      )
      .execute();
  }

  /** `pending` markers of requests still in flight at a flush (RELIABILITY F20). */
  async insertPending(rows: readonly NewRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.writer.insertInto('records').values(firstPerId(rows)).onConflict((conflict) => conflict.column('id').doNothing()).execute();
  }

  /** Newest first ([REC] SEEDS-SPEC §2.6: the seed ordered by random UUID). */
  latest(limit: number): Promise<RecordRow[]> {
    return this.db.selectFrom('records').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  }

  findById(id: string): Promise<RecordRow | undefined> {
    return this.db.selectFrom('records').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
