import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChatService } from './chat-service.js';
import { ownerOf } from './conversation-routes.js';
import { readChatMessage, readConversationId } from './request-input.js';

/**
 * `POST /api/chat/:conversation_id` with and without the trailing slash (SEEDS-SPEC §3.4 [REC]:
 * the seed's gin answered the slash-less form with a bare 307).
 */
export async function registerChatRoutes(app: FastifyInstance, service: ChatService): Promise<void> {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // Seed order: the id is checked before the body.
    const conversationId = readConversationId(request.params);
    const message = readChatMessage(request.body, service.maxMessageChars);
    await service.streamReply({ reply, owner: ownerOf(request), conversationId, storedUserMessage: message, ip: request.ip });
  };
  app.post('/chat/:conversation_id', handler);
  app.post('/chat/:conversation_id/', handler);
}
