/** The RAG capability's public surface (seed 002 `/api/rag/*`, SEEDS-SPEC §3.7). */
export { registerRag, type RagDeps } from './register.js';
export { RagService, type RagCaller, type RagServiceOptions } from './rag-service.js';
export { LocalEmbeddingModels } from './embeddings/local-embedding-models.js';
export type { RetrievedChunk } from './retrieval/retriever.js';
export type { RagTables } from './tables.js';
