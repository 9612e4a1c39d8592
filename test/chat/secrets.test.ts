import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionTokens } from '../../src/chat/index.js';
import { SecretBox } from '../../src/chat/secret-box.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { SettingsRepository } from '../../src/db/settings-repository.js';
import { startApp } from '../support/start-app.js';
import { api, newConversation, newUser, startChatApp } from './chat-client.js';

const SAMPLE = 'S3cureK3y#2024!AIsafety';
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-chat-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('chat secrets and password hashing', () => {
  it('hashes with bcrypt cost 10 or more by default', async () => {
    expect(loadConfig({}).chat.bcryptCost).toBeGreaterThanOrEqual(10);
    const app = await startApp({});
    try {
      expect((await api(app, { path: '/api/users/register', body: { username: 'default-cost', password: 'secret' } })).status).toBe(201);
      const row = await app.app.store.db.selectFrom('users').select('password_hash').where('username', '=', 'default-cost').executeTakeFirstOrThrow();
      const cost = Number(/^\$2b\$(\d\d)\$/.exec(row.password_hash)?.[1]);
      expect(cost).toBeGreaterThanOrEqual(10);
    } finally {
      await app.close();
    }
  });

  it('refuses to start with seed 002 sample secret, in one line that does not print it', async () => {
    for (const source of [{ env: { JWT_SECRET: SAMPLE } }, { overrides: { 'chat.jwtSecret': SAMPLE } }]) {
      const error = await startApp(source).then(
        async (app) => {
          await app.close();
          return undefined;
        },
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ConfigError);
      const lines = (error as ConfigError).lines;
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^chat\.jwtSecret=.* is the sample secret published with seed 002/);
      expect(lines[0]).not.toContain(SAMPLE);
    }
    // Defence in depth for a Config built without the loader.
    const app = await startChatApp({ store: 'sqlite' });
    const settings = new SettingsRepository(app.app.store.db);
    await app.close();
    await expect(SessionTokens.open({ secret: SAMPLE, ttlMs: 1000, settings })).rejects.toThrow(/sample secret published with seed 002/);
  });

  it('generates a 32-byte secret once, keeps it in the store and honours it after a restart', async () => {
    const cwd = tempDir();
    const first = await startChatApp({ store: 'sqlite', cwd });
    const user = await newUser(first);
    const stored = await new SettingsRepository(first.app.store.db).get('chat.jwt_secret');
    await first.close();
    expect(Buffer.from(stored!, 'base64url')).toHaveLength(32);
    await jwtVerify(user.token, new TextEncoder().encode(stored), { algorithms: ['HS256'] });

    const second = await startChatApp({ store: 'sqlite', cwd });
    try {
      expect((await api(second, { path: '/api/conversations/list', token: user.token })).status).toBe(200);
      expect(await new SettingsRepository(second.app.store.db).get('chat.jwt_secret')).toBe(stored);
    } finally {
      await second.close();
    }
  });

  it('signs with JWT_SECRET from the environment when it is set', async () => {
    const secret = 'an-operator-chosen-secret-of-enough-length';
    const app = await startChatApp({ store: 'sqlite', env: { JWT_SECRET: secret } });
    try {
      const user = await newUser(app);
      const { payload } = await jwtVerify(user.token, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
      expect(payload['user_id']).toBe(user.userId);
      expect(await new SettingsRepository(app.app.store.db).get('chat.jwt_secret')).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('stores a conversation api_key sealed (AES-256-GCM), echoes it only on create and never logs it', async () => {
    const app = await startChatApp({ store: 'sqlite' });
    try {
      const apiKey = 'sk-conversation-canary-7f3a9c1e5b';
      const user = await newUser(app);
      const created = await newConversation(app, user.token, { api_key: apiKey });
      expect(created.api_key).toBe(apiKey);
      const row = await app.app.store.db.selectFrom('conversations').selectAll().where('id', '=', created.conversation_id).executeTakeFirstOrThrow();
      expect(row.api_key_enc).toMatch(/^v1:[A-Za-z0-9_-]+$/);
      expect(row.api_key_enc).not.toContain(apiKey);
      const history = await api(app, { path: `/api/conversations/history/${created.conversation_id}`, token: user.token });
      const list = await api(app, { path: '/api/conversations/list', token: user.token });
      expect(history.text + list.text).not.toContain(apiKey);
      expect(app.logs.join('\n')).not.toContain(apiKey);
      // It opens only for its own conversation id (bound as associated data).
      const box = await SecretBox.open(new SettingsRepository(app.app.store.db));
      expect(box.open(row.api_key_enc!, `conversation:${created.conversation_id}`)).toBe(apiKey);
      expect(() => box.open(row.api_key_enc!, `conversation:${Number(created.conversation_id) + 1}`)).toThrow(/cannot be decrypted/);
    } finally {
      await app.close();
    }
  });
});
