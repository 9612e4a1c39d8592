import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database.js';
import type { KbsTable } from './tables.js';

export type KbRow = Selectable<KbsTable>;

/** Knowledge bases; every read and delete is scoped to the owner (SEEDS-SPEC §3.7 [REC]). */
export class KnowledgeBasesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(kb: { kbId: string; userId: number; name: string; model: string }): Promise<KbRow> {
    const row: KbRow = { kb_id: kb.kbId, user_id: kb.userId, kb_name: kb.name, embedding_model: kb.model, dimensions: null, revision: 0, created_at: Date.now() };
    await this.db.insertInto('kbs').values(row).execute();
    return row;
  }

  listOwned(userId: number): Promise<KbRow[]> {
    return this.db.selectFrom('kbs').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('kb_id').execute();
  }

  findOwned(kbId: string, userId: number): Promise<KbRow | undefined> {
    return this.db.selectFrom('kbs').selectAll().where('kb_id', '=', kbId).where('user_id', '=', userId).executeTakeFirst();
  }

  /** Deletes the KB; its documents, chunks and index rows go with it (FK cascade + triggers). */
  async deleteOwned(kbId: string, userId: number): Promise<boolean> {
    const result = await this.db.deleteFrom('kbs').where('kb_id', '=', kbId).where('user_id', '=', userId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** Records the KB's vector size the first time vectors are stored. */
  async setDimensions(db: Kysely<Database>, kbId: string, dimensions: number): Promise<void> {
    await db.updateTable('kbs').set({ dimensions }).where('kb_id', '=', kbId).where('dimensions', 'is', null).execute();
  }

  /** Marks the KB's chunks as changed, in the transaction that changes them. */
  async bumpRevision(db: Kysely<Database>, kbId: string): Promise<void> {
    await db.updateTable('kbs').set((builder) => ({ revision: builder('revision', '+', 1) })).where('kb_id', '=', kbId).execute();
  }
}
