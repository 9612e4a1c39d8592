import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/process.js';
import { startApp } from '../support/start-app.js';

const workdir = () => mkdtempSync(join(tmpdir(), 'sb-cli-'));

describe('seed 001 CLI', () => {
  it('-add stores an upstream (key masked in the output) and -list prints it in the seed format', async () => {
    const cwd = workdir();
    const added = await runCli(['-add', '-sk', 'sk-cli-0123456789abcdef', '-endpoint', 'https://api.example.test/v1'], { cwd });
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('Successuflly add upstream');
    expect(added.stdout + added.stderr).not.toContain('sk-cli-0123456789abcdef');
    const listed = await runCli(['--list'], { cwd });
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toBe('SK\tEndpoint\tSuccess\tFailed\tLast Success Time');
    expect(lines[1]).toMatch(/^\S+ https:\/\/api\.example\.test\/v1 0 0 0001-01-01 00:00:00 \+0000 UTC$/);
  });

  it('-add without -sk exits 1 with "Missing --sk flag"; a duplicate exits 1 with "Can not add upstream"', async () => {
    const cwd = workdir();
    const missing = await runCli(['-add'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Missing --sk flag');
    await runCli(['-add', '-sk', 'sk-dup-0123456789', '-database', './other.sqlite'], { cwd });
    const duplicate = await runCli(['-add', '-sk', 'sk-dup-0123456789', '-database', './other.sqlite'], { cwd });
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^Can not add upstream/);
  });

  it('switchboard upstream add | list | remove', async () => {
    const cwd = workdir();
    const added = await runCli(['upstream', 'add', '--sk', 'sk-friendly-0123456789', '--endpoint', 'https://a.test/v1', '--models', 'm1,m2'], { cwd });
    expect(added.code).toBe(0);
    const listed = await runCli(['upstream', 'list'], { cwd });
    expect(listed.stdout).toMatch(/\n1 \S+ https:\/\/a\.test\/v1 0 0/);
    expect((await runCli(['upstream', 'remove', '1'], { cwd })).code).toBe(0);
    expect((await runCli(['upstream', 'list'], { cwd })).stdout.trim().split('\n')).toHaveLength(1);
  });

  it('switchboard key add | list | revoke: the key is printed once, works, is never listed, and stops working once revoked', async () => {
    const cwd = workdir();
    const added = await runCli(['key', 'add', '--name', 'laptop'], { cwd });
    expect(added.code).toBe(0);
    const key = /(sk-sb-[\w-]+)/.exec(added.stdout)?.[1];
    expect(key).toBeDefined();
    const listed = await runCli(['key', 'list'], { cwd });
    expect(listed.stdout.trim().split('\n')).toEqual(['ID\tKey\tCreated\tRevoked\tName', expect.stringMatching(/^1\tsk-sb-…\S{4}\t\S+\t-\tlaptop$/)]);
    expect(listed.stdout).not.toContain(key);
    const login = async () => {
      const app = await startApp({ cwd, overrides: { 'gateway.authorization': [] } });
      try {
        expect(app.app.generatedKey).toBeUndefined();
        return (await fetch(`${app.url}/admin/login`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })).status;
      } finally {
        await app.close();
      }
    };
    expect(await login()).toBe(200);
    expect((await runCli(['key', 'revoke', '1'], { cwd })).code).toBe(0);
    const again = await runCli(['key', 'revoke', '1'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('No live gateway key has id 1');
    expect((await runCli(['key', 'revoke', 'one'], { cwd })).code).toBe(2);
    // A fresh start: no key cache, and a new generated key because no stored key is live.
    const app = await startApp({ cwd, overrides: { 'gateway.authorization': [] } });
    try {
      expect(app.app.generatedKey).toMatch(/^sk-sb-/);
      expect((await fetch(`${app.url}/admin/login`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })).status).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('a bad setting stops the start with one line naming the key and source', async () => {
    const result = await runCli([], { cwd: workdir(), env: { TIMEOUT: '5x' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('dispatch.timeoutMs="5x" is not a duration; use 300ms, 1.5h or 2m30s (from env TIMEOUT)');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses -noauth on a public interface unless forced', async () => {
    const result = await runCli(['-noauth', '-addr', '0.0.0.0:0'], { cwd: workdir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('-noauth on 0.0.0.0');
  });

  it('fails fast with one line when PostgreSQL is unreachable (RELIABILITY F23)', async () => {
    const result = await runCli(['-addr', '127.0.0.1:0'], { cwd: workdir(), env: { DATABASE_URL: 'postgres://nobody:secret-pw@127.0.0.1:1/db' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot connect to PostgreSQL');
    expect(result.stderr).not.toContain('secret-pw');
  });
});
