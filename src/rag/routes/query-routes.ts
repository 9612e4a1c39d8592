import type { FastifyInstance } from 'fastify';
import type { ChatService } from '../../chat/index.js';
import { SwitchboardError, publicMessage, toSwitchboardError } from '../../platform/errors.js';
import { groundedPrompt } from '../grounded-prompt.js';
import { ERROR_PREFIXES, RAG_MESSAGES } from '../rag-messages.js';
import type { RagService } from '../rag-service.js';
import type { RetrievedChunk } from '../retrieval/retriever.js';
import { FIELD_LIMITS, bodyFields, callerOf, float32, optionalTopK, requiredConversationId, requiredText } from './request-fields.js';

const resultView = (result: RetrievedChunk) => ({
  content: result.content,
  score: float32(result.score),
  doc_id: result.docId,
  doc_name: result.docName,
  // Ours, for citations: where in the document the chunk is.
  position: result.position,
  heading_path: result.headingPath,
  ...(result.page === null ? {} : { page: result.page }),
});

/** SEEDS-SPEC §3.7: a failed or empty retrieval is 500 `生成提示失败: <err>`; an unknown KB stays 404. */
function promptFailure(error: unknown): SwitchboardError {
  const failure = toSwitchboardError(error);
  if (failure.status < 500) return failure;
  return new SwitchboardError('internal', `${RAG_MESSAGES.promptFailedPrefix}: ${publicMessage(failure)}`, { expose: true, cause: error });
}

/** `/retrieve` and `/chat` (SEEDS-SPEC §3.7). */
export async function registerQueryRoutes(app: FastifyInstance, deps: { service: RagService; chat: ChatService }): Promise<void> {
  const { service, chat } = deps;

  app.post('/retrieve', { config: { ragErrorPrefix: ERROR_PREFIXES.retrieve } }, async (request, reply) => {
    const fields = bodyFields(request.body);
    const kbId = requiredText(fields, 'kb_id', FIELD_LIMITS.idChars);
    const query = requiredText(fields, 'query', FIELD_LIMITS.queryChars);
    const results = await service.retrieve(callerOf(request, reply), { kbId, query, topK: optionalTopK(fields) });
    return { success: true, results: results.map(resultView), message: RAG_MESSAGES.retrieved };
  });

  app.post('/chat', async (request, reply) => {
    const fields = bodyFields(request.body);
    const conversationId = requiredConversationId(fields);
    const kbId = requiredText(fields, 'kb_id', FIELD_LIMITS.idChars);
    const message = requiredText(fields, 'message', Math.min(FIELD_LIMITS.messageChars, chat.maxMessageChars));
    const topK = optionalTopK(fields);
    const caller = callerOf(request, reply);
    const owner = caller.principal.id;
    // Both objects must be the caller's before anything is retrieved or sent upstream.
    await service.requireKb(caller.userId, kbId);
    await chat.loadOwned(conversationId, owner);
    const results = await service.retrieve(caller, { kbId, query: message, topK }).catch((error: unknown) => {
      throw promptFailure(error);
    });
    if (results.length === 0) throw promptFailure(new SwitchboardError('internal', RAG_MESSAGES.nothingFound, { expose: true }));
    // The history keeps the user's question; only the model sees the grounded prompt.
    await chat.streamReply({ reply, owner, conversationId, storedUserMessage: message, promptUserMessage: groundedPrompt(message, results), signal: caller.signal, ip: request.ip });
  });
}
