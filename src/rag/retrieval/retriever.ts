import type { Config } from '../../config/schema.js';
import type { Principal } from '../../gateway/index.js';
import type { DocumentsRepository } from '../documents-repository.js';
import type { Embedder } from '../embeddings/gateway-embedder.js';
import type { KbRow } from '../knowledge-bases-repository.js';
import { fuseRankings } from './fuse-scores.js';
import { queryTerms } from './lexical-terms.js';
import type { SearchHit, SearchIndex } from './search-index.js';

/** One retrieved chunk with its citation: document, position, heading path, page. */
export interface RetrievedChunk {
  readonly chunkId: number;
  readonly docId: string;
  readonly docName: string;
  readonly content: string;
  /** Fused relevance in 0..1 (see fuse-scores.ts). */
  readonly score: number;
  readonly position: number;
  readonly headingPath: string[];
  readonly page: number | null;
}

export interface RetrieveRequest {
  readonly kb: KbRow;
  readonly query: string;
  readonly topK: number;
  readonly principal: Principal;
  readonly signal: AbortSignal;
}

function parseHeadingPath(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Hybrid retrieval inside one KB: lexical (CJK bigrams + stemmed words) and vector (cosine)
 * candidates, vector hits below `minSimilarity` dropped as irrelevant, fused by reciprocal rank.
 * An empty result means nothing relevant was found.
 */
export class Retriever {
  constructor(
    private readonly deps: { index: SearchIndex; embedder: Embedder; docs: DocumentsRepository; config: Config['rag']['retrieval'] },
  ) {}

  async retrieve(request: RetrieveRequest): Promise<RetrievedChunk[]> {
    const { config, index } = this.deps;
    const { kb } = request;
    const limit = Math.max(config.candidates, request.topK);
    const [lexical, vector] = await Promise.all([
      index.lexical({ kbId: kb.kb_id, terms: queryTerms(request.query), limit }),
      this.vectorHits(request, limit),
    ]);
    const fused = fuseRankings([lexical, vector], { k: config.rrfK, limit: request.topK });
    const rows = await this.deps.docs.chunksInKb(kb.kb_id, fused.map((hit) => hit.chunkId));
    const byId = new Map(rows.map((row) => [row.id, row]));
    return fused.flatMap((hit) => {
      const row = byId.get(hit.chunkId);
      if (!row) return [];
      return [{ chunkId: row.id, docId: row.doc_id, docName: row.doc_name, content: row.content, score: hit.score, position: row.position, headingPath: parseHeadingPath(row.heading_path), page: row.page }];
    });
  }

  private async vectorHits(request: RetrieveRequest, limit: number): Promise<SearchHit[]> {
    // A KB without stored vectors (nothing embedded yet, or only unknown words) has nothing to compare.
    if (request.kb.dimensions === null) return [];
    const [vector] = await this.deps.embedder.embed({ model: request.kb.embedding_model, texts: [request.query], principal: request.principal, signal: request.signal });
    if (vector?.length !== request.kb.dimensions) return [];
    const hits = await this.deps.index.vector({ kbId: request.kb.kb_id, revision: request.kb.revision, vector, limit });
    return hits.filter((hit) => hit.score >= this.deps.config.minSimilarity);
  }
}
