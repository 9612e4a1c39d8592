import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../../src/config/duration.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'sb-config-'));

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('Go durations (seed 000 TIMEOUT)', () => {
  it.each([
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['2m30s', 150_000],
    ['5m', 300_000],
    ['0', 0],
    ['1h2m3s4ms', 3_723_004],
    ['-1s', -1000],
  ])('%s = %d ms', (text, ms) => expect(parseGoDuration(text)).toBe(ms));

  it.each(['5x', '', 'm', '1', '1.s.', '3 m'])('%j is not a duration', (text) => expect(parseGoDuration(text)).toBeUndefined());
});

describe('loadConfig', () => {
  it('serves on 0.0.0.0:8080 with an embedded SQLite file by default', () => {
    const config = loadConfig({ cwd: emptyDir() });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 8080 });
    expect(config.database.url).toBeUndefined();
    expect(config.database.sqlitePath).toBe('./data/switchboard.sqlite');
    expect(config.dispatch.timeoutMs).toBe(300_000);
    expect(Object.isFrozen(config.gateway.timeouts)).toBe(true);
  });

  it('layers flags over env over .env over config.yaml over defaults', () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'config.yaml'), 'server:\n  port: ":7001"\npolicy: random\ngateway:\n  maxAttempts: 2\n');
    writeFileSync(join(cwd, '.env'), 'PORT=7002\nPOLICY=round_robin\n');
    expect(loadConfig({ cwd }).server.port).toBe(7002);
    expect(loadConfig({ cwd }).gateway.policy).toBe('round_robin');
    expect(loadConfig({ cwd }).gateway.maxAttempts).toBe(2);
    expect(loadConfig({ cwd, env: { PORT: '7003' } }).server.port).toBe(7003);
    expect(loadConfig({ cwd, env: { PORT: '7003' }, argv: ['-addr', '127.0.0.1:7004'] }).server).toMatchObject({ host: '127.0.0.1', port: 7004 });
    expect(loadConfig({ cwd, argv: ['--addr=:7005'] }).server.port).toBe(7005);
  });

  it('accepts the seed names: -database, -noauth, -add -sk -endpoint, TIMEOUT, DEBUG, DATABASE_URL', () => {
    const config = loadConfig({ cwd: emptyDir(), argv: ['-database', './db.sqlite', '--noauth', '-add', '-sk', 'sk-1', '-endpoint', 'https://x.test/v1'], env: { TIMEOUT: '2m30s', DEBUG: '1' } });
    expect(config.database.sqlitePath).toBe('./db.sqlite');
    expect(config.gateway.noauth).toBe(true);
    expect(config.gateway.cli).toMatchObject({ add: true, sk: 'sk-1', endpoint: 'https://x.test/v1' });
    expect(config.dispatch.timeoutMs).toBe(150_000);
    expect(config.log.level).toBe('debug');
    expect(loadConfig({ cwd: emptyDir(), env: { DATABASE_URL: 'postgres://u@h/db' } }).database.url).toBe('postgres://u@h/db');
    expect(loadConfig({ cwd: emptyDir(), argv: ['-database', 'postgres://u@h/db'] }).database.url).toBe('postgres://u@h/db');
  });

  it('refuses a database URL of another kind instead of making a SQLite file named after it', () => {
    for (const [source, options] of [
      ['env DATABASE_URL', { env: { DATABASE_URL: 'mysql://root:pw-secret@db/app' } }],
      ['flag -database', { argv: ['-database', 'mysql://root:pw-secret@db/app'] }],
    ] as const) {
      const error = configError(() => loadConfig({ cwd: emptyDir(), ...options }));
      expect(error.lines).toHaveLength(1);
      expect(error.lines[0]).toMatch(/^database\.url=.* only PostgreSQL URLs \(postgres:\/\/…\) are supported; for SQLite give a file path/);
      expect(error.lines[0]).toContain(`(from ${source})`);
      expect(error.message).not.toContain('pw-secret');
    }
    expect(loadConfig({ cwd: emptyDir(), env: { DATABASE_URL: 'postgresql://u@h/db' } }).database.url).toBe('postgresql://u@h/db');
  });

  it("reads seed 002's config.yaml keys", () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'config.yaml'), 'server:\n  port: "8090"\nredis:\n  address: "localhost:6379"\n  password: "p@ss"\n  db: 2\nsqlite:\n  path: "./llm_backend.db"\njwt:\n  secret: "a-long-enough-secret-value"\n');
    const config = loadConfig({ cwd });
    expect(config.server.port).toBe(8090);
    expect(config.chat.redisUrl).toBe('redis://:p%40ss@localhost:6379/2');
    expect(config.database.sqlitePath).toBe('./llm_backend.db');
    expect(config.chat.jwtSecret).toBe('a-long-enough-secret-value');
  });

  it('fails with one line per bad key, naming the key, the value and its source', () => {
    const error = configError(() => loadConfig({ cwd: emptyDir(), env: { TIMEOUT: '5x', POLICY: 'fastest' } }));
    expect(error.lines).toHaveLength(2);
    expect(error.lines.find((line) => line.startsWith('dispatch.timeoutMs'))).toMatch(/^dispatch\.timeoutMs="5x" is not a duration; use 300ms, 1\.5h or 2m30s \(from env TIMEOUT\)$/);
    expect(error.lines.find((line) => line.startsWith('gateway.policy'))).toContain('(from env POLICY)');
  });

  it('refuses a timer longer than a Node timer keeps (it would fire after 1 ms), but not a longer token lifetime', () => {
    const error = configError(() => loadConfig({ cwd: emptyDir(), env: { TIMEOUT: '720h' }, overrides: { 'gateway.timeouts.streamTotalMs': '600h' } }));
    expect(error.lines).toHaveLength(2);
    expect(error.lines.find((line) => line.startsWith('dispatch.timeoutMs'))).toBe(
      'dispatch.timeoutMs="720h" must be at most 2147483647 ms (about 24 days), the longest timer Node keeps (from env TIMEOUT)',
    );
    expect(error.lines.find((line) => line.startsWith('gateway.timeouts.streamTotalMs'))).toContain('the longest timer Node keeps');
    const config = loadConfig({ cwd: emptyDir(), env: { TIMEOUT: '596h' }, overrides: { 'chat.tokenTtlMs': '720h' } });
    expect(config.dispatch.timeoutMs).toBe(596 * 3_600_000);
    expect(config.chat.tokenTtlMs).toBe(720 * 3_600_000);
  });

  it('never prints a secret in an error', () => {
    const error = configError(() => loadConfig({ cwd: emptyDir(), env: { AUTHORIZATION: 'sk-super-secret' }, overrides: { 'gateway.authorization': 42 } }));
    expect(error.message).not.toContain('sk-super-secret');
    expect(error.message).toContain('***');
  });

  it('refuses a config.yaml upstream endpoint the gateway cannot call, as the admin API and CLI do', () => {
    const cwd = emptyDir();
    const file = join(cwd, 'config.yaml');
    const upstreams = (endpoint: string) => `gateway:\n  upstreams:\n    - endpoint: https://ok.test/v1\n    - endpoint: "${endpoint}"\n      sk: sk-up\n`;
    for (const endpoint of ['ftp://files.test/v1', 'file:///etc/passwd']) {
      writeFileSync(file, upstreams(endpoint));
      expect(configError(() => loadConfig({ cwd })).lines).toEqual([`gateway.upstreams.1.endpoint="${endpoint}" Endpoint must be an http(s) URL (from config file ${file})`]);
    }
    writeFileSync(file, upstreams('https://me:hunter2@api.test/v1'));
    const error = configError(() => loadConfig({ cwd }));
    expect(error.lines).toEqual([`gateway.upstreams.1.endpoint="https://me:***@api.test/v1" Endpoint must not contain credentials; put the key in SK (from config file ${file})`]);
    expect(error.message).not.toContain('hunter2');
    // A key given as the user name alone (some clients put it there) is the secret: masked too.
    writeFileSync(file, upstreams('https://sk-live-0123456789@api.test/v1'));
    expect(configError(() => loadConfig({ cwd })).lines).toEqual([`gateway.upstreams.1.endpoint="https://***@api.test/v1" Endpoint must not contain credentials; put the key in SK (from config file ${file})`]);
    writeFileSync(file, upstreams('http://vllm:8000'));
    expect(loadConfig({ cwd }).gateway.upstreams.map((upstream) => upstream.endpoint)).toEqual(['https://ok.test/v1', 'http://vllm:8000']);
  });

  it('rejects unknown flags and stray arguments', () => {
    expect(configError(() => loadConfig({ cwd: emptyDir(), argv: ['-bogus'] })).lines).toEqual(['unknown flag -bogus']);
    expect(configError(() => loadConfig({ cwd: emptyDir(), argv: ['serve'] })).lines[0]).toContain('unexpected argument "serve"');
  });

  it('reports broken YAML in one line', () => {
    const cwd = emptyDir();
    writeFileSync(join(cwd, 'config.yaml'), 'server: [unclosed\n');
    expect(configError(() => loadConfig({ cwd })).lines[0]).toMatch(/config\.yaml: not valid YAML/);
  });

  it('takes any schema key as SWITCHBOARD_SECTION__KEY or --section.key', () => {
    expect(loadConfig({ cwd: emptyDir(), env: { SWITCHBOARD_GATEWAY__MAX_ATTEMPTS: '1' } }).gateway.maxAttempts).toBe(1);
    expect(loadConfig({ cwd: emptyDir(), argv: ['--gateway.timeouts.connectMs=2s'] }).gateway.timeouts.connectMs).toBe(2000);
  });
});
