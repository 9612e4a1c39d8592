import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import type { ScriptedUpstream } from '../support/scripted-upstream.js';
import { REDIS_URL, requireService } from '../support/services.js';
import { parseBareJsonBlocks } from '../support/sse-client.js';
import { startApp, type TestApp } from '../support/start-app.js';
import type { StoreKind } from '../support/stores.js';

const redisStatus = await requireService('redis');

/** Runs a suite with the Redis cache off and on (on is skipped with a reason when Redis is absent). */
export function forEachCacheMode(suite: (redis: boolean) => void): void {
  describe('without redis', () => suite(false));
  describe.skipIf(!redisStatus.available)('with redis', () => suite(true));
}

export interface ChatAppOptions {
  readonly store: StoreKind;
  readonly redis?: boolean | string;
  readonly upstream?: ScriptedUpstream;
  readonly overrides?: Record<string, unknown>;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

export interface ChatTestApp extends TestApp {
  /** Redis key prefix of this app (unique per app). */
  readonly redisPrefix: string;
}

/** A real Switchboard with fast bcrypt, a namespaced Redis prefix and (optionally) a scripted upstream. */
export async function startChatApp(options: ChatAppOptions): Promise<ChatTestApp> {
  const redisPrefix = `sbtest:${randomBytes(6).toString('hex')}:`;
  const redisUrl = options.redis === true ? REDIS_URL : options.redis === false ? undefined : options.redis;
  const app = await startApp({
    store: options.store,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    overrides: {
      'chat.bcryptCost': 4,
      'chat.redisKeyPrefix': redisPrefix,
      'gateway.records.flushIntervalMs': 20,
      ...(redisUrl ? { 'chat.redisUrl': redisUrl } : {}),
      ...(options.upstream ? { 'gateway.upstreams': [{ endpoint: `${options.upstream.url}/v1`, sk: 'sk-upstream-own-key-123456' }] } : {}),
      ...options.overrides,
    },
  });
  return {
    ...app,
    redisPrefix,
    async close() {
      await app.close();
      if (redisUrl === REDIS_URL) await deleteRedisKeys(redisPrefix);
    },
  };
}

/** Keys under `prefix` in the shared test Redis (without the prefix). */
export async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    const keys = await redis.keys(`${prefix}*`);
    return keys.map((key) => key.slice(prefix.length)).sort();
  } finally {
    redis.disconnect();
  }
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export interface ApiResponse {
  readonly status: number;
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

/** One request to the /api surface; the body is parsed as JSON when it is JSON. */
export async function api(app: { url: string }, request: { method?: string; path: string; body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> }): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }), ...request.headers };
  let body: string | undefined = request.rawBody;
  if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${app.url}${request.path}`, { method: request.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** The `user_id` claim of one of our tokens. */
export function userIdOf(token: string): number {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).user_id;
}

let userCounter = 0;

/** Registers a fresh user and logs in; returns its token and id. */
export async function newUser(app: { url: string }, name = `user${++userCounter}-${randomBytes(3).toString('hex')}`): Promise<{ username: string; password: string; token: string; userId: number }> {
  const password = `pw-${name}`;
  const registered = await api(app, { path: '/api/users/register', body: { username: name, password } });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${registered.text}`);
  const login = await api(app, { path: '/api/users/login', body: { username: name, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { username: name, password, token: login.body.token, userId: userIdOf(login.body.token) };
}

export async function newConversation(app: { url: string }, token: string, body: Record<string, unknown> = {}): Promise<any> {
  const response = await api(app, { path: '/api/conversations/create', token, body: { title: 'a title', model: 'gpt-test', ...body } });
  if (response.status !== 200) throw new Error(`create failed: ${response.status} ${response.text}`);
  return response.body;
}

/** POST /api/chat/:id[/]; `blocks` are the bare JSON blocks of a stream. */
export async function chat(app: { url: string }, request: { token: string; id: number | string; message: unknown; slash?: boolean }): Promise<ApiResponse & { blocks: any[] }> {
  const response = await api(app, { path: `/api/chat/${request.id}${request.slash ? '/' : ''}`, token: request.token, body: { message: request.message } });
  const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
  return { ...response, blocks: isStream ? parseBareJsonBlocks(response.text) : [] };
}
