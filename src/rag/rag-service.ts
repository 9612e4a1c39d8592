import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Store } from '../db/connect.js';
import { UpstreamsRepository, type Gateway, type Principal } from '../gateway/index.js';
import { SwitchboardError } from '../platform/errors.js';
import { DocumentIngestor } from './document-ingestor.js';
import { DocumentsRepository, type DocRow } from './documents-repository.js';
import { EmbeddingModels } from './embedding-models.js';
import { GatewayEmbedder } from './embeddings/gateway-embedder.js';
import type { LocalEmbeddingModels } from './embeddings/local-embedding-models.js';
import { sanitizeFileName } from './file-name.js';
import { KnowledgeBasesRepository, type KbRow } from './knowledge-bases-repository.js';
import { ParserPool } from './parsers/parser-pool.js';
import { RAG_MESSAGES } from './rag-messages.js';
import { createSearchIndex } from './retrieval/create-search-index.js';
import { Retriever, type RetrievedChunk } from './retrieval/retriever.js';
import type { SearchIndex } from './retrieval/search-index.js';

export interface RagServiceOptions {
  readonly config: Config;
  readonly store: Store;
  /** The gateway's in-process router: embeddings go through its `/v1/embeddings`. */
  readonly gateway: Gateway;
  /** The in-process model source app.ts also gave the gateway (undefined name when disabled). */
  readonly localModels: LocalEmbeddingModels;
  readonly log: FastifyBaseLogger;
}

/** Who asks, for ownership checks and usage records. */
export interface RagCaller {
  readonly userId: number;
  readonly principal: Principal;
  readonly signal: AbortSignal;
}

/**
 * The knowledge-base engine behind /api/rag (SEEDS-SPEC §3.7), in process: every operation is
 * scoped to the caller's own KBs (another user's KB or document is "not found").
 */
export class RagService {
  readonly models: EmbeddingModels;
  private readonly kbs: KnowledgeBasesRepository;
  private readonly docs: DocumentsRepository;
  private readonly parsers: ParserPool;
  private readonly ingestor: DocumentIngestor;
  private readonly retriever: Retriever;
  private readonly index: SearchIndex;

  private constructor(private readonly options: RagServiceOptions) {
    const { config, store, gateway } = options;
    this.kbs = new KnowledgeBasesRepository(store.db);
    this.docs = new DocumentsRepository(store.db);
    this.parsers = new ParserPool(config.rag.parser);
    const index = createSearchIndex(store, { pgCacheFloats: config.rag.retrieval.pgCacheFloats });
    this.index = index;
    const embedder = new GatewayEmbedder(gateway, config.rag.embedding.batchSize);
    this.ingestor = new DocumentIngestor({ db: store.db, config: config.rag, parsers: this.parsers, embedder, index, kbs: this.kbs, docs: this.docs });
    this.retriever = new Retriever({ index, embedder, docs: this.docs, config: config.rag.retrieval });
    const localModel = config.rag.embedding.local.enabled ? options.localModels.name : undefined;
    this.models = new EmbeddingModels({ config, localModel, upstreams: new UpstreamsRepository(store.db) });
  }

  static async create(options: RagServiceOptions): Promise<RagService> {
    const service = new RagService(options);
    await service.index.prepare();
    return service;
  }

  get config(): Config['rag'] {
    return this.options.config.rag;
  }

  async createKb(input: { userId: number; name: string; model?: string | undefined }): Promise<KbRow> {
    const model = input.model ?? this.models.defaultModel;
    if (model === undefined || !(await this.models.list()).includes(model)) throw new SwitchboardError('bad_request', RAG_MESSAGES.unknownModel(model ?? ''));
    return this.kbs.create({ kbId: randomUUID(), userId: input.userId, name: input.name, model });
  }

  listKbs(userId: number): Promise<KbRow[]> {
    return this.kbs.listOwned(userId);
  }

  async deleteKb(userId: number, kbId: string): Promise<void> {
    if (!(await this.kbs.deleteOwned(kbId, userId))) throw new SwitchboardError('not_found', RAG_MESSAGES.kbNotFound);
  }

  /** The caller's KB, or 404 — the same answer for a KB that does not exist and one of another user. */
  async requireKb(userId: number, kbId: string): Promise<KbRow> {
    const kb = await this.kbs.findOwned(kbId, userId);
    if (!kb) throw new SwitchboardError('not_found', RAG_MESSAGES.kbNotFound);
    return kb;
  }

  async upload(caller: RagCaller, input: { kbId: string; fileName: string; bytes: Buffer }) {
    const kb = await this.requireKb(caller.userId, input.kbId);
    return this.ingestor.ingest({ kb, fileName: sanitizeFileName(input.fileName), bytes: input.bytes, principal: caller.principal, signal: caller.signal });
  }

  async listDocs(userId: number, kbId: string): Promise<DocRow[]> {
    await this.requireKb(userId, kbId);
    return this.docs.listInKb(kbId);
  }

  async deleteDoc(userId: number, input: { kbId: string; docId: string }): Promise<void> {
    await this.requireKb(userId, input.kbId);
    if (!(await this.docs.deleteInKb(input.docId, input.kbId))) throw new SwitchboardError('not_found', RAG_MESSAGES.docNotFound);
  }

  async retrieve(caller: RagCaller, input: { kbId: string; query: string; topK?: number | undefined }): Promise<RetrievedChunk[]> {
    const kb = await this.requireKb(caller.userId, input.kbId);
    return this.retriever.retrieve({ kb, query: input.query, topK: this.topK(input.topK), principal: caller.principal, signal: caller.signal });
  }

  /** SEEDS-SPEC §3.7: missing or ≤ 0 means the default (5); we also cap it. */
  topK(requested: number | undefined): number {
    if (requested === undefined || requested <= 0) return this.config.defaultTopK;
    return Math.min(Math.floor(requested), this.config.maxTopK);
  }

  async close(): Promise<void> {
    await this.parsers.close();
  }
}
