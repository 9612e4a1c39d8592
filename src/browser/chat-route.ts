import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../gateway/index.js';
import type { BrowserTokens } from './browser-tokens.js';
import { reduceChatBody } from './chat-body.js';
import { relayResponse } from './relay-response.js';
import { requirePrincipal } from './require-principal.js';
import { upstreamIdentity } from './upstream-identity.js';

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
    const principal = await requirePrincipal(request, deps.tokens);
    const body = reduceChatBody(request.body as Buffer);
    request.logContext.model = body.model;
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    reply.raw.on('close', onClose);
    const response = await deps.gateway.forward({
      path: '/v1/chat/completions',
      body: { model: body.model, stream: body.stream, messages: body.messages },
      principal: { kind: 'browser', id: principal.id },
      headers: upstreamIdentity(principal),
      ip: request.ip,
      signal: gone.signal,
    });
    reply.raw.off('close', onClose);
    await relayResponse(reply, response);
  });
}
