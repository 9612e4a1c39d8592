import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationsRepository } from '../../src/chat/index.js';
import { closedPort } from '../support/records.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { REDIS_URL, canConnect, requireService } from '../support/services.js';
import { forEachStore } from '../support/stores.js';
import { api, chat, newConversation, newUser, redisKeys, startChatApp, type ChatTestApp } from './chat-client.js';

const redisStatus = await requireService('redis');

async function eventually<T>(read: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A throw-away redis-server owned by this test (no persistence), killed by its pid. */
async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await eventually(() => canConnect(port), `redis-server on port ${port}`);
  return child;
}

async function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function keysOn(port: number, prefix: string): Promise<string[]> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  await redis.connect();
  try {
    return (await redis.keys(`${prefix}*`)).map((key) => key.slice(prefix.length));
  } finally {
    redis.disconnect();
  }
}

forEachStore((store) => {
  describe.skipIf(!redisStatus.available)('redis cache', () => {
    let upstream: ScriptedUpstream;
    beforeAll(async () => {
      upstream = await startScriptedUpstream();
    });
    afterAll(async () => {
      await upstream.close();
    });

    describe('on a healthy redis', () => {
      let app: ChatTestApp;
      beforeAll(async () => {
        app = await startChatApp({ store, redis: true, upstream });
      });
      afterAll(async () => {
        await app.close();
      });

      it('caches tokens by hash and messages by version, without the api_key, and never serves stale messages', async () => {
        const user = await newUser(app);
        const apiKey = 'sk-never-in-redis-0123456789';
        const { conversation_id: id } = await newConversation(app, user.token, { api_key: apiKey });
        await chat(app, { token: user.token, id, message: 'first' });
        await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
        const keys = await redisKeys(app.redisPrefix);
        expect(keys).toEqual(expect.arrayContaining([`conversation:${id}`, `user-tokens:${user.userId}`]));
        expect(keys.some((key) => /^token:[0-9a-f]{64}$/.test(key))).toBe(true);
        const redis = new Redis(REDIS_URL);
        try {
          const cached = (await redis.get(`${app.redisPrefix}conversation:${id}`))!;
          expect(JSON.parse(cached)).toMatchObject({ owner: `user:${user.userId}`, lastSeq: 2 });
          expect(cached).not.toContain(apiKey);
          for (const key of keys.filter((name) => name.startsWith('token:'))) expect(await redis.get(`${app.redisPrefix}${key}`)).toBe(String(user.userId));

          // The cache really answers: a planted value at the current version is what history shows.
          const planted = JSON.parse(cached);
          planted.messages[2].content = 'served from redis';
          await redis.set(`${app.redisPrefix}conversation:${id}`, JSON.stringify(planted));
          const fromCache = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
          expect(fromCache.body.messages[1].content).toBe('served from redis');

          // Another writer appends in SQL: the version moves, so the cached copy is not used.
          await new ConversationsRepository(app.app.store.db).appendMessage({ conversationId: id, role: 'user', content: 'written elsewhere' });
          const fresh = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
          expect(fresh.body.messages.map((message: any) => message.content)).toEqual(['first', 'echo: first', 'written elsewhere']);

          // A planted copy for another owner is never served.
          await redis.set(`${app.redisPrefix}conversation:${id}`, JSON.stringify({ ...planted, owner: 'user:999999', lastSeq: 3 }));
          const other = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
          expect(other.body.messages.at(-1).content).toBe('written elsewhere');

          await api(app, { method: 'POST', path: `/api/conversations/del/${id}`, token: user.token });
          expect(await redis.exists(`${app.redisPrefix}conversation:${id}`)).toBe(0);
        } finally {
          redis.disconnect();
        }
      });
    });

    describe('when redis goes away', () => {
      let redisPort: number;
      let redisServer: ChildProcess;
      let app: ChatTestApp;
      beforeAll(async () => {
        redisPort = await closedPort();
        redisServer = await startRedisServer(redisPort);
        app = await startChatApp({ store, redis: `redis://127.0.0.1:${redisPort}`, upstream, overrides: { 'chat.redisCommandTimeoutMs': 100 } });
      });
      afterAll(async () => {
        await app.close();
        await stopRedisServer(redisServer);
      });

      it('keeps serving from SQL while redis is down, and uses redis again once it is back', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        expect((await chat(app, { token: user.token, id, message: 'before' })).status).toBe(200);
        expect((await api(app, { path: `/api/conversations/history/${id}`, token: user.token })).status).toBe(200);
        expect(await keysOn(redisPort, app.redisPrefix)).toContain(`conversation:${id}`);

        await stopRedisServer(redisServer);

        // The cached token cannot be read: it is verified again; nothing answers 5xx.
        expect((await api(app, { path: '/api/conversations/list', token: user.token })).status).toBe(200);
        const login = await api(app, { path: '/api/users/login', body: { username: user.username, password: user.password } });
        expect(login.status).toBe(200);
        const second = await newConversation(app, login.body.token, { title: 'during the outage' });
        const reply = await chat(app, { token: login.body.token, id, message: 'during' });
        expect(reply.status).toBe(200);
        expect(reply.blocks.at(-1)).toEqual({ event: 'full_response', data: 'echo: during' });
        const history = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
        expect(history.body.messages.map((message: any) => message.content)).toEqual(['before', 'echo: before', 'during', 'echo: during']);
        expect((await api(app, { method: 'POST', path: `/api/conversations/del/${second.conversation_id}`, token: user.token })).status).toBe(200);
        const fresh = await newUser(app);
        expect((await api(app, { path: '/api/conversations/list', token: fresh.token })).text).toBe('[]');
        expect(app.logs.some((line) => line.includes('redis cache unavailable'))).toBe(true);
        expect(app.logs.some((line) => /"status":5\d\d/.test(line))).toBe(false);

        redisServer = await startRedisServer(redisPort);
        await eventually(async () => {
          await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
          return (await keysOn(redisPort, app.redisPrefix)).includes(`conversation:${id}`);
        }, 'the cache to be written again');
        expect(app.logs.some((line) => line.includes('redis cache reachable again'))).toBe(true);
      });
    });

    it('starts and serves when redis is unreachable from the start', async () => {
      const port = await closedPort();
      const app = await startChatApp({ store, redis: `redis://127.0.0.1:${port}`, upstream, overrides: { 'chat.redisCommandTimeoutMs': 100 } });
      try {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        expect((await chat(app, { token: user.token, id, message: 'hello' })).blocks.at(-1)).toEqual({ event: 'full_response', data: 'echo: hello' });
        expect((await api(app, { path: `/api/conversations/history/${id}`, token: user.token })).body.messages).toHaveLength(2);
      } finally {
        await app.close();
      }
    });
  });
});
