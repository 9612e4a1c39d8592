import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.js';
import type { RecordTable } from '../tables.js';
import { TerminalInsert } from './terminal-insert.js';

export type RecordRow = Selectable<RecordTable>;
export type NewRecord = Insertable<RecordTable>;

/** The first row per id: a client may reuse an x-request-id, and one statement must not touch a row twice. */
function firstPerId(rows: readonly NewRecord[]): NewRecord[] {
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.id) && Boolean(seen.add(row.id)));
}

export class RecordsRepository {
  /** `writer` may be a separate connection with a short lock wait (SQLite, RELIABILITY F21). */
  private readonly terminalInsert = new TerminalInsert();

  constructor(private readonly db: Kysely<Database>, private readonly writer: Kysely<Database> = db) {}

  /**
   * Terminal rows. Idempotent: a batch retried after a partial failure must not double-log (R5);
   * a row replaces only a `pending` marker of the same request, never another terminal row.
   */
  async insertMany(rows: readonly NewRecord[]): Promise<void> {
    if (rows.length === 0) return;
    const unique = firstPerId(rows);
    if (unique.length <= 1) return this.terminalInsert.run(this.writer, unique);
    // Several statements, one transaction: the batch stays as atomic as one statement was.
    await this.writer.transaction().execute((transaction) => this.terminalInsert.run(transaction, unique));
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
