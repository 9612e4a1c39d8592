import { z } from 'zod';
import { flag, optionalText, positiveInt, stringList, timerMs } from './schema-helpers.js';

const MIB = 1024 * 1024;

/** The in-process embedding model (served behind the gateway router as an OpenAI `/v1/embeddings` model). */
const localModelSchema = z
  .object({
    /** Model name clients and knowledge bases use. @default "local-glove-100d" */
    name: z.string().min(1).default('local-glove-100d'),
    /**
     * A local transformers.js model folder (config.json, tokenizer.json, onnx/model.onnx), e.g. a
     * downloaded MiniLM. Unset: the GloVe model generated from the shipped word vectors.
     */
    path: optionalText(),
    /** Where the generated GloVe model is written. @default node_modules/.cache/switchboard */
    cacheDir: optionalText(),
    /** Words of the generated model, most frequent first. @default 50000 */
    vocabularySize: z.coerce.number().int().min(1_000).max(300_000).default(50_000),
    /** Set false to serve no local model (remote embedding models only). @default true */
    enabled: flag().default(true),
  })
  .prefault({});

export const ragSchema = z
  .object({
    /** Chunk size in characters. @default 500 */
    chunkSize: positiveInt().default(500),
    /** Overlap between chunks in characters. @default 50 */
    chunkOverlap: z.coerce.number().int().nonnegative().default(50),
    /** Results per retrieval when the request gives none (seed 002). @default 5 */
    defaultTopK: positiveInt().default(5),
    /** Largest `top_k` honoured; larger values are clamped. @default 50 */
    maxTopK: positiveInt().default(50),
    /** Upload size limit (RELIABILITY §4). @default 20 MiB */
    maxUploadBytes: positiveInt().default(20 * MIB),
    /** Largest multipart text field (`kb_id`). @default 64 KiB */
    maxFieldBytes: positiveInt().default(64 * 1024),
    /** Multipart parts per upload (CVE-2023-25576). @default 20 */
    maxParts: positiveInt().default(20),
    /** Text kept from one document after extraction. @default 10 MiB */
    maxTextChars: positiveInt().default(10 * MIB),
    /** Chunks one document may produce. @default 20000 */
    maxChunksPerDocument: positiveInt().default(20_000),
    docx: z
      .object({
        /** Sum of the ZIP's declared uncompressed sizes. @default 100 MiB */
        maxUncompressedBytes: positiveInt().default(100 * MIB),
        /** ZIP entries. @default 2000 */
        maxEntries: positiveInt().default(2_000),
        /** Uncompressed : compressed. @default 100 */
        maxRatio: positiveInt().default(100),
      })
      .prefault({}),
    pdf: z
      .object({
        /** Pages per PDF. @default 2000 */
        maxPages: positiveInt().default(2_000),
      })
      .prefault({}),
    parser: z
      .object({
        /** Parser worker threads kept warm. @default 1 */
        workers: positiveInt().default(1),
        /** A document still parsing after this long is abandoned (worker killed). @default 30s */
        timeoutMs: timerMs().default(30_000),
        /** Old-generation heap of a parser worker. @default 256 */
        heapMb: positiveInt().default(256),
        /** Documents waiting for a worker before uploads are refused with 503. @default 16 */
        maxQueued: positiveInt().default(16),
      })
      .prefault({}),
    embedding: z
      .object({
        /** Model of a knowledge base created without `embedding_model`. @default the local model */
        defaultModel: optionalText(),
        /** Extra embedding models served by configured upstreams, listed by /api/rag/models. */
        models: stringList().default([]),
        /** Texts per /v1/embeddings call. @default 64 */
        batchSize: positiveInt().default(64),
        local: localModelSchema,
      })
      .prefault({}),
    retrieval: z
      .object({
        /** Vector hits below this cosine are not relevant. @default 0.3 */
        minSimilarity: z.coerce.number().min(-1).max(1).default(0.3),
        /** Candidates taken from each of the lexical and vector lists before fusion. @default 50 */
        candidates: positiveInt().default(50),
        /** Reciprocal-rank-fusion constant. @default 60 */
        rrfK: positiveInt().default(60),
        /** Floats kept in memory by the PostgreSQL brute-force vector index (LRU by KB). @default 32,000,000 (128 MB) */
        pgCacheFloats: positiveInt().default(32_000_000),
      })
      .prefault({}),
  })
  .prefault({});
