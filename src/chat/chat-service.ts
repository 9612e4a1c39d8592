import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Store } from '../db/connect.js';
import { SettingsRepository } from '../db/settings-repository.js';
import type { Gateway, Principal, TargetResponse } from '../gateway/index.js';
import { endForGoneClient, watchClientGone } from '../platform/client-gone.js';
import { SwitchboardError } from '../platform/errors.js';
import { Accounts } from './accounts.js';
import { NoChatCache, type ChatCache } from './chat-cache.js';
import { CHAT_MESSAGES } from './chat-messages.js';
import { bareJsonBlock, relayAnswer, type RelayedAnswer } from './chat-stream.js';
import { ConversationsRepository, type ConversationRow, type MessageRow, type OwnedConversation } from './conversations-repository.js';
import { LoginLimiter } from './login-limiter.js';
import { Passwords } from './passwords.js';
import { RedisChatCache } from './redis-chat-cache.js';
import { SecretBox } from './secret-box.js';
import { SessionTokens } from './session-tokens.js';
import { forwardFailedError, unexpectedStatusError } from './upstream-failure.js';
import { UserAuth, createUserAuthHook } from './user-auth.js';
import { UsersRepository } from './users-repository.js';

export interface ChatServiceOptions {
  readonly config: Config;
  readonly store: Store;
  /** The gateway's in-process router: every answer goes through it and leaves a usage record. */
  readonly gateway: Gateway;
  readonly log: FastifyBaseLogger;
}

/** A conversation with its messages in `seq` order (system message included). */
export interface LoadedConversation {
  readonly conversation: OwnedConversation;
  readonly messages: readonly MessageRow[];
}

export interface StreamReplyOptions {
  readonly reply: FastifyReply;
  /** `user:<id>` or `browser:<jti>`; another owner's conversation is 404. */
  readonly owner: string;
  readonly conversationId: number;
  /** What the history keeps as the user's message. */
  readonly storedUserMessage: string;
  /** What the model sees as the last user message (RAG: a grounded prompt). @default storedUserMessage */
  readonly promptUserMessage?: string | undefined;
  /** Aborts the upstream call (e.g. shutdown); the client closing its connection does too. */
  readonly signal?: AbortSignal | undefined;
  /** Client IP for the usage record. */
  readonly ip?: string | undefined;
}

function principalOf(owner: string): Principal {
  return { kind: owner.startsWith('browser:') ? 'browser' : 'user', id: owner };
}

/**
 * Chat users, conversations and streaming answers (SEEDS-SPEC §3.3–3.5). Built once in app.ts;
 * the RAG and browser capabilities reuse its repositories, auth hook and `streamReply`.
 */
export class ChatService {
  readonly auth: UserAuth;

  constructor(
    private readonly deps: {
      readonly config: Config['chat'];
      readonly gateway: Gateway;
      readonly cache: ChatCache;
      readonly log: FastifyBaseLogger;
      readonly users: UsersRepository;
      readonly conversations: ConversationsRepository;
      readonly accounts: Accounts;
      readonly tokens: SessionTokens;
    },
  ) {
    this.auth = new UserAuth({ tokens: deps.tokens, users: deps.users, cache: deps.cache });
  }

  get accounts(): Accounts {
    return this.deps.accounts;
  }

  get conversations(): ConversationsRepository {
    return this.deps.conversations;
  }

  get users(): UsersRepository {
    return this.deps.users;
  }

  get tokens(): SessionTokens {
    return this.deps.tokens;
  }

  /** Longest user message accepted (`chat.maxMessageChars`). */
  get maxMessageChars(): number {
    return this.deps.config.maxMessageChars;
  }

  /** onRequest hook for `/api/*` routes: see createUserAuthHook. */
  authHook(): ReturnType<typeof createUserAuthHook> {
    return createUserAuthHook(this.auth);
  }

  /** A new conversation of a user, starting with the configured system prompt (message_id 0). */
  createConversation(input: { userId: number; title: string; model: string; apiKey?: string | undefined }): Promise<ConversationRow> {
    return this.deps.conversations.create({ owner: `user:${input.userId}`, userId: input.userId, title: input.title, model: input.model, apiKey: input.apiKey, systemPrompt: this.deps.config.systemPrompt });
  }

  /** The owner's conversation and its messages (Redis when fresh, else SQL); 404 when not theirs. */
  async loadOwned(conversationId: number, owner: string): Promise<LoadedConversation> {
    const conversation = await this.deps.conversations.findOwned(conversationId, owner);
    if (!conversation) throw new SwitchboardError('not_found', CHAT_MESSAGES.conversationNotFound);
    const version = { owner, lastSeq: conversation.last_seq };
    const cached = await this.deps.cache.getMessages(conversationId, version);
    if (cached) return { conversation, messages: cached };
    const messages = await this.deps.conversations.messages(conversationId);
    // Cache only what matches the version we read; a writer may have appended in between.
    if ((messages.at(-1)?.seq ?? null) === conversation.last_seq) await this.deps.cache.putMessages(conversationId, { ...version, messages });
    return { conversation, messages };
  }

  async deleteOwned(conversationId: number, owner: string): Promise<void> {
    if (!(await this.deps.conversations.deleteOwned(conversationId, owner))) throw new SwitchboardError('not_found', CHAT_MESSAGES.conversationNotFound);
    await this.deps.cache.forgetConversation(conversationId);
  }

  /**
   * Answers one user message on a conversation in seed 002's stream format (SEEDS-SPEC §3.5):
   * `message` blocks, then exactly one `done`, then `full_response` with the JSON-escaped text.
   *
   * Storage: the user message and the answer are stored together, in one transaction, once the
   * answer is complete and before `done` is written (a client that saw `done` reads them back).
   * An upstream failure before or during the stream stores nothing, and the client is told (500
   * before the stream, an `error` block during it). A client that disconnects mid-stream keeps
   * what it had received: the question and the partial answer are stored if any text arrived.
   */
  async streamReply(options: StreamReplyOptions): Promise<void> {
    const { reply } = options;
    const { conversation, messages } = await this.loadOwned(options.conversationId, options.owner);
    reply.request.logContext.model = conversation.model;
    const apiKey = this.deps.conversations.apiKeyOf(conversation);
    // Also aborted already when the client left while the conversation was read, or the caller's
    // signal was: the gateway then calls no upstream (its record says client_closed).
    const gone = watchClientGone(reply.raw);
    const signal = options.signal ? AbortSignal.any([gone.signal, options.signal]) : gone.signal;
    const isClientGone = () => gone.signal.aborted;
    try {
      const response = await this.forward({ conversation, messages, prompt: options.promptUserMessage ?? options.storedUserMessage, apiKey, ip: options.ip, signal }).catch((error: unknown) => {
        // The client's own leaving cancelled the call: nothing failed on our side.
        if (isClientGone()) return undefined;
        throw error;
      });
      if (response === undefined) {
        endForGoneClient(reply);
        return;
      }
      const secrets = apiKey === undefined ? [] : [apiKey];
      if (response.status !== 200) throw await unexpectedStatusError(response.body, secrets);
      startStream(reply);
      try {
        const answer = await relayAnswer({ body: response.body, isSse: response.headers['content-type']?.startsWith('text/event-stream') ?? false, raw: reply.raw, isClientGone, secrets });
        await this.finish({ reply, loaded: { conversation, messages }, question: options.storedUserMessage, answer });
        if (answer.ending === 'client_closed') endForGoneClient(reply);
      } catch (error) {
        // Headers are out: the only way left to report is an error block.
        reply.request.log.error({ err: error }, 'chat stream failed');
        response.body.destroy();
        if (!reply.raw.writableEnded) reply.raw.end(bareJsonBlock('error', 'Internal server error'));
      }
    } finally {
      gone.stop();
    }
  }

  async close(): Promise<void> {
    await this.deps.cache.close();
  }

  private async forward(call: { conversation: OwnedConversation; messages: readonly MessageRow[]; prompt: string; apiKey: string | undefined; ip: string | undefined; signal: AbortSignal }): Promise<TargetResponse> {
    const { conversation } = call;
    // SEEDS-SPEC §3.5 [REC]: upstream messages carry only role and content (no message_id).
    const upstreamMessages = [...threadOf(call.messages).map((message) => ({ role: message.role, content: message.content })), { role: 'user', content: call.prompt }];
    try {
      return await this.deps.gateway.forward({
        path: '/v1/chat/completions',
        body: { model: conversation.model, messages: upstreamMessages, stream: true },
        principal: principalOf(conversation.owner),
        apiKey: call.apiKey,
        ip: call.ip,
        signal: call.signal,
      });
    } catch (error) {
      throw forwardFailedError(error, conversation.model);
    }
  }

  /** Stores the exchange (exactly once) and writes the stream's tail. */
  private async finish(input: { reply: FastifyReply; loaded: LoadedConversation; question: string; answer: RelayedAnswer }): Promise<void> {
    const { reply, answer } = input;
    const raw = reply.raw;
    if (answer.ending === 'failed') {
      reply.request.log.warn({ reason: answer.reason }, 'chat stream failed; nothing stored');
      raw.end(bareJsonBlock('error', answer.reason ?? 'the upstream failed'));
      return;
    }
    if (answer.ending === 'client_closed' && answer.text === '') return;
    try {
      await this.store(input.loaded, [{ role: 'user', content: input.question }, { role: 'assistant', content: answer.text }]);
    } catch (error) {
      reply.request.log.error({ err: error }, 'chat answer could not be stored');
      if (!raw.destroyed) raw.end(bareJsonBlock('error', 'failed to save the answer'));
      return;
    }
    if (answer.ending === 'client_closed') return;
    raw.write(bareJsonBlock('done', CHAT_MESSAGES.streamFinished));
    raw.end(bareJsonBlock('full_response', answer.text));
  }

  private async store(loaded: LoadedConversation, exchange: { role: string; content: string }[]): Promise<void> {
    const { conversation } = loaded;
    const rows = await this.deps.conversations.appendMessages(conversation.id, exchange);
    const first = rows[0]?.seq ?? 0;
    // Keep the conversation hot when nobody else appended since we read it.
    if ((loaded.messages.at(-1)?.seq ?? null) === (first === 0 ? null : first - 1)) {
      await this.deps.cache.putMessages(conversation.id, { owner: conversation.owner, lastSeq: rows.at(-1)?.seq ?? null, messages: [...loaded.messages, ...rows] });
    }
  }
}

/**
 * The thread the next message continues: the newest message and its ancestors by `parent_id`,
 * oldest first. For seed 002's linear conversations that is every message; in a branched tree
 * (browser /conv) it is the newest branch only.
 */
function threadOf(messages: readonly MessageRow[]): MessageRow[] {
  const byId = new Map(messages.map((message) => [message.id, message]));
  const thread: MessageRow[] = [];
  let message = messages.at(-1);
  // The length bound stops a (corrupt) parent cycle.
  while (message && thread.length < messages.length) {
    thread.push(message);
    message = message.parent_id === null ? undefined : byId.get(message.parent_id);
  }
  return thread.reverse();
}

/** SEEDS-SPEC §3.5 step 7 headers; our CORS headers already set on the reply come along. */
function startStream(reply: FastifyReply): void {
  reply.hijack();
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value;
  Object.assign(headers, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  reply.raw.writeHead(200, headers);
  reply.raw.flushHeaders();
}

/** Builds the chat capability from config: secrets (generated and stored when unset), cache, repositories. */
export async function createChatService(options: ChatServiceOptions): Promise<ChatService> {
  const config = options.config.chat;
  const settings = new SettingsRepository(options.store.db);
  const tokens = await SessionTokens.open({ secret: config.jwtSecret, ttlMs: config.tokenTtlMs, settings });
  const secretBox = await SecretBox.open(settings);
  const cache: ChatCache = config.redisUrl
    ? new RedisChatCache({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, commandTimeoutMs: config.redisCommandTimeoutMs, tokenTtlMs: config.tokenCacheTtlMs, conversationTtlMs: config.conversationCacheTtlMs, log: options.log })
    : new NoChatCache();
  const users = new UsersRepository(options.store.db);
  const conversations = new ConversationsRepository(options.store.db, { secretBox });
  const accounts = new Accounts({ users, passwords: new Passwords(config.bcryptCost), tokens, limiter: new LoginLimiter(config.loginAttemptsPerMinute), cache });
  return new ChatService({ config, gateway: options.gateway, cache, log: options.log, users, conversations, accounts, tokens });
}
