import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.js';
import { makeTextStorable } from '../../db/dialect.js';
import type { RecordTable } from '../tables.js';
import { finishRecords } from './finish-records.js';
import { TerminalInsert } from './terminal-insert.js';

export type RecordRow = Selectable<RecordTable>;
export type NewRecord = Insertable<RecordTable>;

/** Marker rows per statement: 23 columns each, well inside both databases' parameter limits. */
const PENDING_ROWS_PER_STATEMENT = 500;

/**
 * The first row per id. Ids are the gateway's own, so a batch should never hold one twice; if it
 * did, PostgreSQL would refuse the whole statement (an upsert must not touch a row twice).
 */
function firstPerId(rows: readonly NewRecord[]): NewRecord[] {
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.id) && Boolean(seen.add(row.id)));
}

export class RecordsRepository {
  /** `writer` may be a separate connection with a short lock wait (SQLite, RELIABILITY F21). */
  private readonly terminalInsert = new TerminalInsert();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: Kysely<Database> = db,
    private readonly finishing: { readonly storeResponse: boolean } = { storeResponse: true },
  ) {}

  /**
   * Terminal rows. Idempotent: a batch retried after a partial failure must not double-log (R5);
   * a row replaces only a `pending` marker of the same request, never another terminal row.
   * `bodies[i]`, when given, is row i's plain answer kept unparsed: its usage and text are read now.
   */
  async insertMany(rows: readonly NewRecord[], bodies?: readonly (string | undefined)[]): Promise<void> {
    if (rows.length === 0) return;
    if (bodies) finishRecords(rows, bodies, this.finishing);
    const unique = firstPerId(rows);
    // An upstream's answer may carry NUL, which PostgreSQL refuses in text (db/dialect.ts).
    makeTextStorable(unique);
    if (unique.length <= 1) return this.terminalInsert.run(this.writer, unique);
    // Several statements, one transaction: the batch stays as atomic as one statement was.
    await this.writer.transaction().execute((transaction) => this.terminalInsert.run(transaction, unique));
  }

  /**
   * `pending` markers of requests still in flight at a flush (RELIABILITY F20): one per long
   * request, so thousands at once under streaming traffic. One statement of them all went past
   * SQLite's 32,766 parameters at ~1,500 rows (PostgreSQL's 65,535 at ~3,000), failing every flush,
   * terminal rows included, for as long as that many requests stayed in flight.
   */
  async insertPending(rows: readonly NewRecord[]): Promise<void> {
    const unique = firstPerId(rows);
    if (unique.length === 0) return;
    makeTextStorable(unique);
    const write = async (db: Kysely<Database>) => {
      for (let start = 0; start < unique.length; start += PENDING_ROWS_PER_STATEMENT) {
        const chunk = unique.slice(start, start + PENDING_ROWS_PER_STATEMENT);
        await db.insertInto('records').values(chunk).onConflict((conflict) => conflict.column('id').doNothing()).execute();
      }
    };
    if (unique.length <= PENDING_ROWS_PER_STATEMENT) return write(this.writer);
    await this.writer.transaction().execute(write);
  }

  /** Newest first ([REC] SEEDS-SPEC §2.6: the seed ordered by random UUID). */
  latest(limit: number): Promise<RecordRow[]> {
    return this.db.selectFrom('records').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  }

  findById(id: string): Promise<RecordRow | undefined> {
    return this.db.selectFrom('records').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
