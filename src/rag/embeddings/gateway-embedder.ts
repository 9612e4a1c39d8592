import type { Gateway, Principal } from '../../gateway/index.js';
import { SwitchboardError } from '../../platform/errors.js';
import { readCappedText } from '../../platform/read-capped.js';

/** Turns texts into normalised vectors; `null` for a text with no vector (no known word). */
export interface Embedder {
  embed(request: EmbedRequest): Promise<(Float32Array | null)[]>;
}

export interface EmbedRequest {
  readonly model: string;
  readonly texts: readonly string[];
  /** Who the usage records are charged to. */
  readonly principal: Principal;
  readonly signal: AbortSignal;
}

/** A 64-text batch of 2048-d vectors is ~3 MB of JSON; anything near this cap is not an embedding answer. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

interface EmbeddingItem {
  readonly index?: unknown;
  readonly embedding?: unknown;
}

async function readBody(body: AsyncIterable<Buffer | string>): Promise<string> {
  const text = await readCappedText(body, MAX_RESPONSE_BYTES);
  if (text === undefined) throw new Error('embedding response too large');
  return text;
}

function toVector(embedding: unknown): Float32Array | undefined {
  if (typeof embedding === 'string') {
    const bytes = Buffer.from(embedding, 'base64');
    return new Float32Array(new Uint8Array(bytes).buffer, 0, Math.floor(bytes.length / 4));
  }
  if (Array.isArray(embedding) && embedding.every((value) => typeof value === 'number')) return Float32Array.from(embedding);
  return undefined;
}

function normalised(vector: Float32Array): Float32Array | null {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  return norm > 1e-9 && Number.isFinite(norm) ? vector.map((value) => value / norm) : null;
}

const failure = (model: string, why: string) => new SwitchboardError('upstream_error', `嵌入模型 ${model} 调用失败: ${why}`, { status: 500 });

/**
 * Embeds through the gateway's own `/v1/embeddings` routing (the in-process model, a zhipu or any
 * OpenAI-compatible upstream), in batches, so usage records, keys, failover and timeouts are
 * the same as for /v1 clients.
 */
export class GatewayEmbedder implements Embedder {
  constructor(
    private readonly gateway: Gateway,
    private readonly batchSize: number,
  ) {}

  async embed(request: EmbedRequest): Promise<(Float32Array | null)[]> {
    const vectors: (Float32Array | null)[] = [];
    for (let start = 0; start < request.texts.length; start += this.batchSize) {
      vectors.push(...(await this.embedBatch(request, request.texts.slice(start, start + this.batchSize))));
    }
    return vectors;
  }

  private async embedBatch(request: EmbedRequest, input: readonly string[]): Promise<(Float32Array | null)[]> {
    const { model } = request;
    let text: string;
    let status: number;
    try {
      const response = await this.gateway.forward({ path: '/v1/embeddings', body: { model, input }, principal: request.principal, signal: request.signal });
      status = response.status;
      text = await readBody(response.body);
    } catch (error) {
      throw failure(model, error instanceof SwitchboardError ? error.message : (error as Error).message);
    }
    if (status !== 200) throw failure(model, `HTTP ${String(status)} ${text.slice(0, 300)}`);
    let data: unknown;
    try {
      data = (JSON.parse(text) as { data?: unknown }).data;
    } catch {
      throw failure(model, 'invalid JSON');
    }
    if (!Array.isArray(data) || data.length !== input.length) throw failure(model, 'unexpected response shape');
    const ordered = [...(data as EmbeddingItem[])].sort((a, b) => Number(a.index) - Number(b.index));
    return ordered.map((item) => {
      const vector = toVector(item.embedding);
      if (!vector) throw failure(model, 'unexpected embedding value');
      return normalised(vector);
    });
  }
}
