import type { Generated } from 'kysely';

/** Knowledge bases (SEEDS-SPEC §3.7 storage [REC]); `user_id` is the owner every query filters on. */
export interface KbsTable {
  kb_id: string;
  user_id: number;
  kb_name: string;
  /** Model name routed through the gateway's `/v1/embeddings`. */
  embedding_model: string;
  /** Vector size, learned from the first embedded document; null until then. */
  dimensions: number | null;
  /** Bumped by every change to the KB's chunks; versions in-memory vector caches. */
  revision: number;
  created_at: number;
}

/** Documents of a knowledge base. The file itself is not kept: only its text, as chunks. */
export interface DocsTable {
  doc_id: string;
  kb_id: string;
  user_id: number;
  /** The client's file name, sanitised; metadata only, never a path. */
  doc_name: string;
  /** Lower-case extension without its dot (`txt`, `docx`), as the seed reports it. */
  file_type: string;
  size_bytes: number;
  chunk_count: number;
  created_at: number;
}

/**
 * Chunks with everything a citation needs: document, position in it, heading path and page.
 * `lex` is the CJK-bigram/stemmed form the full-text index reads; `embedding` is little-endian
 * float32, null when the text has no known word (the chunk is then found lexically only).
 */
export interface ChunksTable {
  id: Generated<number>;
  kb_id: string;
  doc_id: string;
  position: number;
  /** JSON array of headings, outermost first. */
  heading_path: string;
  page: number | null;
  content: string;
  lex: string;
  embedding: Buffer | null;
}

export interface RagTables {
  kbs: KbsTable;
  docs: DocsTable;
  chunks: ChunksTable;
}
