import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely } from 'kysely';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/database.js';
import type { Principal } from '../gateway/index.js';
import { SwitchboardError } from '../platform/errors.js';
import type { DocumentsRepository } from './documents-repository.js';
import type { Embedder } from './embeddings/gateway-embedder.js';
import type { KbRow, KnowledgeBasesRepository } from './knowledge-bases-repository.js';
import { contentMatchesKind, extensionOf, kindOfExtension } from './parsers/file-type.js';
import type { ParserPool } from './parsers/parser-pool.js';
import { RAG_MESSAGES } from './rag-messages.js';
import { vectorToBlob, type SearchIndex } from './retrieval/search-index.js';
import type { ChunksTable } from './tables.js';

export interface IngestDeps {
  readonly db: Kysely<Database>;
  readonly config: Config['rag'];
  readonly parsers: ParserPool;
  readonly embedder: Embedder;
  readonly index: SearchIndex;
  readonly kbs: KnowledgeBasesRepository;
  readonly docs: DocumentsRepository;
}

export interface IngestInput {
  readonly kb: KbRow;
  /** The client's file name, already sanitised. */
  readonly fileName: string;
  readonly bytes: Buffer;
  readonly principal: Principal;
  readonly signal: AbortSignal;
}

function dimensionsOf(vectors: readonly (Float32Array | null)[], kb: KbRow): number | null {
  const sizes = new Set(vectors.flatMap((vector) => (vector ? [vector.length] : [])));
  if (kb.dimensions !== null) sizes.add(kb.dimensions);
  if (sizes.size > 1) throw new SwitchboardError('upstream_error', `嵌入模型 ${kb.embedding_model} 返回的向量维度不一致`, { status: 500 });
  return sizes.values().next().value ?? null;
}

/**
 * Upload → type check → parse, chunk and index terms (worker) → embed (gateway) → one transaction that writes
 * the document, its chunks and their index rows. Nothing is stored unless every step succeeds.
 */
export class DocumentIngestor {
  constructor(private readonly deps: IngestDeps) {}

  async ingest(input: IngestInput): Promise<{ docId: string; chunkCount: number; fileType: string }> {
    const { config } = this.deps;
    const fileType = extensionOf(input.fileName);
    const kind = kindOfExtension(fileType);
    if (!kind) throw new SwitchboardError('bad_request', RAG_MESSAGES.unsupportedType(fileType));
    if (input.bytes.length === 0) throw new SwitchboardError('bad_request', RAG_MESSAGES.emptyFile);
    if (!contentMatchesKind(kind, input.bytes)) throw new SwitchboardError('bad_request', RAG_MESSAGES.contentMismatch(fileType));
    // Chunking and index terms run in the worker too: for a large document they are CPU-bound for hundreds of ms.
    const chunks = await this.deps.parsers.parse({
      kind,
      bytes: input.bytes,
      limits: { maxTextChars: config.maxTextChars, docx: config.docx, pdf: config.pdf },
      chunking: { size: config.chunkSize, overlap: config.chunkOverlap, maxChunks: config.maxChunksPerDocument },
    });
    const texts = chunks.map((chunk) => chunk.indexedText);
    const vectors = await this.deps.embedder.embed({ model: input.kb.embedding_model, texts, principal: input.principal, signal: input.signal });
    const dimensions = dimensionsOf(vectors, input.kb);
    const docId = randomUUID();
    const rows: Insertable<ChunksTable>[] = chunks.map((chunk, index) => {
      const vector = vectors[index];
      return {
        kb_id: input.kb.kb_id,
        doc_id: docId,
        position: chunk.position,
        heading_path: JSON.stringify(chunk.headingPath),
        page: chunk.page ?? null,
        content: chunk.content,
        lex: chunk.lex,
        embedding: vector ? vectorToBlob(vector) : null,
      };
    });
    await this.deps.db.transaction().execute(async (trx) => {
      // The KB may have been deleted while we parsed and embedded.
      const kb = await trx.selectFrom('kbs').select('kb_id').where('kb_id', '=', input.kb.kb_id).executeTakeFirst();
      if (!kb) throw new SwitchboardError('not_found', RAG_MESSAGES.kbNotFound);
      const doc = { doc_id: docId, kb_id: input.kb.kb_id, user_id: input.kb.user_id, doc_name: input.fileName, file_type: fileType, size_bytes: input.bytes.length, chunk_count: rows.length, created_at: Date.now() };
      await this.deps.docs.insert(trx, { doc, chunks: rows });
      if (dimensions !== null) await this.deps.kbs.setDimensions(trx, input.kb.kb_id, dimensions);
      await this.deps.kbs.bumpRevision(trx, input.kb.kb_id);
      await this.deps.index.indexDocument(trx, { docId, dimensions });
    });
    return { docId, chunkCount: rows.length, fileType };
  }
}
