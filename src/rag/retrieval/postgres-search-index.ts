import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { PostgresVectorCache } from './postgres-vector-cache.js';
import type { SearchHit, SearchIndex, VectorQuery } from './search-index.js';

/**
 * PostgreSQL: a stored generated `tsvector` of the CJK-bigram/stemmed text (`to_tsvector('simple',
 * lex)`, so ranking reads it instead of re-parsing every match) with a GIN index, and brute-force
 * cosine over the stored float32 vectors (PostgresVectorCache) — the fallback ENVIRONMENT.md
 * documents, since pgvector is not installable here. Both follow `chunks`, so deleted rows leave
 * the indexes with them.
 */
export class PostgresSearchIndex implements SearchIndex {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly vectors: PostgresVectorCache,
  ) {}

  async prepare(): Promise<void> {
    await sql`alter table chunks add column if not exists lex_tsv tsvector generated always as (to_tsvector('simple', lex)) stored`.execute(this.db);
    await sql`create index if not exists idx_chunks_lex_tsv on chunks using gin (lex_tsv)`.execute(this.db);
  }

  async indexDocument(): Promise<void> {
    // Nothing to do: the generated column and its GIN index follow the rows.
  }

  async lexical(query: { kbId: string; terms: readonly string[]; limit: number }): Promise<SearchHit[]> {
    if (query.terms.length === 0) return [];
    // Terms are letters and digits only (lexical-terms.ts): quoting them is safe tsquery syntax.
    const tsquery = query.terms.map((term) => `'${term}'`).join(' | ');
    const { rows } = await sql<{ id: number; score: number }>`
      select id, ts_rank(lex_tsv, query) as score
      from chunks, to_tsquery('simple', ${tsquery}) as query
      where kb_id = ${query.kbId} and lex_tsv @@ query
      order by score desc, id limit ${query.limit}`.execute(this.db);
    return rows.map((row) => ({ chunkId: row.id, score: row.score }));
  }

  vector(query: VectorQuery): Promise<SearchHit[]> {
    return this.vectors.search(query);
  }
}
