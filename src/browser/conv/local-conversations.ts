import { randomUUID } from 'node:crypto';
import type { Gateway } from '../../gateway/index.js';
import { endForGoneClient, watchClientGone } from '../../platform/client-gone.js';
import { SwitchboardError, publicMessage, toSwitchboardError } from '../../platform/errors.js';
import { forwardBrowserChat } from '../browser-chat-call.js';
import { relayResponse } from '../relay-response.js';
import { queryParam } from '../request-params.js';
import { streamAnswer } from './answer-stream.js';
import type { ConvBackend, ConvContext } from './conv-backend.js';
import { completionAsStream } from './json-answer.js';
import type { PostBody } from './conv-request.js';
import type { ConversationLocks } from './conversation-locks.js';
import type { ConversationStore, StoredConversation, StoredMessage } from './conversation-store.js';
import { decorateListing } from './listing.js';
import { branchTo, currentNode } from './message-tree.js';

export interface LocalConversationsDeps {
  readonly store: ConversationStore;
  readonly gateway: Gateway;
  readonly locks: ConversationLocks;
  readonly multi: boolean;
  /** browser.defaultModel: the model of every conversation started here. */
  readonly model: string;
}

/** Longest title taken from the first question. */
const TITLE_CHARS = 60;

const notFound = () => new SwitchboardError('not_found', 'no such conversation');

/** The router's refusal (model not served, no upstream up) keeps its status and says why. */
function withDetail(error: unknown): SwitchboardError {
  const cause = toSwitchboardError(error);
  return new SwitchboardError(cause.code, publicMessage(cause), { status: cause.status, cause: error, details: { showDetail: true }, ...(cause.headers ? { headers: cause.headers } : {}) });
}
const isoTime = (ms: number) => new Date(ms).toISOString();

function titleFrom(content: string): string {
  const line = content.trim().split(/\r?\n/, 1)[0] ?? '';
  if (line.length <= TITLE_CHARS) return line;
  // Cut between UTF-16 code units, but never inside a surrogate pair (an emoji): the store
  // would keep the lone half as U+FFFD.
  const cut = line.slice(0, TITLE_CHARS - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/**
 * Our ids are positive integers below 2^53, written without leading zeros; anything else names no
 * conversation (404). Only the canonical spelling is accepted because the -multi lock and the
 * listing's busy check key on the id string: "07" would reach conversation 7 past its lock.
 */
function parseId(text: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(text)) return undefined;
  const id = Number(text);
  return id > 0 && Number.isSafeInteger(id) ? id : undefined;
}

/**
 * /conv served from Switchboard's own message tree (chat's conversations/messages tables) and
 * router. Owner is `browser:<jti>`: each token id sees only its own conversations, and another
 * owner's id is a 404 exactly like a missing one (RELIABILITY §2.1 API1).
 */
export class LocalConversations implements ConvBackend {
  constructor(private readonly deps: LocalConversationsDeps) {}

  /**
   * SEEDS-SPEC §4.6 lock: key `single`, or with -multi the conversation id (`empty` for a new one).
   * Scoped to the owner here: the seed's lock guarded one shared ChatGPT account, which the local
   * store does not have, so one token's answer never blocks another token.
   */
  private lockKey(owner: string, conversationId: string): string {
    return `${owner}\n${this.deps.multi ? conversationId || 'empty' : 'single'}`;
  }

  async list(context: ConvContext, action: { limit: number; offset: number }): Promise<void> {
    const owner = context.principal.id;
    // ChatGPT's order: last active first; ties (other processes) fall back to the store's creation order.
    const rows = [...(await this.deps.store.listOwned(owner))].sort((a, b) => b.updated_at - a.updated_at || b.created_at - a.created_at);
    const items = rows.slice(action.offset, action.offset + action.limit).map((row) => ({
      id: String(row.id),
      title: row.title,
      create_time: isoTime(row.created_at),
      update_time: isoTime(row.updated_at),
    }));
    const listing = { items, total: rows.length, limit: action.limit, offset: action.offset, has_missing_conversations: false };
    const body = decorateListing(listing, { multi: this.deps.multi, isBusy: (id) => this.deps.locks.isHeld(this.lockKey(owner, id)) });
    await context.reply.type('application/json').send(body);
  }

  async one(context: ConvContext, action: { conversationId: string }): Promise<void> {
    const conversation = await this.findOwned(action.conversationId, context.principal.id);
    const messages = await this.deps.store.messages(conversation.id);
    const node = currentNode(messages);
    // SEEDS-SPEC §4.6 (2): exactly these three fields, in this order.
    const body: Record<string, unknown> = { current_node: node?.id ?? '', title: conversation.title, update_time: conversation.updated_at / 1000 };
    // Switchboard extension for the chat page: the branch that ends at current_node.
    if (queryParam(context.request, 'include') === 'messages') {
      body['messages'] = (node ? (branchTo(messages, node.id) ?? []) : []).map((message) => ({
        id: message.id,
        parent_id: message.parent_id,
        role: message.role,
        content: message.content,
      }));
    }
    await context.reply.type('application/json').send(JSON.stringify(body));
  }

  async post(context: ConvContext, action: { body: PostBody }): Promise<void> {
    const { reply, principal } = context;
    const input = action.body;
    const release = this.deps.locks.acquire(this.lockKey(principal.id, input.conversationId));
    try {
      await this.answer(context, input);
      // Fastify writes no request line for a response that never finished: a client that left
      // is logged here, as seed 002 chat does.
      endForGoneClient(reply);
    } finally {
      release();
    }
  }

  /** Stores the question and streams the answer; returns without a response when the client left. */
  private async answer(context: ConvContext, input: PostBody): Promise<void> {
    const { request, reply, principal } = context;
    const { conversation, branch } = await this.resolveTurn(principal.id, input);
    const question = await this.deps.store.appendMessage({ conversationId: conversation.id, parentId: branch.at(-1)?.id ?? null, role: 'user', content: input.content });
    const gone = watchClientGone(reply.raw);
    // The client left while the question was being stored: nobody would read the answer.
    if (gone.signal.aborted) {
      gone.stop();
      return;
    }
    const body = { model: conversation.model, stream: true, messages: [...branch, question].map((message) => ({ role: message.role, content: message.content })) };
    const response = await forwardBrowserChat(this.deps.gateway, { body, principal, ip: request.ip, signal: gone.signal }).catch((error: unknown) => {
      throw withDetail(error);
    });
    request.logContext.model = conversation.model;
    if (response === undefined) return;
    if (response.status >= 300) {
      gone.stop();
      await relayResponse(reply, response);
      return;
    }
    // Read while the close listener still cancels the call: the client may leave meanwhile.
    const stream = (response.headers['content-type'] ?? '').startsWith('text/event-stream') ? response : await completionAsStream(response);
    gone.stop();
    const messageId = randomUUID();
    await streamAnswer({
      reply,
      response: stream,
      conversationId: String(conversation.id),
      messageId,
      store: async (text) => {
        const answer = await this.deps.store.appendMessage({ conversationId: conversation.id, parentId: question.id, role: 'assistant', content: text, id: messageId });
        return answer.id;
      },
    });
  }

  /** SEEDS-SPEC §4.6 (3): an empty parent or conversation id starts a new conversation. */
  private async resolveTurn(owner: string, input: PostBody): Promise<{ conversation: StoredConversation; branch: StoredMessage[] }> {
    if (input.conversationId === '' || input.parentMessageId === '') {
      const conversation = await this.deps.store.create({ owner, title: titleFrom(input.content), model: this.deps.model });
      return { conversation, branch: [] };
    }
    const conversation = await this.findOwned(input.conversationId, owner);
    const branch = branchTo(await this.deps.store.messages(conversation.id), input.parentMessageId);
    if (!branch) throw new SwitchboardError('not_found', 'no such parent message in this conversation');
    return { conversation, branch };
  }

  private async findOwned(conversationId: string, owner: string): Promise<StoredConversation> {
    const id = parseId(conversationId);
    const conversation = id === undefined ? undefined : await this.deps.store.findOwned(id, owner);
    if (!conversation) throw notFound();
    return conversation;
  }
}
