import { once } from 'node:events';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli, spawnSwitchboard } from '../support/process.js';
import { requireService } from '../support/services.js';
import { startApp } from '../support/start-app.js';
import { createPostgresSchema } from '../support/stores.js';

const workdir = () => mkdtempSync(join(tmpdir(), 'sb-cli-'));
const postgres = await requireService('postgres');

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

  it('-add refuses an endpoint the gateway cannot call (not http(s), or with credentials), and the gateway still starts', async () => {
    const cwd = workdir();
    for (const args of [
      ['-add', '-sk', 'sk-bad-0123456789abcdef', '-endpoint', 'ftp://files.example.test/v1'],
      ['upstream', 'add', '--sk', 'sk-bad-0123456789abcdef', '--endpoint', 'mailto:ops@example.test'],
      ['-add', '-sk', 'sk-bad-0123456789abcdef', '-endpoint', 'https://user:hunter2-pass@api.example.test/v1'],
    ]) {
      const added = await runCli(args, { cwd });
      expect(added.code).toBe(1);
      expect(added.stderr).toMatch(/^Can not add upstream/);
      expect(added.stdout + added.stderr).not.toContain('hunter2-pass');
    }
    expect((await runCli(['-list'], { cwd })).stdout.trim().split('\n')).toHaveLength(1);
    const app = await startApp({ cwd });
    await app.close();
  });

  it('upstream remove of an id that is not live says so and exits 1', async () => {
    const cwd = workdir();
    const removed = await runCli(['upstream', 'remove', '42'], { cwd });
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain('No live upstream has id 42');
    expect(removed.stdout).not.toContain('removed upstream 42');
  });

  it.skipIf(!postgres.available)('upstream and key subcommands with --database postgres://… work on PostgreSQL, like -database', async () => {
    const cwd = workdir();
    const schema = await createPostgresSchema();
    try {
      const added = await runCli(['upstream', 'add', '--sk', 'sk-pg-0123456789abcdef', '--endpoint', 'https://pg.example.test/v1', '--database', schema.url], { cwd });
      expect(added.code).toBe(0);
      expect((await runCli(['key', 'add', '--name', 'pg', `--database=${schema.url}`], { cwd })).code).toBe(0);
      const seedList = await runCli(['-list', '-database', schema.url], { cwd });
      expect(seedList.stdout).toContain('https://pg.example.test/v1');
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      try {
        expect((await client.query('select endpoint from openai_upstreams')).rows).toEqual([{ endpoint: 'https://pg.example.test/v1' }]);
        expect((await client.query('select name from gateway_keys')).rows).toEqual([{ name: 'pg' }]);
      } finally {
        await client.end();
      }
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      await schema.drop();
    }
  });

  it('upstream and key subcommands refuse an unknown option or stray argument with one line, and write nothing', async () => {
    const cwd = workdir();
    const sk = 'sk-typo-0123456789abcdef';
    const cases: [string[], string][] = [
      // A typo must not leave the default endpoint (api.openai.com) holding the user's key.
      [['upstream', 'add', '--sk', sk, '--endpiont', 'https://mine.example.test/v1'], '--endpiont'],
      [['upstream', 'add', `--sk=${sk}`, '-endpiont=https://mine.example.test/v1'], '-endpiont'],
      [['upstream', 'add', '--sk', sk, 'https://mine.example.test/v1'], 'https://mine.example.test/v1'],
      [['key', 'add', '--nmae', 'laptop'], '--nmae'],
      [['upstream', 'list', '--verbose'], '--verbose'],
      [['key', 'revoke', '1', '--force'], '--force'],
      [['upstream', 'remove', '1', '2'], '"2"'],
    ];
    for (const [args, named] of cases) {
      const result = await runCli(args, { cwd });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(named)]);
      expect(result.stdout + result.stderr).not.toContain(sk);
    }
    expect(readdirSync(cwd)).toEqual([]);
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

  for (const store of ['sqlite', 'postgres'] as const) {
    it.skipIf(store === 'postgres' && !postgres.available)(`on ${store}: a listen address already in use stops the start with one line and exit 1, instead of running on without listening`, async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const { port } = taken.address() as AddressInfo;
      const schema = store === 'postgres' ? await createPostgresSchema() : undefined;
      try {
        const env = { AUTHORIZATION: 'k1', ...(schema ? { DATABASE_URL: schema.url } : {}) };
        const child = spawnSwitchboard(['-addr', `127.0.0.1:${port}`], { cwd: workdir(), env });
        let stderr = '';
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout!.resume();
        // A supervisor restarts a process that exits; one left running without a listener serves nobody.
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
        clearTimeout(killer);
        expect({ code, signal }).toEqual({ code: 1, signal: null });
        expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('EADDRINUSE')]);
      } finally {
        await new Promise((resolve) => taken.close(resolve));
        await schema?.drop();
      }
    });
  }

  it('fails fast with one line when PostgreSQL is unreachable (RELIABILITY F23)', async () => {
    const result = await runCli(['-addr', '127.0.0.1:0'], { cwd: workdir(), env: { DATABASE_URL: 'postgres://nobody:secret-pw@127.0.0.1:1/db' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot connect to PostgreSQL');
    expect(result.stderr).not.toContain('secret-pw');
  });
});
