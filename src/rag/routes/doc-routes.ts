import type { FastifyInstance } from 'fastify';
import { SwitchboardError } from '../../platform/errors.js';
import type { DocRow } from '../documents-repository.js';
import { ERROR_PREFIXES, RAG_MESSAGES } from '../rag-messages.js';
import type { RagService } from '../rag-service.js';
import { FIELD_LIMITS, bodyFields, callerOf, requiredText } from './request-fields.js';

// The seed's proto lists created_at for documents; we add the chunk count.
const docView = (doc: DocRow) => ({
  doc_id: doc.doc_id,
  kb_id: doc.kb_id,
  doc_name: doc.doc_name,
  file_type: doc.file_type,
  chunk_count: doc.chunk_count,
  created_at: Math.floor(doc.created_at / 1000),
});

/** `GET /doc/list?kb_id=` and `POST /doc/delete` (SEEDS-SPEC §3.7). */
export async function registerDocRoutes(app: FastifyInstance, service: RagService): Promise<void> {
  app.get('/doc/list', { config: { ragErrorPrefix: ERROR_PREFIXES.listDocs } }, async (request, reply) => {
    const kbId = (request.query as Record<string, unknown> | undefined)?.['kb_id'];
    if (typeof kbId !== 'string' || kbId === '' || kbId.length > FIELD_LIMITS.idChars) throw new SwitchboardError('bad_request', RAG_MESSAGES.missingKbIdParam);
    const docs = await service.listDocs(callerOf(request, reply).userId, kbId);
    return { success: true, docs: docs.map(docView), message: RAG_MESSAGES.docListed };
  });

  app.post('/doc/delete', { config: { ragErrorPrefix: ERROR_PREFIXES.deleteDoc } }, async (request, reply) => {
    const fields = bodyFields(request.body);
    const kbId = requiredText(fields, 'kb_id', FIELD_LIMITS.idChars);
    const docId = requiredText(fields, 'doc_id', FIELD_LIMITS.idChars);
    await service.deleteDoc(callerOf(request, reply).userId, { kbId, docId });
    return { success: true, message: RAG_MESSAGES.docDeleted };
  });
}
