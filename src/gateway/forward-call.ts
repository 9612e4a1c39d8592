import type { ForwardCall } from './target.js';

/** Paths whose streams can report token usage via `stream_options.include_usage`. */
export const USAGE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

function wantsUsage(json: Readonly<Record<string, unknown>>): boolean {
  const options = json['stream_options'];
  return typeof options === 'object' && options !== null && (options as Record<string, unknown>)['include_usage'] === true;
}

export interface ForwardCallInput {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly json: Readonly<Record<string, unknown>> | undefined;
  readonly requestedModel: string | undefined;
  /** The model after aliasing. */
  readonly model: string | undefined;
  readonly stream: boolean;
  readonly apiKey?: string | undefined;
}

/**
 * Builds the call once. The body is re-serialised only when we must edit it: an alias changed the
 * model, or a stream needs `include_usage` so its tokens can be recorded.
 */
export function buildForwardCall(input: ForwardCallInput): ForwardCall {
  let { json, body } = input;
  if (json && input.model !== input.requestedModel) {
    json = { ...json, model: input.model };
    body = Buffer.from(JSON.stringify(json));
  }
  const addUsage = input.stream && json !== undefined && USAGE_PATHS.has(input.path) && !wantsUsage(json);
  const streamUsageBody =
    addUsage && json
      ? Buffer.from(JSON.stringify({ ...json, stream_options: { ...(json['stream_options'] as object | undefined), include_usage: true } }))
      : undefined;
  return {
    requestId: input.requestId,
    method: input.method,
    path: input.path,
    search: input.search,
    headers: input.headers,
    body,
    json,
    model: input.model,
    stream: input.stream,
    apiKey: input.apiKey,
    streamUsageBody,
  };
}
