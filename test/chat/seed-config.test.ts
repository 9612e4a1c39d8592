import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { requireService } from '../support/services.js';
import { startApp } from '../support/start-app.js';
import { api, newUser, redisKeys } from './chat-client.js';

const redisStatus = await requireService('redis');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** seed 002's config.yaml layout (SEEDS-SPEC §3.1), with a private secret instead of the sample. */
function seedConfig(options: { port: string; secret: string; redisDb?: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-seed-config-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'server:',
      `  port: ${options.port}`,
      'redis:',
      '  address: "127.0.0.1:6379"',
      '  password: ""',
      `  db: ${options.redisDb ?? 0}`,
      'sqlite:',
      '  path: "./storage/llm_backend.db"',
      '  max_open_conns: 10',
      '  max_idle_conns: 5',
      '  conn_max_lifetime: 300',
      'jwt:',
      `  secret: "${options.secret}"`,
      'rag:',
      '  service_addr: "localhost:50051"',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('seed 002 config.yaml', () => {
  it('reads server.port as ":8080" or 8080, redis.*, sqlite.path and jwt.secret', () => {
    for (const port of ['":8080"', '"8080"', '8080']) {
      const config = loadConfig({ cwd: seedConfig({ port, secret: 'private-secret-for-tests-0123456789', redisDb: 2 }) });
      expect(config.server.port).toBe(8080);
      expect(config.chat.jwtSecret).toBe('private-secret-for-tests-0123456789');
      expect(config.chat.redisUrl).toBe('redis://127.0.0.1:6379/2');
      expect(config.database.sqlitePath).toBe('./storage/llm_backend.db');
    }
    // Env and flags still win over the file.
    const cwd = seedConfig({ port: '":8080"', secret: 'from-the-file-0123456789abcdef' });
    expect(loadConfig({ cwd, env: { JWT_SECRET: 'from-the-env-0123456789abcdef', PORT: '9090' } }).chat).toMatchObject({ jwtSecret: 'from-the-env-0123456789abcdef' });
    expect(loadConfig({ cwd, env: { PORT: '9090' } }).server.port).toBe(9090);
    expect(loadConfig({ cwd, argv: ['--chat.jwtSecret=from-a-flag-0123456789abcdef'] }).chat.jwtSecret).toBe('from-a-flag-0123456789abcdef');
  });

  it('refuses the seed sample config as shipped (its jwt.secret is public)', () => {
    const cwd = seedConfig({ port: '":8080"', secret: 'S3cureK3y#2024!AIsafety' });
    expect(() => loadConfig({ cwd })).toThrow(ConfigError);
    try {
      loadConfig({ cwd });
    } catch (error) {
      expect((error as ConfigError).lines).toEqual([expect.stringMatching(/^chat\.jwtSecret="\*\*\*" is the sample secret published with seed 002; .* \(from config file .*config\.yaml\)$/)]);
    }
  });

  describe.skipIf(!redisStatus.available)('an app started in a directory holding a seed config.yaml', () => {
    it('serves /api with that secret, SQLite file and Redis', async () => {
      const secret = 'seed-style-private-secret-0123456789';
      const cwd = seedConfig({ port: '":8080"', secret });
      const prefix = `sbtest-seed-${Date.now()}:`;
      // The test harness forces port 0; everything else comes from config.yaml.
      const app = await startApp({ cwd, overrides: { 'chat.bcryptCost': 4, 'chat.redisKeyPrefix': prefix } });
      try {
        expect(app.config.chat.redisUrl).toBe('redis://127.0.0.1:6379/0');
        expect(existsSync(join(cwd, 'storage', 'llm_backend.db'))).toBe(true);
        const user = await newUser(app);
        const { payload } = await jwtVerify(user.token, new TextEncoder().encode(secret), { algorithms: ['HS256'] });
        expect(payload['user_id']).toBe(user.userId);
        expect((await api(app, { path: '/api/conversations/list', token: user.token })).text).toBe('[]');
        expect(await redisKeys(prefix)).toContain(`user-tokens:${user.userId}`);
      } finally {
        await app.close();
        const { Redis } = await import('ioredis');
        const redis = new Redis();
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    });
  });
});
