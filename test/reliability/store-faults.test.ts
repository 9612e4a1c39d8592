import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { addGatewayKey } from '../../src/gateway/keys/gateway-keys.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { AUTH } from '../support/start-app.js';
import { POSTGRES_URL, requireService } from '../support/services.js';
import { createPostgresSchema } from '../support/stores.js';
import { chat, runScenario, startRig, type Rig } from './harness.js';

/** RELIABILITY F21 (SQLite locked by another process) and F22 (PostgreSQL backends killed). */
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A schema of our own on the shared server, the application_name our pool's connections carry, and a connection of the test's to end them with. */
async function postgresOfOurOwn(prefix: string): Promise<{ schema: { url: string }; appName: string; admin: pg.Client }> {
  const schema = await createPostgresSchema();
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  cleanup.push(async () => {
    await admin.end();
    await schema.drop();
  });
  return { schema, appName: `${prefix}-${randomBytes(4).toString('hex')}`, admin };
}

const MIXED = Array.from({ length: 12 }, (_, index) => ({ body: chat(index % 2 === 0) }));
const postgres = await requireService('postgres');

describe('store faults', () => {
  it('F21: while another connection holds BEGIN EXCLUSIVE the proxy keeps serving; rows are buffered and written after unlock', async () => {
    const rig = await startRig(1);
    cleanup.push(() => rig.close());
    const locker = new BetterSqlite3(join(rig.app.cwd, rig.app.config.database.sqlitePath), { timeout: 0 });
    cleanup.push(async () => void locker.close());
    locker.exec('BEGIN EXCLUSIVE');
    let release: NodeJS.Timeout | undefined;
    let rowsWhileLocked = -1;
    try {
      // The lock is held for 2 s of traffic; every request is sent and answered inside it.
      release = setTimeout(() => {
        rowsWhileLocked = (locker.prepare("select count(*) as n from records where id like 'f21-%'").get() as { n: number }).n;
        locker.exec('COMMIT');
      }, 2_000);
      const { verdict, client } = await runScenario({ rig, name: 'f21', requests: MIXED, concurrent: true });
      expect(rowsWhileLocked).toBe(0);
      expect(verdict.violations).toEqual([]);
      expect(verdict.count('ok')).toBe(12);
      expect(client.every((entry) => entry.status === 200)).toBe(true);
    } finally {
      clearTimeout(release);
      if (locker.inTransaction) locker.exec('COMMIT');
    }
  });

  it.skipIf(!postgres.available)('F22: pg_terminate_backend on our pool during load: requests keep succeeding, the pool reconnects, nothing is lost', async () => {
    const { schema, appName, admin } = await postgresOfOurOwn('sb-f22');
    const rig: Rig = await startRig(1, { overrides: { 'database.url': `${schema.url}&application_name=${appName}`, 'database.poolMax': 4 } });
    cleanup.unshift(() => rig.close());
    const samples: number[] = [];
    const kill = async () => {
      const { rows } = await admin.query<{ count: string }>('select count(*) as count from pg_stat_activity where application_name = $1', [appName]);
      samples.push(Number(rows[0]!.count));
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
    };
    const killer = (async () => {
      for (let round = 0; round < 6; round++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        await kill();
      }
    })();
    const requests = Array.from({ length: 30 }, (_, index) => ({ body: chat(index % 3 === 0) }));
    const scenario = runScenario({ rig, name: 'f22', requests, concurrent: true });
    await killer;
    const { verdict } = await scenario;
    const late = await runScenario({ rig, name: 'f22late', requests: MIXED.slice(0, 4) });
    expect(verdict.violations).toEqual([]);
    expect(verdict.count('ok')).toBe(30);
    expect(late.verdict.violations).toEqual([]);
    expect(Math.max(...samples)).toBeLessThanOrEqual(4);
  });

  it.skipIf(!postgres.available)('F22: with PostgreSQL unreachable, a stored key not yet cached gets a 503 in OpenAI shape with Retry-After (not a 500), and works once the store is back', async () => {
    const { schema, appName, admin } = await postgresOfOurOwn('sb-f22u');
    const proxy = await startFaultProxy({ port: 5432 });
    cleanup.push(() => proxy.close());
    const url = `${schema.url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`)}&application_name=${appName}`;
    const rig = await startRig(1, { overrides: { 'database.url': url, 'database.poolMax': 2 } });
    // Closed first (cleanup runs last-in first), with the store reachable for its last flush.
    cleanup.push(async () => {
      proxy.setMode({ kind: 'pass' });
      await rig.close();
    });
    const { key } = await addGatewayKey(rig.app.app.store.db, 'f22 unreachable');
    const ask = () =>
      fetch(`${rig.app.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(chat(false)) });

    // Every new connection is reset once the server answers it, and the pool's open ones are ended.
    proxy.setMode({ kind: 'drop-after', bytes: 0 });
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
    const refused = await ask();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({ error: { message: 'The database is unavailable; retry shortly.', type: 'service_unavailable_error', param: null, code: 'store_unavailable' } });
    // The admin API answers the same in the seed's shape.
    const records = await fetch(`${rig.app.url}/admin/request_records`, { headers: AUTH });
    expect(records.status).toBe(503);
    expect(records.headers.get('retry-after')).toBe('1');
    expect(await records.json()).toEqual({ error: 'The database is unavailable; retry shortly.' });

    proxy.setMode({ kind: 'pass' });
    const served = await ask();
    expect(served.status).toBe(200);
  });
});
