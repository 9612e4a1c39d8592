import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';

/** One candidate from one ranking: higher `score` is better (bm25/ts_rank or cosine). */
export interface SearchHit {
  readonly chunkId: number;
  readonly score: number;
}

/**
 * The full-text and vector indexes over `chunks`, one implementation per dialect (the only RAG
 * code that differs between SQLite and PostgreSQL). Every search is filtered by KB inside the
 * query itself, before any top-k cut. Deleting chunk rows removes their index entries (triggers
 * on SQLite; the indexes read `chunks` directly on PostgreSQL).
 */
export interface SearchIndex {
  /** Creates the dialect's index structures if missing (idempotent, run at start). */
  prepare(): Promise<void>;
  /** Indexes the chunks of a document inserted in the same transaction `db`. */
  indexDocument(db: Kysely<Database>, document: { readonly docId: string; readonly dimensions: number | null }): Promise<void>;
  /** Chunks of `kbId` matching any term, best first. */
  lexical(query: { readonly kbId: string; readonly terms: readonly string[]; readonly limit: number }): Promise<SearchHit[]>;
  /**
   * Nearest chunks of `kbId` by cosine similarity to a normalised vector, best first. `revision`
   * is the KB's chunk revision as the caller read it (caches key on it).
   */
  vector(query: VectorQuery): Promise<SearchHit[]>;
}

export interface VectorQuery {
  readonly kbId: string;
  readonly revision: number;
  readonly vector: Float32Array;
  readonly limit: number;
}

/** little-endian float32 bytes ↔ vectors, the storage form of `chunks.embedding`. */
export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function blobToVector(blob: Uint8Array): Float32Array {
  const copy = new Uint8Array(blob);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}
