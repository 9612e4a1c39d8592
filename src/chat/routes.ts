import type { FastifyInstance } from 'fastify';
import { useLenientJsonParser } from '../platform/lenient-json.js';
import { registerAccountRoutes } from './account-routes.js';
import { CHAT_MESSAGES } from './chat-messages.js';
import { registerChatRoutes } from './chat-routes.js';
import type { ChatService } from './chat-service.js';
import { registerConversationRoutes } from './conversation-routes.js';
import { renderChatError } from './render-chat-error.js';

export interface ChatDeps {
  readonly service: ChatService;
}

/**
 * Registers seed 002's application API under `/api` (SEEDS-SPEC §3.4–3.5) as one encapsulated
 * plugin: its own lenient JSON parser (gin binds any body as JSON, and each route answers bad
 * input with its own 400 text), `{"error":"…"}` errors and a JSON 404 for unknown `/api` paths.
 */
export async function registerChat(app: FastifyInstance, deps: ChatDeps): Promise<void> {
  if (!app.hasRequestDecorator('userId')) app.decorateRequest('userId', undefined);
  await app.register(
    async (scope) => {
      useLenientJsonParser(scope);
      scope.setErrorHandler(renderChatError);
      scope.setNotFoundHandler(async (_request, reply) => reply.code(404).type('application/json; charset=utf-8').send({ error: CHAT_MESSAGES.notFound }));
      await registerAccountRoutes(scope, deps.service.accounts);
      await scope.register(async (authenticated) => {
        authenticated.addHook('onRequest', deps.service.authHook());
        await registerConversationRoutes(authenticated, deps.service);
        await registerChatRoutes(authenticated, deps.service);
      });
    },
    { prefix: '/api' },
  );
}
