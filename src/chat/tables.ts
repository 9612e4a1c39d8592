import type { Generated } from 'kysely';

/** Chat users (seed 002 `users`). Times in epoch ms; a deleted user keeps the row and its name. */
export interface UsersTable {
  id: Generated<number>;
  username: string;
  /** bcrypt hash (cost from `chat.bcryptCost`). */
  password_hash: string;
  created_at: number;
  /** Set when the account is deleted; its tokens stop working at once. */
  deleted_at: number | null;
}

/**
 * Conversations of chat users and of browser tokens. `id` is a random integer below 2^53
 * (SEEDS-SPEC §3.2 [REC]: collision-free, still an integer for seed clients).
 */
export interface ConversationsTable {
  id: number;
  /** `user:<id>` or `browser:<jti>`: every owner-scoped query filters on this. */
  owner: string;
  /** Set for `user:` owners; deleting the user row deletes its conversations. */
  user_id: number | null;
  title: string;
  model: string;
  /** The conversation's upstream key, AES-256-GCM sealed (`v1:` + base64url); null = the upstream's own. */
  api_key_enc: string | null;
  created_at: number;
  updated_at: number;
}

/**
 * Messages, append-only. `parent_id` links each message to the one before it (a tree: the browser
 * /conv API branches on it); `seq` is the seed's `message_id` (0 = the system message).
 */
export interface MessagesTable {
  id: string;
  conversation_id: number;
  parent_id: string | null;
  seq: number;
  role: string;
  content: string;
  created_at: number;
}

export interface ChatTables {
  users: UsersTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
}
