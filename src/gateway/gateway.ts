import type { Principal, TargetResponse } from './target.js';

/** A request made in process by chat, RAG or browser routes; same router, keys, records, timeouts. */
export interface GatewayRequest {
  /** OpenAI path, e.g. `/v1/chat/completions` or `/v1/embeddings`. */
  readonly path: string;
  /** JSON body as the client would send it; `model` and `stream` are read from it. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly principal: Principal;
  /** Upstream key to use instead of the upstream's own (chat conversation api_key). */
  readonly apiKey?: string | undefined;
  readonly ip?: string | undefined;
  /** Extra headers for the target, lower-case (seed 003's `userid`); credentials are still dropped. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Aborting cancels the upstream call; a record with outcome `client_closed` is written. */
  readonly signal: AbortSignal;
}

/**
 * In-process façade over the proxy pipeline. The returned body is the target's own bytes (SSE for
 * streams, JSON otherwise); its record is written when the body ends, fails or is destroyed.
 * Errors before any byte (no target, every attempt failed) reject with a SwitchboardError whose
 * status/message already follow OpenAI's conventions; the upstream's own final 4xx/5xx is a
 * resolved response with that status.
 */
export interface Gateway {
  forward(request: GatewayRequest): Promise<TargetResponse>;
  /** Model names the router can serve right now (upstream models and worker-fleet models). */
  listModels(): Promise<string[]>;
}
