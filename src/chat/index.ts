/** The chat capability's public surface (seed 002): RAG and browser build on these. */
export { registerChat, type ChatDeps } from './routes.js';
export { ChatService, createChatService, type ChatServiceOptions, type LoadedConversation, type StreamReplyOptions } from './chat-service.js';
export { UserAuth, createUserAuthHook, type AuthFailure, type AuthResult } from './user-auth.js';
export {
  ConversationsRepository,
  type ConversationRow,
  type MessageRow,
  type NewConversation,
  type NewMessage,
  type OwnedConversation,
} from './conversations-repository.js';
export { UsersRepository, type UserRow } from './users-repository.js';
export { Accounts } from './accounts.js';
export { SessionTokens, type VerifiedToken } from './session-tokens.js';
export { bareJsonBlock } from './chat-stream.js';
export { renderChatError } from './render-chat-error.js';
export { redactSecrets } from './upstream-failure.js';
export { CHAT_MESSAGES } from './chat-messages.js';
export { newConversationId, parseConversationId } from './conversation-ids.js';
export type { ChatTables, ConversationsTable, MessagesTable, UsersTable } from './tables.js';
