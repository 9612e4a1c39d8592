import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { ChatCache } from './chat-cache.js';
import type { MessageRow } from './conversations-repository.js';

/** A Redis that does not accept the connection within this long counts as down. */
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect attempts back off up to this delay and never stop (Redis may come back). */
const MAX_RECONNECT_DELAY_MS = 2_000;
/** Conversations larger than this are served from SQL only. */
const MAX_CACHED_BYTES = 1024 * 1024;

export interface RedisChatCacheOptions {
  readonly url: string;
  /** Prepended to every key, so instances and tests can share one Redis. */
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /** Upper bound for a cached token (a deletion on another instance is seen at most this late). */
  readonly tokenTtlMs: number;
  readonly conversationTtlMs: number;
  readonly log: FastifyBaseLogger;
}

interface CachedConversation {
  owner: string;
  lastSeq: number | null;
  messages: MessageRow[];
}

/**
 * The chat cache on Redis. It never queues commands while disconnected (`enableOfflineQueue:
 * false`) and gives each command `commandTimeoutMs`, so a Redis that goes away costs one fast
 * miss, not a stuck request; every error is a miss and is logged once per outage.
 */
export class RedisChatCache implements ChatCache {
  private readonly redis: Redis;
  private isDown = false;
  private isClosing = false;
  private readonly startedAt = Date.now();
  /** Settles when the first connection is ready; commands wait for it during the start-up window. */
  private readonly firstReady: Promise<void>;

  constructor(private readonly options: RedisChatCacheOptions) {
    this.redis = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      enableOfflineQueue: false,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
    });
    this.redis.on('error', (error: Error) => this.markDown(error));
    this.redis.on('close', () => this.markDown(new Error('connection closed')));
    this.redis.on('ready', () => this.markUp());
    this.firstReady = new Promise((resolve) => this.redis.once('ready', () => resolve()));
  }

  async getTokenUser(tokenHash: string): Promise<number | undefined> {
    const value = await this.run((redis) => redis.get(`token:${tokenHash}`));
    const userId = Number(value ?? Number.NaN);
    return Number.isSafeInteger(userId) && userId > 0 ? userId : undefined;
  }

  async putToken(entry: { tokenHash: string; userId: number; ttlMs: number }): Promise<void> {
    const ttlMs = Math.min(Math.floor(entry.ttlMs), this.options.tokenTtlMs);
    if (ttlMs <= 0) return;
    const setKey = `user-tokens:${entry.userId}`;
    await this.run((redis) =>
      redis.multi().set(`token:${entry.tokenHash}`, String(entry.userId), 'PX', ttlMs).sadd(setKey, entry.tokenHash).pexpire(setKey, this.options.tokenTtlMs).exec(),
    );
  }

  async forgetUserTokens(userId: number): Promise<void> {
    const setKey = `user-tokens:${userId}`;
    const hashes = (await this.run((redis) => redis.smembers(setKey))) ?? [];
    await this.run((redis) => redis.del(setKey, ...hashes.map((hash) => `token:${hash}`)));
  }

  async getMessages(conversationId: number, version: { owner: string; lastSeq: number | null }): Promise<MessageRow[] | undefined> {
    const text = await this.run((redis) => redis.getex(`conversation:${conversationId}`, 'PX', this.options.conversationTtlMs));
    if (!text) return undefined;
    const cached = parseCached(text);
    // Messages are append-only, so the same owner and newest seq mean the same messages.
    if (cached?.owner !== version.owner || cached.lastSeq !== version.lastSeq) return undefined;
    return cached.messages;
  }

  async putMessages(conversationId: number, entry: { owner: string; lastSeq: number | null; messages: readonly MessageRow[] }): Promise<void> {
    const text = JSON.stringify({ owner: entry.owner, lastSeq: entry.lastSeq, messages: entry.messages });
    if (text.length > MAX_CACHED_BYTES) return;
    await this.run((redis) => redis.set(`conversation:${conversationId}`, text, 'PX', this.options.conversationTtlMs));
  }

  async forgetConversation(conversationId: number): Promise<void> {
    await this.run((redis) => redis.del(`conversation:${conversationId}`));
  }

  close(): Promise<void> {
    this.isClosing = true;
    this.redis.disconnect();
    return Promise.resolve();
  }

  /**
   * Right after start the first connection may still be on its way: wait for it (at most one
   * command timeout) instead of missing. Later, a Redis that is not ready is skipped at once.
   */
  private async isReady(): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    if (Date.now() - this.startedAt > CONNECT_TIMEOUT_MS || this.redis.status === 'end') return false;
    await Promise.race([this.firstReady, sleep(this.options.commandTimeoutMs, undefined, { ref: false })]);
    // Read again: the status changed while we waited (TypeScript narrowed it above).
    return (this.redis.status as string) === 'ready';
  }

  private async run<T>(command: (redis: Redis) => Promise<T>): Promise<T | undefined> {
    if (!(await this.isReady())) return undefined;
    try {
      const result = await command(this.redis);
      this.markUp();
      return result;
    } catch (error) {
      this.markDown(error as Error);
      return undefined;
    }
  }

  private markUp(): void {
    if (this.isDown) this.options.log.info('redis cache reachable again');
    this.isDown = false;
  }

  private markDown(error: Error): void {
    if (this.isDown || this.isClosing) return;
    this.isDown = true;
    // The URL may hold a password: log only the error text.
    this.options.log.warn({ reason: error.message }, 'redis cache unavailable; answering from SQL');
  }
}

function parseCached(text: string): CachedConversation | undefined {
  try {
    const value = JSON.parse(text) as Partial<CachedConversation> | null;
    if (typeof value?.owner !== 'string' || !Array.isArray(value.messages)) return undefined;
    return { owner: value.owner, lastSeq: typeof value.lastSeq === 'number' ? value.lastSeq : null, messages: value.messages };
  } catch {
    return undefined;
  }
}
