import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { sseErrorEvent, type TargetResponse } from '../gateway/index.js';
import { SSE_HEADERS, startRawResponse } from './raw-response.js';

/**
 * Sends a gateway answer to the browser as it arrives (SEEDS-SPEC §4.5: status, content type and
 * body unchanged, SSE flushed per chunk). A slow reader pauses the upstream read; a client that
 * leaves destroys the body, which cancels the upstream call. Resolves when the exchange is over.
 */
export function relayResponse(reply: FastifyReply, response: TargetResponse): Promise<void> {
  if (reply.raw.destroyed) {
    // The client left while the upstream was answering: cancel it, nobody will read the body.
    response.body.destroy();
    return Promise.resolve();
  }
  const contentType = response.headers['content-type'] ?? 'application/json';
  const isSse = contentType.startsWith('text/event-stream');
  const headers: Record<string, string> = isSse ? { ...SSE_HEADERS, 'content-type': contentType } : { 'content-type': contentType };
  const raw = startRawResponse(reply, { status: response.status, headers, flush: isSse });
  const body: Readable = response.body;
  return new Promise<void>((resolve) => {
    raw.on('close', () => {
      if (!body.destroyed && !body.readableEnded) body.destroy();
      resolve();
    });
    raw.on('drain', () => body.resume());
    body.on('data', (chunk: Buffer) => {
      if (!raw.write(chunk)) body.pause();
    });
    body.on('end', () => raw.end());
    body.on('error', () => {
      if (raw.destroyed) return;
      // R1: a stream that fails after its first byte ends with one in-band error and no [DONE].
      if (isSse) raw.end(sseErrorEvent('The upstream failed before the answer was complete.', 'upstream_reset'));
      else raw.destroy();
    });
  });
}
