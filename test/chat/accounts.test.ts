import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatService } from '../../src/chat/index.js';
import { forEachStore } from '../support/stores.js';
import { api, forEachCacheMode, newUser, redisKeys, startChatApp, userIdOf, type ChatTestApp } from './chat-client.js';

const SECRET = randomBytes(32).toString('base64url');
const key = (secret: string) => new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);

/** A second ChatService on the same store and Redis, as another instance (or an admin tool) would be. */
async function deleteUserElsewhere(app: ChatTestApp, userId: number): Promise<void> {
  const gateway = { forward: () => Promise.reject(new Error('not used')), listModels: () => Promise.resolve([]) };
  const service = await createChatService({ config: app.config, store: app.app.store, gateway, log: app.app.server.log });
  try {
    expect(await service.accounts.deleteUser(userId)).toBe(true);
  } finally {
    await service.close();
  }
}

forEachStore((store) => {
  forEachCacheMode((redis) => {
    describe('accounts and user tokens', () => {
      let app: ChatTestApp;

      beforeAll(async () => {
        app = await startChatApp({ store, redis, overrides: { 'chat.jwtSecret': SECRET, 'chat.loginAttemptsPerMinute': 3 } });
      });
      afterAll(async () => {
        await app.close();
      });

      it('registers (201), refuses a taken name and stores only a bcrypt hash', async () => {
        const username = `alice-${randomBytes(3).toString('hex')}`;
        const first = await api(app, { path: '/api/users/register', body: { username, password: 'correct horse' } });
        expect(first.status).toBe(201);
        expect(first.body).toEqual({ message: 'User registered successfully' });
        expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
        const again = await api(app, { path: '/api/users/register', body: { username, password: 'other' } });
        expect(again).toMatchObject({ status: 400, body: { error: 'username already exists' } });
        const row = await app.app.store.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirstOrThrow();
        expect(row.password_hash).toMatch(/^\$2b\$04\$/);
        expect(row.password_hash).not.toContain('correct horse');
      });

      it('answers bad register and login input with 400 Invalid input', async () => {
        const bodies: { body?: unknown; rawBody?: string; headers?: Record<string, string> }[] = [
          { body: {} },
          { body: { username: 'x' } },
          { body: { password: 'x' } },
          { body: { username: '', password: 'x' } },
          { body: { username: 'x', password: '' } },
          { body: { username: 1, password: 'x' } },
          { body: { username: 'x', password: ['x'] } },
          { body: ['x'] },
          { body: 'x' },
          { body: { username: 'u'.repeat(129), password: 'x' } },
          { rawBody: '{"username":', headers: { 'content-type': 'application/json' } },
          { rawBody: 'username=x&password=y', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          { rawBody: '{"username":"x","password":"y","__proto__":{"a":1}}', headers: { 'content-type': 'application/json' } },
          {},
        ];
        for (const path of ['/api/users/register', '/api/users/login']) {
          for (const request of bodies) {
            const response = await api(app, { method: 'POST', path, ...request });
            expect({ path, request, status: response.status, body: response.body }).toEqual({ path, request, status: 400, body: { error: 'Invalid input' } });
          }
        }
      });

      it('refuses passwords over 72 bytes (bcrypt would ignore the rest) and accepts exactly 72', async () => {
        const ascii = await api(app, { path: '/api/users/register', body: { username: `long-${randomBytes(3).toString('hex')}`, password: 'p'.repeat(73) } });
        expect(ascii).toMatchObject({ status: 400, body: { error: 'password must be at most 72 bytes' } });
        // 25 characters, 75 bytes in UTF-8.
        const multibyte = await api(app, { path: '/api/users/register', body: { username: `euro-${randomBytes(3).toString('hex')}`, password: '€'.repeat(25) } });
        expect(multibyte).toMatchObject({ status: 400, body: { error: 'password must be at most 72 bytes' } });
        const username = `exact-${randomBytes(3).toString('hex')}`;
        expect((await api(app, { path: '/api/users/register', body: { username, password: 'p'.repeat(72) } })).status).toBe(201);
        // The 73-byte variant that bcrypt would have accepted as the same password is refused.
        const login = await api(app, { path: '/api/users/login', body: { username, password: `${'p'.repeat(72)}x` } });
        expect(login).toMatchObject({ status: 400, body: { error: 'password must be at most 72 bytes' } });
      });

      it('logs in with a seed-shaped HS256 token signed with the configured secret', async () => {
        const user = await newUser(app);
        expect(decodeProtectedHeader(user.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
        const payloadJson = Buffer.from(user.token.split('.')[1]!, 'base64url').toString('utf8');
        expect(Object.keys(JSON.parse(payloadJson))).toEqual(['exp', 'user_id']);
        const { payload } = await jwtVerify(user.token, key(SECRET), { algorithms: ['HS256'] });
        expect(payload['user_id']).toBe(user.userId);
        expect(payload.exp! - now()).toBeGreaterThan(86_400 - 60);
        expect(payload.exp! - now()).toBeLessThanOrEqual(86_400);
        // Neither the password, the token nor the secret ever reaches a log line.
        await api(app, { path: '/api/conversations/list', token: user.token });
        const logs = app.logs.join('\n');
        for (const secret of [user.password, user.token, SECRET]) expect(logs).not.toContain(secret);
      });

      it('answers a wrong password and an unknown user alike: 401 invalid username or password', async () => {
        const user = await newUser(app);
        const wrong = await api(app, { path: '/api/users/login', body: { username: user.username, password: 'nope' } });
        const unknown = await api(app, { path: '/api/users/login', body: { username: `ghost-${randomBytes(4).toString('hex')}`, password: 'nope' } });
        expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid username or password' } });
        expect(unknown).toMatchObject({ status: 401, body: { error: 'invalid username or password' } });
      });

      it('limits failed logins per username+IP: 429 after the limit, even for the right password', async () => {
        const user = await newUser(app);
        const other = await newUser(app);
        for (let attempt = 0; attempt < 3; attempt++) {
          expect((await api(app, { path: '/api/users/login', body: { username: user.username, password: 'bad' } })).status).toBe(401);
        }
        const limited = await api(app, { path: '/api/users/login', body: { username: user.username, password: user.password } });
        expect(limited).toMatchObject({ status: 429, body: { error: 'too many login attempts' } });
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
        // Another username from the same IP is not affected.
        expect((await api(app, { path: '/api/users/login', body: { username: other.username, password: other.password } })).status).toBe(200);
      });

      it('answers the seed middleware errors with 401 and its texts', async () => {
        const list = (headers: Record<string, string>) => api(app, { path: '/api/conversations/list', headers });
        expect(await list({})).toMatchObject({ status: 401, body: { error: 'Authorization header missing' } });
        expect(await list({ authorization: 'Token abc' })).toMatchObject({ status: 401, body: { error: 'Invalid token format' } });
        expect(await list({ authorization: 'Bearer' })).toMatchObject({ status: 401, body: { error: 'Invalid token format' } });
        expect(await list({ authorization: 'Bearer not-a-jwt' })).toMatchObject({ status: 401, body: { error: 'Invalid or expired token' } });
      });

      it('refuses every token in the tamper corpus with 401', async () => {
        const user = await newUser(app);
        const victim = await newUser(app);
        const [header, payload, signature] = user.token.split('.') as [string, string, string];
        const claims = { exp: now() + 3600, user_id: user.userId };
        const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const signed = (body: Record<string, unknown>, options: { secret?: string; alg?: string; header?: Record<string, unknown> } = {}) =>
          new SignJWT(body).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT', ...options.header }).sign(key(options.secret ?? SECRET));
        const handSigned = (head: object, body: object, secret = SECRET) => {
          const unsigned = `${encode(head)}.${encode(body)}`;
          return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
        };
        const corpus: Record<string, string> = {
          'alg none, no signature': new UnsecuredJWT(claims).encode(),
          'alg none, with signature': `${encode({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`,
          'alg None': `${encode({ alg: 'None', typ: 'JWT' })}.${payload}.`,
          'wrong key': await signed(claims, { secret: randomBytes(32).toString('hex') }),
          'seed sample secret': await signed(claims, { secret: 'S3cureK3y#2024!AIsafety' }),
          'HS512 with our secret': await signed(claims, { alg: 'HS512' }),
          expired: await signed({ exp: now() - 3600, user_id: user.userId }),
          'no exp': await signed({ user_id: user.userId }),
          'nbf in the future': await signed({ ...claims, nbf: now() + 3600 }),
          'unknown crit header': handSigned({ alg: 'HS256', typ: 'JWT', crit: ['x-unknown'], 'x-unknown': 1 }, claims),
          'kid path traversal': handSigned({ alg: 'HS256', typ: 'JWT', kid: '../../dev/null' }, claims, ''),
          'jku pointing elsewhere': handSigned({ alg: 'HS256', typ: 'JWT', jku: 'http://127.0.0.1:9/keys' }, claims, 'attacker'),
          'user_id as string': await signed({ exp: claims.exp, user_id: String(user.userId) }),
          'user that does not exist': await signed({ exp: claims.exp, user_id: 987_654_321 }),
          truncated: user.token.slice(0, -5),
          'stripped signature': `${header}.${payload}.`,
          'payload edited (user_id of another user)': `${header}.${encode({ exp: claims.exp, user_id: victim.userId })}.${signature}`,
          '10 KiB token': `${header}.${'A'.repeat(10 * 1024)}.${signature}`,
          'SQL metacharacters': "' OR 1=1 --",
          'SQL in a JWT shape': `${header}.${encode({ exp: claims.exp, user_id: "1' OR '1'='1" })}.${signature}`,
          'double space': ` ${user.token}`,
        };
        for (const [name, token] of Object.entries(corpus)) {
          const response = await api(app, { path: '/api/conversations/list', headers: { authorization: `Bearer ${token}` } });
          expect({ name, status: response.status, body: response.body }).toEqual({ name, status: 401, body: { error: 'Invalid or expired token' } });
        }
        const lower = await api(app, { path: '/api/conversations/list', headers: { authorization: `bearer ${user.token}` } });
        expect(lower).toMatchObject({ status: 401, body: { error: 'Invalid token format' } });
        // The real token still works, and only hashes of tokens ever reach Redis.
        expect((await api(app, { path: '/api/conversations/list', token: user.token })).status).toBe(200);
        if (redis) {
          const keys = await redisKeys(app.redisPrefix);
          expect(keys).toContain(`user-tokens:${user.userId}`);
          expect(keys.filter((name) => name.startsWith('token:')).every((name) => /^token:[0-9a-f]{64}$/.test(name))).toBe(true);
          expect(keys.some((name) => Object.values(corpus).some((token) => token.length > 8 && name.includes(token)) || name.includes(user.token))).toBe(false);
        }
      });

      it('rejects the tokens of a deleted user at once, and its login', async () => {
        const user = await newUser(app);
        expect((await api(app, { path: '/api/conversations/list', token: user.token })).status).toBe(200);
        // With Redis the token is now cached: the deletion has to reach the cache too.
        if (redis) expect(await redisKeys(app.redisPrefix)).toContain(`user-tokens:${user.userId}`);
        await deleteUserElsewhere(app, user.userId);
        if (redis) expect(await redisKeys(app.redisPrefix)).not.toContain(`user-tokens:${user.userId}`);
        expect(await api(app, { path: '/api/conversations/list', token: user.token })).toMatchObject({ status: 401, body: { error: 'Invalid or expired token' } });
        const login = await api(app, { path: '/api/users/login', body: { username: user.username, password: user.password } });
        expect(login).toMatchObject({ status: 401, body: { error: 'invalid username or password' } });
        const reRegister = await api(app, { path: '/api/users/register', body: { username: user.username, password: 'x' } });
        expect(reRegister).toMatchObject({ status: 400, body: { error: 'username already exists' } });
        expect(userIdOf(user.token)).toBe(user.userId);
      });
    });
  });
});
