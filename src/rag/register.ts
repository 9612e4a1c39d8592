import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { ChatService } from '../chat/index.js';
import { useLenientJsonParser } from '../platform/lenient-json.js';
import { RAG_MESSAGES } from './rag-messages.js';
import type { RagService } from './rag-service.js';
import { registerDocRoutes } from './routes/doc-routes.js';
import { registerKbRoutes } from './routes/kb-routes.js';
import { registerQueryRoutes } from './routes/query-routes.js';
import { createRagErrorRenderer } from './routes/render-rag-error.js';
import { registerUploadRoute } from './routes/upload-route.js';

export interface RagDeps {
  readonly service: RagService;
  /** Chat supplies the user auth hook, conversations and the seed-002 stream. */
  readonly chat: ChatService;
}

/** Most text fields a single upload may carry (RELIABILITY §4: 20). */
const MAX_FIELDS = 20;

/**
 * Registers `/api/rag/*` (SEEDS-SPEC §3.7) as one encapsulated plugin: chat's user auth on every
 * route, a lenient JSON parser (each route answers bad input with 无效的请求参数), multipart with
 * explicit limits (@fastify/multipart CVE-2023-25576), and `{"error":"…"}` errors.
 */
export async function registerRag(app: FastifyInstance, deps: RagDeps): Promise<void> {
  const { config } = deps.service;
  await app.register(
    async (scope) => {
      useLenientJsonParser(scope);
      await scope.register(multipart, {
        limits: { fileSize: config.maxUploadBytes, files: 1, parts: config.maxParts, fields: MAX_FIELDS, fieldSize: config.maxFieldBytes, headerPairs: 100 },
        throwFileSizeLimit: true,
      });
      scope.setErrorHandler(createRagErrorRenderer({ maxUploadBytes: config.maxUploadBytes }));
      scope.setNotFoundHandler(async (_request, reply) => reply.code(404).type('application/json; charset=utf-8').send({ error: RAG_MESSAGES.notFound }));
      scope.addHook('onRequest', deps.chat.authHook());
      await registerKbRoutes(scope, deps.service);
      await registerDocRoutes(scope, deps.service);
      await registerUploadRoute(scope, deps.service);
      await registerQueryRoutes(scope, deps);
    },
    { prefix: '/api/rag' },
  );
}
