import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { publicMessage, toSwitchboardError, type SwitchboardError } from '../platform/errors.js';

/** OpenAI's error body: `{"error":{"message","type","param","code"}}` (seed 000 uses it too). */
export function openAiErrorBody(error: SwitchboardError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: publicMessage(error), type: error.type, param: error.param ?? null, code: error.code } };
}

/** Seed 000 §1.3: exact texts its clients may match on. */
export const SEED_MESSAGES = {
  invalidJson: 'We could not parse the JSON body of your request.',
  internal: 'Internal server error',
  timeout: 'Request timeout',
} as const;

/** SSE error event for a stream that already started (R1: an in-band error and no [DONE]). */
export function sseErrorEvent(message: string, code: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'upstream_error', param: null, code } })}\n\n`;
}

/** Logs an error a /v1 request ended with: server faults as errors, refusals at debug. */
function logOpenAiError(log: FastifyBaseLogger, rawError: unknown, error: SwitchboardError): void {
  if (error.status >= 500) log.error({ err: rawError, code: error.code }, 'request failed');
  else log.debug({ code: error.code, message: error.message }, 'request refused');
}

/** Error handler for the /v1 surface: every error is rendered once, here (or by `sendOpenAiError` on the raw lane). */
export async function renderOpenAiError(rawError: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const error = toSwitchboardError(rawError);
  logOpenAiError(request.log, rawError, error);
  if (error.headers) reply.headers(error.headers);
  await reply.code(error.status).type('application/json').send(openAiErrorBody(error));
}

/** `renderOpenAiError` for a raw response (proxy-lane.ts): same status, headers and body. */
export function sendOpenAiError(log: FastifyBaseLogger, rawError: unknown, client: { readonly raw: ServerResponse; readonly setHeaders: Readonly<Record<string, string>> }): void {
  const { raw, setHeaders } = client;
  const error = toSwitchboardError(rawError);
  logOpenAiError(log, rawError, error);
  if (raw.headersSent) {
    raw.destroy();
    return;
  }
  const text = JSON.stringify(openAiErrorBody(error));
  raw.writeHead(error.status, { ...setHeaders, ...error.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  raw.end(text);
}
