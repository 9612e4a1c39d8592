import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { writeRequestLine } from './http-server.js';

/** An AbortSignal for "the client left", and how to stop watching. */
export interface ClientGoneWatch {
  readonly signal: AbortSignal;
  /** Stops watching (idempotent): the response finished, or a relay that watches for itself took it. */
  stop(): void;
}

/**
 * Aborts when the client's connection closes before its response finished, and is aborted at
 * once when it closed before this was called (its close event has fired and will not fire again).
 * For in-process callers of the gateway (chat, /chat, /conv), which pass an AbortSignal; the /v1
 * proxy has a lighter signal of its own (gateway/client-signal.ts).
 */
export function watchClientGone(raw: ServerResponse): ClientGoneWatch {
  const controller = new AbortController();
  const onClose = () => {
    if (!raw.writableFinished) controller.abort();
  };
  raw.on('close', onClose);
  if (raw.destroyed) onClose();
  return { signal: controller.signal, stop: () => raw.off('close', onClose) };
}

/**
 * A request whose client left ends as a client disconnect: one info request line with 499 (the
 * gateway's record says the same). Fastify writes no line itself: its onResponse hook waits for a
 * response that finished, which a closed connection never does. Does nothing when the response
 * finished or the connection is still open.
 */
export function endForGoneClient(reply: FastifyReply): void {
  if (!reply.raw.destroyed || reply.raw.writableFinished) return;
  if (!reply.sent) reply.hijack();
  const { request } = reply;
  writeRequestLine(request.log, { method: request.method, url: request.url, status: 499, elapsedMs: reply.elapsedTime }, request.logContext);
}
