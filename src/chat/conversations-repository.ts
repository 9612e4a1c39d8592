import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import { storableText } from '../db/dialect.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/driver-errors.js';
import { SwitchboardError } from '../platform/errors.js';
import { CHAT_MESSAGES } from './chat-messages.js';
import { newConversationId } from './conversation-ids.js';
import { MonotonicClock } from './monotonic-clock.js';
import type { SecretBox } from './secret-box.js';
import type { ConversationsTable, MessagesTable } from './tables.js';

export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
/** A conversation with the `seq` of its newest message (null when it has none). */
export type OwnedConversation = ConversationRow & { readonly last_seq: number | null };

export interface NewConversation {
  /** `user:<id>` or `browser:<jti>`. */
  readonly owner: string;
  readonly userId?: number | null | undefined;
  readonly title: string;
  readonly model: string;
  /** Upstream key for this conversation; sealed before it is stored. */
  readonly apiKey?: string | undefined;
  /** Stored as message seq 0, role `system` (seed 002's first message). */
  readonly systemPrompt?: string | undefined;
}

export interface NewMessage {
  readonly conversationId: number;
  /** The message this one answers or follows; omitted = the conversation's newest message. */
  readonly parentId?: string | null | undefined;
  readonly role: string;
  readonly content: string;
  /** The id to store it under, when the caller already named the message (a /conv answer streams under it); omitted = a new UUID. */
  readonly id?: string | undefined;
}

/** Attempts when a random id or a message seq was taken by a concurrent writer. */
const MAX_ATTEMPTS = 5;

/**
 * Conversations and their messages. Every read or write of a conversation names its owner, so
 * another owner's id behaves exactly like a missing one (RELIABILITY §2.1 API1). Messages are
 * append-only: `seq` only grows, which is what makes the Redis message cache safe to key by it.
 */
export class ConversationsRepository {
  /** created_at and updated_at order the listings; see MonotonicClock for why they never tie. */
  private readonly clock = new MonotonicClock();

  constructor(private readonly db: Kysely<Database>, private readonly options: { readonly secretBox?: SecretBox | undefined } = {}) {}

  async create(input: NewConversation): Promise<ConversationRow> {
    if (input.apiKey !== undefined && !this.options.secretBox) throw new Error('ConversationsRepository needs a SecretBox to store an api_key');
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      const id = newConversationId();
      const row: ConversationRow = {
        id,
        owner: input.owner,
        user_id: input.userId ?? null,
        title: input.title,
        model: input.model,
        api_key_enc: input.apiKey === undefined ? null : (this.options.secretBox?.seal(input.apiKey, apiKeyContext(id)) ?? null),
        created_at: now,
        updated_at: now,
      };
      const inserted = await this.db.transaction().execute(async (trx) => {
        const result = await trx.insertInto('conversations').values(row).onConflict((conflict) => conflict.column('id').doNothing()).returning('id').executeTakeFirst();
        if (!result) return false;
        if (input.systemPrompt !== undefined) {
          await trx.insertInto('messages').values({ id: randomUUID(), conversation_id: id, parent_id: null, seq: 0, role: 'system', content: input.systemPrompt, created_at: now }).execute();
        }
        return true;
      });
      if (inserted) return row;
    }
    throw new SwitchboardError('internal', 'could not allocate a conversation id', { expose: false });
  }

  findOwned(id: number, owner: string): Promise<OwnedConversation | undefined> {
    return this.db
      .selectFrom('conversations')
      .selectAll('conversations')
      .select((eb) => eb.selectFrom('messages').select((inner) => inner.fn.max('seq').as('m')).whereRef('messages.conversation_id', '=', 'conversations.id').as('last_seq'))
      .where('id', '=', id)
      .where('owner', '=', owner)
      .executeTakeFirst();
  }

  /** Newest first (seed 002 lists by ROWID DESC): created_at is unique per process, the id breaks ties between processes. */
  listOwned(owner: string): Promise<ConversationRow[]> {
    return this.db.selectFrom('conversations').selectAll().where('owner', '=', owner).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  }

  /** Deletes the conversation and its messages; false when `owner` has no such conversation. */
  async deleteOwned(id: number, owner: string): Promise<boolean> {
    const result = await this.db.deleteFrom('conversations').where('id', '=', id).where('owner', '=', owner).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async renameOwned(id: number, owner: string, title: string): Promise<boolean> {
    const result = await this.db.updateTable('conversations').set({ title, updated_at: this.clock.now() }).where('id', '=', id).where('owner', '=', owner).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Messages in `seq` order. Callers check ownership first (findOwned). */
  messages(conversationId: number): Promise<MessageRow[]> {
    return this.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('seq', 'asc').execute();
  }

  /** Appends one message and returns it with its id and seq. */
  async appendMessage(input: NewMessage): Promise<MessageRow> {
    const [row] = await this.insertChain({ conversationId: input.conversationId, parentId: input.parentId, messages: [input] });
    if (!row) throw new Error('appendMessage stored nothing');
    return row;
  }

  /** Appends several messages atomically, each the child of the one before (a question and its answer). */
  appendMessages(conversationId: number, messages: readonly { role: string; content: string }[]): Promise<MessageRow[]> {
    return this.insertChain({ conversationId, parentId: undefined, messages });
  }

  /** The conversation's own upstream key, or undefined when it uses the upstream's. */
  apiKeyOf(conversation: Pick<ConversationRow, 'id' | 'api_key_enc'>): string | undefined {
    if (conversation.api_key_enc === null) return undefined;
    if (!this.options.secretBox) throw new Error('ConversationsRepository needs a SecretBox to read an api_key');
    return this.options.secretBox.open(conversation.api_key_enc, apiKeyContext(conversation.id));
  }

  private async insertChain(chain: { conversationId: number; parentId: string | null | undefined; messages: readonly ChainMessage[] }): Promise<MessageRow[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const now = this.clock.now();
        return await this.db.transaction().execute((trx) => insertAfterNewest(trx, { ...chain, now }));
      } catch (error) {
        if (isForeignKeyViolation(error)) throw new SwitchboardError('not_found', CHAT_MESSAGES.conversationNotFound, { cause: error });
        // A concurrent writer took the same seq (PostgreSQL read committed); read the newest again.
        if (!isUniqueViolation(error) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}

/** One message of an inserted chain; `id` as in NewMessage. */
type ChainMessage = Pick<NewMessage, 'role' | 'content' | 'id'>;

async function insertAfterNewest(
  trx: Transaction<Database>,
  chain: { conversationId: number; parentId: string | null | undefined; messages: readonly ChainMessage[]; now: number },
): Promise<MessageRow[]> {
  const newest = await trx.selectFrom('messages').select(['id', 'seq']).where('conversation_id', '=', chain.conversationId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const now = chain.now;
  let parentId = chain.parentId === undefined ? (newest?.id ?? null) : chain.parentId;
  let seq = (newest?.seq ?? -1) + 1;
  // Answers come from upstreams and may hold NUL, which PostgreSQL refuses (storableText).
  const rows: MessageRow[] = chain.messages.map((message) => {
    const row = { id: message.id ?? randomUUID(), conversation_id: chain.conversationId, parent_id: parentId, seq: seq++, role: message.role, content: storableText(message.content), created_at: now };
    parentId = row.id;
    return row;
  });
  if (rows.length === 0) return rows;
  await trx.insertInto('messages').values(rows).execute();
  await trx.updateTable('conversations').set({ updated_at: now }).where('id', '=', chain.conversationId).execute();
  return rows;
}

/** Associated data binding a sealed api_key to its conversation row. */
function apiKeyContext(id: number): string {
  return `conversation:${id}`;
}
