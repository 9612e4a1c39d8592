import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../gateway/index.js';
import { endForGoneClient, watchClientGone } from '../platform/client-gone.js';
import { forwardBrowserChat } from './browser-chat-call.js';
import type { BrowserTokens } from './browser-tokens.js';
import { reduceChatBody } from './chat-body.js';
import { relayResponse } from './relay-response.js';
import { requirePrincipal } from './require-principal.js';

export interface ChatRouteDeps {
  readonly gateway: Gateway;
  readonly tokens: BrowserTokens;
}

/**
 * `POST /chat` (SEEDS-SPEC §4.5): the seed's pass-through, through Switchboard's own router
 * (API_PROXY becomes an upstream, see index.ts), so keys, failover, timeouts and usage records
 * are those of /v1. The body is reduced to `{model, stream, messages:[{role, content}]}`.
 */
export function registerChatRoute(app: FastifyInstance, deps: ChatRouteDeps): void {
  app.post('/chat', async (request, reply) => {
    await answer({ request, reply, deps });
    // Fastify writes no request line for a response that never finished: a client that left
    // is logged here, as seed 002 chat and /conv do.
    endForGoneClient(reply);
  });
}

/** Forwards the call and relays the answer; returns without a response when the client left. */
async function answer(context: { request: FastifyRequest; reply: FastifyReply; deps: ChatRouteDeps }): Promise<void> {
  const { request, reply, deps } = context;
  // Watching from the start: a client that leaves while its token is checked fires its close
  // event then, and nothing else would cancel the call made after it.
  const gone = watchClientGone(reply.raw);
  try {
    const principal = await requirePrincipal(request, deps.tokens);
    const body = reduceChatBody(request.body as Buffer);
    request.logContext.model = body.model;
    // An aborted signal makes the gateway call no target (its record says client_closed).
    const response = await forwardBrowserChat(deps.gateway, { body: { model: body.model, stream: body.stream, messages: body.messages }, principal, ip: request.ip, signal: gone.signal });
    gone.stop();
    if (response !== undefined) await relayResponse(reply, response);
  } finally {
    gone.stop();
  }
}
