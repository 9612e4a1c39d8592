import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database.js';
import type { ChunksTable, DocsTable } from './tables.js';

export type DocRow = Selectable<DocsTable>;

/** A chunk as retrieval returns it, with its document's name for citations. */
export interface ChunkHitRow {
  readonly id: number;
  readonly doc_id: string;
  readonly doc_name: string;
  readonly content: string;
  readonly position: number;
  readonly heading_path: string;
  readonly page: number | null;
}

/** Rows per INSERT: keeps PostgreSQL under its 65 535 bind parameters. */
const INSERT_BATCH = 500;

/** Documents and their chunks. Callers check KB ownership first; every query names its KB. */
export class DocumentsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  listInKb(kbId: string): Promise<DocRow[]> {
    return this.db.selectFrom('docs').selectAll().where('kb_id', '=', kbId).orderBy('created_at').orderBy('doc_id').execute();
  }

  /**
   * Deletes a document of the KB with its chunks (FK cascade; index rows by trigger or with the
   * rows) and bumps the KB's revision in the same transaction.
   */
  async deleteInKb(docId: string, kbId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('docs').where('doc_id', '=', docId).where('kb_id', '=', kbId).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await trx.updateTable('kbs').set((builder) => ({ revision: builder('revision', '+', 1) })).where('kb_id', '=', kbId).execute();
      return true;
    });
  }

  /** Inserts a document and its chunks in the caller's transaction. */
  async insert(db: Kysely<Database>, document: { doc: DocRow; chunks: readonly Insertable<ChunksTable>[] }): Promise<void> {
    await db.insertInto('docs').values(document.doc).execute();
    for (let start = 0; start < document.chunks.length; start += INSERT_BATCH) {
      await db.insertInto('chunks').values(document.chunks.slice(start, start + INSERT_BATCH)).execute();
    }
  }

  /** The given chunks, only if they belong to `kbId` (a second KB filter, after the index's own). */
  async chunksInKb(kbId: string, ids: readonly number[]): Promise<ChunkHitRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('chunks')
      .innerJoin('docs', 'docs.doc_id', 'chunks.doc_id')
      .select(['chunks.id', 'chunks.doc_id', 'docs.doc_name', 'chunks.content', 'chunks.position', 'chunks.heading_path', 'chunks.page'])
      .where('chunks.kb_id', '=', kbId)
      .where('chunks.id', 'in', [...ids])
      .execute();
  }
}
