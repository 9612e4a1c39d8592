import { basename, dirname } from 'node:path';

/** The parts of a transformers.js tensor we read. */
interface TensorLike {
  readonly data: ArrayLike<number | bigint>;
  readonly dims: readonly number[];
}

interface PipelineLike {
  tokenizer(texts: string[], options: { padding: boolean; truncation: boolean }): Record<string, TensorLike>;
  model(inputs: Record<string, TensorLike>): Promise<Record<string, TensorLike | undefined>>;
}

/** Vectors of one batch, L2-normalised; a text with no known token gets an all-zero vector. */
export interface EmbeddedBatch {
  readonly vectors: Float32Array[];
  readonly dimensions: number;
  /** Tokens read, special tokens included (the `usage` an OpenAI client expects). */
  readonly tokens: number;
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  if (!(norm > 1e-12)) return vector.fill(0);
  return vector.map((value) => value / norm);
}

/**
 * A transformers.js feature-extraction model loaded from a local folder, the way a downloaded
 * model (e.g. MiniLM) is loaded: remote fetching is switched off, so nothing is downloaded at run
 * time. Embeddings are mean-pooled over the attention mask and normalised.
 */
export class FeatureExtractor {
  private constructor(
    private readonly extractor: PipelineLike,
    private readonly meanPooling: (hidden: TensorLike, mask: TensorLike) => TensorLike,
  ) {}

  static async load(folder: string): Promise<FeatureExtractor> {
    const transformers = await import('@huggingface/transformers');
    transformers.env.allowRemoteModels = false;
    transformers.env.allowLocalModels = true;
    transformers.env.localModelPath = dirname(folder) + '/';
    const extractor = await transformers.pipeline('feature-extraction', basename(folder), { dtype: 'fp32', local_files_only: true });
    return new FeatureExtractor(extractor, transformers.mean_pooling as unknown as (hidden: TensorLike, mask: TensorLike) => TensorLike);
  }

  async embed(texts: string[]): Promise<EmbeddedBatch> {
    const inputs = this.extractor.tokenizer(texts, { padding: true, truncation: true });
    const mask = inputs['attention_mask'];
    if (!mask) throw new Error('the tokenizer returned no attention_mask');
    const outputs = await this.extractor.model(inputs);
    const hidden = outputs['last_hidden_state'] ?? outputs['token_embeddings'] ?? outputs['logits'];
    if (!hidden) throw new Error('the model returned no last_hidden_state');
    const pooled = this.meanPooling(hidden, mask);
    const dimensions = pooled.dims.at(-1) ?? 0;
    const data = Float32Array.from(pooled.data as ArrayLike<number>);
    const vectors = texts.map((_, row) => normalise(data.slice(row * dimensions, (row + 1) * dimensions)));
    let tokens = 0;
    for (const value of Array.from(mask.data)) tokens += Number(value);
    return { vectors, dimensions, tokens };
  }
}
