import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import { SwitchboardError } from '../../platform/errors.js';
import { endForGoneClient, watchClientGone } from '../../platform/client-gone.js';
import { readCappedText } from '../../platform/read-capped.js';
import { SseParser } from '../../platform/sse.js';
import { relayResponse } from '../relay-response.js';
import { upstreamIdentity } from '../upstream-identity.js';
import { BoundedCache } from '../../platform/bounded-cache.js';
import type { ConvBackend, ConvContext } from './conv-backend.js';
import { DEFAULT_LIST_LIMIT, type PostBody } from './conv-request.js';
import type { ConversationLocks } from './conversation-locks.js';
import { EMPTY_LISTING, decorateListing } from './listing.js';

export interface UnofficialProxyDeps {
  /** UNOFFICIAL_PROXY: host[:port], reached over http:// as the seed. */
  readonly host: string;
  /** ACCESS_TOKEN, sent raw as Authorization (SEEDS-SPEC §4.1). */
  readonly accessToken: string | undefined;
  readonly locks: ConversationLocks;
  readonly multi: boolean;
  readonly timeouts: { readonly connectMs: number; readonly firstByteMs: number; readonly idleMs: number };
}

/** The model the seed asks ChatGPT web for (SEEDS-SPEC §4.6 (3)). */
const WEB_MODEL = 'text-davinci-002-render-sha';
/** Bounds for the caches the seed kept forever (SEEDS-SPEC §4.6 [BUG]). */
const CACHE_LIMITS = { maxEntries: 1_000, ttlMs: 10 * 60_000 };
/** Largest listing or conversation JSON we read into memory (RELIABILITY §2.1 API10). */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

interface ConversationSummary {
  readonly current_node: string;
  readonly title: string;
  readonly update_time: number;
}

type UpstreamAnswer = Dispatcher.ResponseData;

async function readJsonObject(body: Readable): Promise<Record<string, unknown>> {
  const text = await readCappedText(body as AsyncIterable<Buffer>, MAX_JSON_BYTES);
  if (text === undefined) throw new SwitchboardError('upstream_error', 'the unofficial proxy answered too much');
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new SwitchboardError('upstream_error', 'the unofficial proxy answered something other than a JSON object');
}

/** Status, content type and body bytes of the proxy's answer, unchanged (SEEDS-SPEC §4.6). */
function passThrough(context: ConvContext, answer: UpstreamAnswer): Promise<void> {
  const contentType = answer.headers['content-type'];
  const headers: Record<string, string> = typeof contentType === 'string' ? { 'content-type': contentType } : {};
  return relayResponse(context.reply, { status: answer.statusCode, headers, body: answer.body });
}

/**
 * /conv as the seed's ChatGPT-web backend-api proxy (SEEDS-SPEC §4.6), with its [BUG]s fixed: the
 * upstream body is built with JSON.stringify (no quote injection, `conversation_id` omitted when
 * empty), the answer stream is teed rather than consumed, caches and locks are bounded, and no
 * redirect is followed. Every Switchboard token shares the one ChatGPT account, as in the seed.
 */
export class UnofficialProxyConversations implements ConvBackend {
  private readonly agent: Agent;
  private readonly listings = new BoundedCache<Record<string, unknown>>(CACHE_LIMITS);
  private readonly summaries = new BoundedCache<ConversationSummary>(CACHE_LIMITS);
  private hasListed = false;

  constructor(private readonly deps: UnofficialProxyDeps) {
    this.agent = new Agent({ connect: { timeout: deps.timeouts.connectMs }, headersTimeout: deps.timeouts.firstByteMs, bodyTimeout: deps.timeouts.idleMs });
  }

  async list(context: ConvContext, action: { limit: number; offset: number }): Promise<void> {
    // The seed re-encodes the query with sorted keys; that string is also the cache key.
    const query = `limit=${action.limit}&offset=${action.offset}`;
    const cacheKey = `/conv?${query}:conversations`;
    const cached = this.listings.get(cacheKey);
    if (cached) return this.sendListing(context, cached);
    const answer = await this.call({ method: 'GET', path: `/conversations?${query}`, context });
    if (answer.statusCode !== 200) return passThrough(context, answer);
    const listing = await readJsonObject(answer.body);
    const total = typeof listing['total'] === 'number' ? listing['total'] : 0;
    if (total === 0) return this.sendListing(context, listing);
    if (!this.hasListed || (this.deps.multi && total < DEFAULT_LIST_LIMIT)) {
      // The seed's way of making the client start a new conversation; not cached.
      this.hasListed = true;
      await context.reply.type('application/json').send(EMPTY_LISTING);
      return;
    }
    this.listings.set(cacheKey, listing);
    return this.sendListing(context, listing);
  }

  async one(context: ConvContext, action: { conversationId: string }): Promise<void> {
    const cached = this.summaries.get(action.conversationId);
    if (cached) return this.sendJson(context, cached);
    const answer = await this.call({ method: 'GET', path: `/conversation/${action.conversationId}`, context });
    if (answer.statusCode !== 200) return passThrough(context, answer);
    const full = await readJsonObject(answer.body);
    const summary: ConversationSummary = {
      current_node: typeof full['current_node'] === 'string' ? full['current_node'] : '',
      title: typeof full['title'] === 'string' ? full['title'] : '',
      update_time: typeof full['update_time'] === 'number' ? full['update_time'] : 0,
    };
    this.summaries.set(action.conversationId, summary);
    return this.sendJson(context, summary);
  }

  async post(context: ConvContext, action: { body: PostBody }): Promise<void> {
    const input = action.body;
    const release = this.deps.locks.acquire(this.deps.multi ? input.conversationId || 'empty' : 'single');
    try {
      const isNew = input.parentMessageId === '' || input.conversationId === '';
      const payload = {
        action: 'next',
        messages: [{ id: randomUUID(), author: { role: 'user' }, role: 'user', content: { content_type: 'text', parts: [input.content] } }],
        parent_message_id: isNew ? randomUUID() : input.parentMessageId,
        model: WEB_MODEL,
        ...(input.conversationId === '' ? {} : { conversation_id: input.conversationId }),
      };
      const gone = watchClientGone(context.reply.raw);
      const answer = await this.call({ method: 'POST', path: '/conversation', body: JSON.stringify(payload), signal: gone.signal, context }).catch((error: unknown) => {
        // The client's own leaving cancelled the call: nothing failed on our side.
        if (gone.signal.aborted) return undefined;
        throw error;
      });
      gone.stop();
      if (answer !== undefined) {
        const relayed = passThrough(context, answer);
        // Attached after the relay's own listener, in the same tick: both see every chunk.
        if (answer.statusCode === 200 && input.conversationId !== '') this.watchCurrentNode(answer.body, input.conversationId);
        await relayed;
      }
      // Fastify writes no request line for a response that never finished: a client that left
      // is logged here, as seed 002 chat does.
      endForGoneClient(context.reply);
    } finally {
      release();
    }
  }

  /** `-clear` (SEEDS-SPEC §4.1): hides every conversation of the account. Returns the status. */
  async hideAll(): Promise<number> {
    const answer = await this.call({ method: 'PATCH', path: '/conversations', body: JSON.stringify({ is_visible: false }) });
    answer.body.resume();
    return answer.statusCode;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Reads the stream alongside the client (a tee): the answer's message.id is the new current_node. */
  private watchCurrentNode(body: Readable, conversationId: string): void {
    const parser = new SseParser();
    const onData = (chunk: Buffer) => {
      let events;
      try {
        events = parser.push(chunk);
      } catch {
        // A line over the parser's cap: stop watching, the client still gets every byte.
        body.off('data', onData);
        return;
      }
      for (const event of events) {
        if (event.data === '[DONE]') continue;
        try {
          const id = (JSON.parse(event.data) as { message?: { id?: unknown } }).message?.id;
          if (typeof id === 'string') {
            this.summaries.update(conversationId, (summary) => ({ ...summary, current_node: id }));
            body.off('data', onData);
            return;
          }
        } catch {
          // Not JSON: nothing to learn from this event.
        }
      }
    };
    body.on('data', onData);
  }

  private async sendListing(context: ConvContext, listing: Readonly<Record<string, unknown>>): Promise<void> {
    const body = decorateListing(listing, { multi: this.deps.multi, isBusy: (id) => this.deps.locks.isHeld(id) });
    await context.reply.type('application/json').send(body);
  }

  private async sendJson(context: ConvContext, value: unknown): Promise<void> {
    await context.reply.type('application/json').send(JSON.stringify(value));
  }

  /** One call to the proxy; `context` is the client's request, whose token's id goes along as `Userid` (SEEDS-SPEC §4.2). */
  private async call(options: { method: Dispatcher.HttpMethod; path: string; body?: string; signal?: AbortSignal; context?: ConvContext }): Promise<UpstreamAnswer> {
    const identity = options.context ? upstreamIdentity(options.context.principal) : undefined;
    const headers: Record<string, string> = { accept: options.method === 'POST' ? 'text/event-stream' : 'application/json', ...identity };
    if (this.deps.accessToken !== undefined) headers['authorization'] = this.deps.accessToken;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await undiciRequest(`http://${this.deps.host}${options.path}`, {
        method: options.method,
        headers,
        ...(options.body === undefined ? {} : { body: options.body }),
        ...(options.signal ? { signal: options.signal } : {}),
        dispatcher: this.agent,
      });
    } catch (error) {
      throw new SwitchboardError('upstream_error', 'the unofficial proxy could not be reached', { cause: error });
    }
  }
}
