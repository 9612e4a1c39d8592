/**
 * The part of chat's ConversationsRepository (src/chat, shared storage: SEEDS-SPEC §4.6 served
 * from Switchboard's own message tree) that /conv uses. app.ts passes the real repository; this
 * interface only names what the browser surface relies on.
 */
export interface StoredConversation {
  readonly id: number;
  readonly title: string;
  readonly model: string;
  readonly created_at: number;
  readonly updated_at: number;
}

export interface StoredMessage {
  readonly id: string;
  readonly parent_id: string | null;
  readonly seq: number;
  readonly role: string;
  readonly content: string;
  readonly created_at: number;
}

export interface ConversationStore {
  create(input: { readonly owner: string; readonly title: string; readonly model: string }): Promise<StoredConversation>;
  findOwned(id: number, owner: string): Promise<StoredConversation | undefined>;
  /** Newest first. */
  listOwned(owner: string): Promise<StoredConversation[]>;
  /** In `seq` order; callers check ownership first. */
  messages(conversationId: number): Promise<StoredMessage[]>;
  /** `id`, when the store honours it, lets the stream name the answer before it is stored. */
  appendMessage(input: {
    readonly conversationId: number;
    readonly parentId: string | null;
    readonly role: string;
    readonly content: string;
    readonly id?: string;
  }): Promise<StoredMessage>;
}
