import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.js';
import type { RecordTable } from '../tables.js';

export type RecordRow = Selectable<RecordTable>;
export type NewRecord = Insertable<RecordTable>;

export class RecordsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(rows: readonly NewRecord[]): Promise<void> {
    if (rows.length === 0) return;
    // Idempotent: a batch retried after a partial failure must not double-log (R5).
    await this.db.insertInto('records').values([...rows]).onConflict((conflict) => conflict.column('id').doNothing()).execute();
  }

  /** Newest first ([REC] SEEDS-SPEC §2.6: the seed ordered by random UUID). */
  latest(limit: number): Promise<RecordRow[]> {
    return this.db.selectFrom('records').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
  }

  findById(id: string): Promise<RecordRow | undefined> {
    return this.db.selectFrom('records').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
