import type { FastifyReply } from 'fastify';
import { writeRequestLine } from '../platform/http-server.js';

/**
 * A client that left ends its request as a client disconnect: one info request line with 499
 * (the gateway's record says the same). Fastify writes no line itself: its onResponse hook waits
 * for a response that finished, which a closed connection never does.
 */
export function endForGoneClient(reply: FastifyReply): void {
  if (!reply.sent) reply.hijack();
  const { request } = reply;
  writeRequestLine(request.log, { method: request.method, url: request.url, status: 499, elapsedMs: reply.elapsedTime }, request.logContext);
}
