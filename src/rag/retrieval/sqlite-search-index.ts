import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { vectorToBlob, type SearchHit, type SearchIndex, type VectorQuery } from './search-index.js';

const vecTable = (dimensions: number) => sql.table(`rag_vec_${String(Math.trunc(dimensions))}`);

/**
 * SQLite: FTS5 (contentless, rows keyed by chunk id) for terms, and a sqlite-vec `vec0` table per
 * vector size with `kb_id` as a partition key, so the KNN itself runs inside one KB. Triggers on
 * `chunks` delete the index rows of deleted chunks, including FK cascades from docs and kbs.
 */
export class SqliteSearchIndex implements SearchIndex {
  constructor(private readonly db: Kysely<Database>) {}

  /** The store loaded sqlite-vec on this connection when it opened it (db/connect.ts). */
  async prepare(): Promise<void> {
    await sql`create virtual table if not exists rag_chunks_fts using fts5(lex, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`.execute(this.db);
    await sql`create trigger if not exists rag_chunks_fts_delete after delete on chunks begin delete from rag_chunks_fts where rowid = old.id; end`.execute(this.db);
    const sizes = await this.db.selectFrom('kbs').select('dimensions').distinct().where('dimensions', 'is not', null).execute();
    for (const { dimensions } of sizes) if (dimensions !== null) await this.ensureVectorTable(this.db, dimensions);
  }

  async indexDocument(db: Kysely<Database>, document: { docId: string; dimensions: number | null }): Promise<void> {
    await sql`insert into rag_chunks_fts(rowid, lex) select id, lex from chunks where doc_id = ${document.docId}`.execute(db);
    if (document.dimensions === null) return;
    await this.ensureVectorTable(db, document.dimensions);
    const table = vecTable(document.dimensions);
    await sql`insert into ${table}(chunk_id, kb_id, embedding) select id, kb_id, embedding from chunks where doc_id = ${document.docId} and embedding is not null`.execute(db);
  }

  async lexical(query: { kbId: string; terms: readonly string[]; limit: number }): Promise<SearchHit[]> {
    if (query.terms.length === 0) return [];
    // Terms are letters and digits only (lexical-terms.ts), so quoting cannot be broken out of.
    const match = query.terms.map((term) => `"${term}"`).join(' OR ');
    const { rows } = await sql<{ id: number; rank: number }>`
      select c.id as id, bm25(rag_chunks_fts) as rank from rag_chunks_fts join chunks c on c.id = rag_chunks_fts.rowid
      where rag_chunks_fts match ${match} and c.kb_id = ${query.kbId} order by rank limit ${query.limit}`.execute(this.db);
    return rows.map((row) => ({ chunkId: row.id, score: -row.rank }));
  }

  async vector(query: VectorQuery): Promise<SearchHit[]> {
    const dimensions = query.vector.length;
    // Created with a KB's first vectors (maybe by a transaction that rolled back): look, don't assume.
    const name = `rag_vec_${String(dimensions)}`;
    const exists = await this.db.selectFrom(sql<{ name: string }>`sqlite_master`.as('master')).select('name').where('name', '=', name).executeTakeFirst();
    if (!exists) return [];
    const { rows } = await sql<{ chunk_id: number; distance: number }>`
      select chunk_id, distance from ${vecTable(dimensions)}
      where embedding match ${vectorToBlob(query.vector)} and k = ${query.limit} and kb_id = ${query.kbId}`.execute(this.db);
    return rows.map((row) => ({ chunkId: row.chunk_id, score: 1 - row.distance }));
  }

  private async ensureVectorTable(db: Kysely<Database>, dimensions: number): Promise<void> {
    const table = vecTable(dimensions);
    const trigger = sql.raw(`rag_vec_${String(Math.trunc(dimensions))}_delete`);
    await sql`create virtual table if not exists ${table} using vec0(chunk_id integer primary key, kb_id text partition key, embedding float[${sql.raw(String(Math.trunc(dimensions)))}] distance_metric=cosine)`.execute(db);
    await sql`create trigger if not exists ${trigger} after delete on chunks begin delete from ${table} where chunk_id = old.id; end`.execute(db);
  }
}
