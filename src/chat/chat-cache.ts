import type { MessageRow } from './conversations-repository.js';

/**
 * What chat keeps in Redis (optional). The SQL store is the source of truth: every method may
 * miss or fail, and a failure reads as a miss, so callers always have a SQL fallback.
 */
export interface ChatCache {
  /** The user of a verified token, by the token's SHA-256 (never the raw token). */
  getTokenUser(tokenHash: string): Promise<number | undefined>;
  putToken(entry: { tokenHash: string; userId: number; ttlMs: number }): Promise<void>;
  /** Drops every cached token of a user (account deleted). */
  forgetUserTokens(userId: number): Promise<void>;
  /** Cached messages of a conversation, only if cached for this owner at exactly `lastSeq`. */
  getMessages(conversationId: number, version: { owner: string; lastSeq: number | null }): Promise<MessageRow[] | undefined>;
  putMessages(conversationId: number, entry: { owner: string; lastSeq: number | null; messages: readonly MessageRow[] }): Promise<void>;
  forgetConversation(conversationId: number): Promise<void>;
  close(): Promise<void>;
}

/** No Redis configured: every read misses, every write is dropped. */
export class NoChatCache implements ChatCache {
  getTokenUser(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  putToken(): Promise<void> {
    return Promise.resolve();
  }

  forgetUserTokens(): Promise<void> {
    return Promise.resolve();
  }

  getMessages(): Promise<MessageRow[] | undefined> {
    return Promise.resolve(undefined);
  }

  putMessages(): Promise<void> {
    return Promise.resolve();
  }

  forgetConversation(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
