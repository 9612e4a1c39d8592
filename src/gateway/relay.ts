import type { FastifyReply } from 'fastify';
import type { StartedExchange } from './exchange.js';
import { sseErrorEvent } from './openai-errors.js';

/** Why an SSE stream ended with an error event, by the record's outcome. */
const STREAM_FAILURES: Readonly<Record<string, string>> = {
  upstream_idle_timeout: 'The upstream stopped sending data.',
  upstream_timeout: 'The upstream did not finish in time.',
  upstream_reset: 'The upstream connection was lost.',
};

/**
 * Sends the target's status, headers and body to the client as they arrive, with back-pressure
 * (a slow reader pauses the upstream read), and cancels the target when the client leaves.
 * A stream that fails after its first byte ends with one in-band error event and no [DONE].
 */
export function relayToClient(reply: FastifyReply, exchange: StartedExchange): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  Object.assign(headers, exchange.headers, { 'x-request-id': exchange.requestId });
  if (exchange.isSse) headers['x-accel-buffering'] = 'no';
  raw.writeHead(exchange.status, headers);
  if (exchange.isSse) raw.flushHeaders();
  const body = exchange.body;
  return new Promise<void>((resolve) => {
    raw.on('close', () => {
      if (!raw.writableFinished) exchange.abort();
      resolve();
    });
    raw.on('drain', () => body.resume());
    body.on('data', (chunk: Buffer) => {
      if (!raw.write(chunk)) body.pause();
    });
    body.on('end', () => {
      if (body.endedEarly) raw.end(sseErrorEvent('The upstream closed the stream before it was complete.', 'upstream_incomplete'));
      else raw.end();
    });
    body.on('error', (error: Error & { code?: string }) => {
      if (raw.destroyed) return;
      if (!exchange.isSse) {
        raw.destroy();
        return;
      }
      const code = error.code === 'UND_ERR_BODY_TIMEOUT' ? 'upstream_idle_timeout' : 'upstream_reset';
      raw.end(sseErrorEvent(STREAM_FAILURES[code] ?? 'The upstream failed.', code));
    });
  });
}
