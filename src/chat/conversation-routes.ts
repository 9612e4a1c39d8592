import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CHAT_MESSAGES } from './chat-messages.js';
import type { ChatService } from './chat-service.js';
import { readConversationId, readNewConversation } from './request-input.js';

/** Seed 002 reports times in Unix seconds. */
function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The owner string of the authenticated user (set by the auth hook of this scope). */
export function ownerOf(request: FastifyRequest): string {
  return `user:${String(request.userId)}`;
}

/** `/api/conversations/*` (SEEDS-SPEC §3.4); the scope's hook has authenticated the user. */
export async function registerConversationRoutes(app: FastifyInstance, service: ChatService): Promise<void> {
  app.post('/conversations/create', async (request) => {
    const input = readNewConversation(request.body);
    const conversation = await service.createConversation({ userId: request.userId ?? 0, ...input });
    // The api_key is echoed here once (seed), never again, and never logged.
    return { conversation_id: conversation.id, title: conversation.title, model: conversation.model, api_key: input.apiKey ?? '', created_time: unixSeconds(conversation.created_at) };
  });

  app.get('/conversations/list', async (request) => {
    const conversations = await service.conversations.listOwned(ownerOf(request));
    return conversations.map((conversation) => ({ conversation_id: conversation.id, title: conversation.title, created_time: unixSeconds(conversation.created_at) }));
  });

  app.get('/conversations/history/:conversation_id', async (request) => {
    const id = readConversationId(request.params);
    const { conversation, messages } = await service.loadOwned(id, ownerOf(request));
    return {
      conversation_id: conversation.id,
      title: conversation.title,
      model: conversation.model,
      // Seed: system messages are not shown.
      messages: messages.filter((message) => message.role !== 'system').map((message) => ({ role: message.role, content: message.content, message_id: message.seq })),
      created_time: unixSeconds(conversation.created_at),
    };
  });

  app.post('/conversations/del/:conversation_id', async (request) => {
    await service.deleteOwned(readConversationId(request.params), ownerOf(request));
    return { message: CHAT_MESSAGES.conversationDeleted };
  });
}
