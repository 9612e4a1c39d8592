import { Readable } from 'node:stream';
import { openAiErrorBody, type CancelSignal, type ForwardCall, type Target, type TargetResponse } from '../../gateway/index.js';
import { SwitchboardError } from '../../platform/errors.js';
import type { FeatureExtractor } from './feature-extractor.js';

/** OpenAI's own limit on inputs per /v1/embeddings call. */
const MAX_INPUTS = 2048;
/** Longest single input accepted, in characters. */
const MAX_INPUT_CHARS = 200_000;
/** Texts run through the model at once (bounds padding memory). */
const BATCH = 64;

function jsonResponse(status: number, body: unknown): TargetResponse {
  const bytes = Buffer.from(JSON.stringify(body));
  return { status, headers: { 'content-type': 'application/json', 'content-length': String(bytes.length) }, body: Readable.from([bytes]) };
}

const refuse = (message: string, param?: string) => jsonResponse(400, openAiErrorBody(new SwitchboardError('bad_request', message, param === undefined ? {} : { param })));

function inputsOf(json: Readonly<Record<string, unknown>> | undefined): string[] | string {
  const input = json?.['input'];
  const inputs = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(inputs) || inputs.length === 0) return '`input` must be a string or a non-empty array of strings.';
  if (inputs.length > MAX_INPUTS) return `\`input\` may hold at most ${MAX_INPUTS} items.`;
  if (!inputs.every((item): item is string => typeof item === 'string')) return 'This model accepts text inputs only, not token arrays.';
  if (inputs.some((item) => item.length > MAX_INPUT_CHARS)) return `Each input may be at most ${MAX_INPUT_CHARS} characters.`;
  return inputs;
}

/**
 * The in-process embedding model as a router Target: it answers OpenAI `/v1/embeddings` JSON
 * (float arrays, or base64 little-endian float32 when `encoding_format` is `base64`, the default
 * of the official SDKs), so it is served, recorded and listed like any upstream model.
 */
export class LocalEmbeddingTarget implements Target {
  readonly id: string;
  readonly kind = 'upstream' as const;

  constructor(
    private readonly model: { readonly name: string; load(): Promise<FeatureExtractor> },
  ) {
    this.id = `local:${model.name}`;
  }

  async send(call: ForwardCall, signal: CancelSignal): Promise<TargetResponse> {
    if (call.path !== '/v1/embeddings') return refuse(`The model \`${this.model.name}\` only serves /v1/embeddings.`, 'model');
    const inputs = inputsOf(call.json);
    if (typeof inputs === 'string') return refuse(inputs, 'input');
    let extractor: FeatureExtractor;
    try {
      extractor = await this.model.load();
    } catch (error) {
      const failure = new SwitchboardError('upstream_unavailable', `The local model \`${this.model.name}\` could not be loaded: ${(error as Error).message}`);
      return jsonResponse(503, openAiErrorBody(failure));
    }
    const isBase64 = call.json?.['encoding_format'] === 'base64';
    const data: { object: 'embedding'; index: number; embedding: number[] | string }[] = [];
    let tokens = 0;
    for (let start = 0; start < inputs.length; start += BATCH) {
      if (signal.aborted) throw new SwitchboardError('client_closed', 'Client closed the request.');
      const batch = await extractor.embed(inputs.slice(start, start + BATCH));
      tokens += batch.tokens;
      batch.vectors.forEach((vector, offset) => {
        const embedding = isBase64 ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector);
        data.push({ object: 'embedding', index: start + offset, embedding });
      });
    }
    return jsonResponse(200, { object: 'list', data, model: this.model.name, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }
}
