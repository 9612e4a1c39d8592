import type { Kysely } from 'kysely';
import { blobType, withSerialId } from '../dialect.js';

/**
 * Knowledge bases, documents and chunks (SEEDS-SPEC §3.7 storage [REC]). The full-text and vector
 * indexes differ per dialect; rag/retrieval creates them at start (CREATE … IF NOT EXISTS).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('kbs')
    .addColumn('kb_id', 'text', (column) => column.primaryKey())
    .addColumn('user_id', 'bigint', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kb_name', 'text', (column) => column.notNull())
    .addColumn('embedding_model', 'text', (column) => column.notNull())
    .addColumn('dimensions', 'integer')
    .addColumn('revision', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('idx_kbs_user').on('kbs').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('docs')
    .addColumn('doc_id', 'text', (column) => column.primaryKey())
    .addColumn('kb_id', 'text', (column) => column.notNull().references('kbs.kb_id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (column) => column.notNull())
    .addColumn('doc_name', 'text', (column) => column.notNull())
    .addColumn('file_type', 'text', (column) => column.notNull())
    .addColumn('size_bytes', 'bigint', (column) => column.notNull())
    .addColumn('chunk_count', 'integer', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('idx_docs_kb').on('docs').columns(['kb_id', 'created_at']).execute();

  await withSerialId(db, db.schema.createTable('chunks'))
    .addColumn('kb_id', 'text', (column) => column.notNull())
    .addColumn('doc_id', 'text', (column) => column.notNull().references('docs.doc_id').onDelete('cascade'))
    .addColumn('position', 'integer', (column) => column.notNull())
    .addColumn('heading_path', 'text', (column) => column.notNull())
    .addColumn('page', 'integer')
    .addColumn('content', 'text', (column) => column.notNull())
    .addColumn('lex', 'text', (column) => column.notNull())
    .addColumn('embedding', blobType(db))
    .execute();
  // (kb_id, id): every search filters on the KB; the id also versions the PostgreSQL vector cache.
  await db.schema.createIndex('idx_chunks_kb').on('chunks').columns(['kb_id', 'id']).execute();
  await db.schema.createIndex('idx_chunks_doc').on('chunks').columns(['doc_id', 'position']).execute();
}
