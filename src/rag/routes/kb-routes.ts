import type { FastifyInstance } from 'fastify';
import type { KbRow } from '../knowledge-bases-repository.js';
import { ERROR_PREFIXES, RAG_MESSAGES } from '../rag-messages.js';
import type { RagService } from '../rag-service.js';
import { FIELD_LIMITS, bodyFields, callerOf, optionalText, requiredText } from './request-fields.js';

const kbView = (kb: KbRow) => ({ kb_id: kb.kb_id, kb_name: kb.kb_name, embedding_model: kb.embedding_model });

/** `/kb/create`, `/kb/list`, `/kb/delete` and `/models` (SEEDS-SPEC §3.7). */
export async function registerKbRoutes(app: FastifyInstance, service: RagService): Promise<void> {
  app.post('/kb/create', { config: { ragErrorPrefix: ERROR_PREFIXES.createKb } }, async (request, reply) => {
    const fields = bodyFields(request.body);
    const name = requiredText(fields, 'kb_name', FIELD_LIMITS.nameChars);
    const model = optionalText(fields, 'embedding_model', FIELD_LIMITS.modelChars);
    const kb = await service.createKb({ userId: callerOf(request, reply).userId, name, model });
    return { success: true, kb_id: kb.kb_id, message: RAG_MESSAGES.kbCreated(kb.embedding_model) };
  });

  app.get('/kb/list', { config: { ragErrorPrefix: ERROR_PREFIXES.listKbs } }, async (request, reply) => {
    const kbs = await service.listKbs(callerOf(request, reply).userId);
    return { success: true, kbs: kbs.map(kbView), message: RAG_MESSAGES.kbListed };
  });

  app.post('/kb/delete', { config: { ragErrorPrefix: ERROR_PREFIXES.deleteKb } }, async (request, reply) => {
    const kbId = requiredText(bodyFields(request.body), 'kb_id', FIELD_LIMITS.idChars);
    await service.deleteKb(callerOf(request, reply).userId, kbId);
    return { success: true, message: RAG_MESSAGES.kbDeleted };
  });

  app.get('/models', { config: { ragErrorPrefix: ERROR_PREFIXES.models } }, async () => {
    return { success: true, models: await service.models.list(), message: RAG_MESSAGES.modelsListed };
  });
}
