import type { FastifyInstance } from 'fastify';
import type { BrowserTokens } from '../browser-tokens.js';
import { requirePrincipal } from '../require-principal.js';
import type { ConvBackend } from './conv-backend.js';
import { readConvAction } from './conv-request.js';

/**
 * `/conv` (SEEDS-SPEC §4.6): the `Chat-Type` header picks the action: `conversations` (GET, list),
 * `conversation/<id>` (GET, one), `conversation` (POST, send a message and stream the answer).
 * Auth first, as the seed's middleware chain; then 400 (empty body) without a usable Chat-Type.
 */
export function registerConvRoute(app: FastifyInstance, deps: { tokens: BrowserTokens; backend: ConvBackend }): void {
  app.route({
    method: ['GET', 'POST'],
    url: '/conv',
    handler: async (request, reply) => {
      const principal = await requirePrincipal(request, deps.tokens);
      const action = readConvAction(request);
      const context = { request, reply, principal };
      switch (action.kind) {
        case 'list':
          return deps.backend.list(context, action);
        case 'one':
          return deps.backend.one(context, action);
        case 'post':
          return deps.backend.post(context, action);
      }
    },
  });
}
