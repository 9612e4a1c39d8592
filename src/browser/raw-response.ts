import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

export interface RawHead {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Flush the head at once (SSE: the client should see the stream start before the first event). */
  readonly flush?: boolean;
}

/**
 * Takes the response over from Fastify to stream it ourselves, keeping the headers hooks already
 * set on the reply (CORS from platform/cors.ts, x-request-id).
 */
export function startRawResponse(reply: FastifyReply, head: RawHead): ServerResponse {
  reply.hijack();
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  Object.assign(headers, head.headers);
  // The one log line is written by the onResponse hook, which reads the status from the reply.
  reply.code(head.status);
  const raw = reply.raw;
  raw.writeHead(head.status, headers);
  if (head.flush === true) raw.flushHeaders();
  return raw;
}

/** Headers of every SSE answer we write ourselves. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;
