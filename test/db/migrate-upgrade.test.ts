import { Migrator, type Kysely } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/connect.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { migrations } from '../../src/db/migrations/index.js';
import { createPostgresSchema, forEachStore } from '../support/stores.js';

/** What the release before 0003 shipped: every migration but the records' client request id. */
const BEFORE_0003 = Object.fromEntries(Object.entries(migrations).filter(([name]) => name !== '0003-records-client-request-id'));

async function migrateAsBefore(db: Kysely<Database>): Promise<void> {
  const { error } = await new Migrator({ db, provider: { getMigrations: () => Promise.resolve(BEFORE_0003) } }).migrateToLatest();
  if (error !== undefined) throw error instanceof Error ? error : new Error('migrations failed', { cause: error });
}

forEachStore((kind) => {
  describe('a database made by an earlier release', () => {
    it('gets a migration numbered below ones it ran already (0003 after 0060), and keeps its records', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'switchboard-upgrade-'));
      const schema = kind === 'postgres' ? await createPostgresSchema() : undefined;
      const store = await openStore({ url: schema?.url, poolMax: 2, sqlitePath: join(dir, 'old.sqlite') });
      try {
        await migrateAsBefore(store.db);
        // A record as the earlier release wrote it: no client_request_id column yet.
        const old = { id: 'old-1', created_at: 1, ip: '127.0.0.1', method: 'POST', path: '/v1/chat/completions', stream: 0, attempts: 1, status: 200, outcome: 'ok', elapsed_ms: 2, body: '', response: 'hi' };
        await store.db.insertInto('records').values(old).execute();

        await migrateToLatest(store.db);

        const rows = await store.db.selectFrom('records').select(['id', 'response', 'client_request_id']).execute();
        expect(rows).toEqual([{ id: 'old-1', response: 'hi', client_request_id: null }]);
        await store.db.updateTable('records').set({ client_request_id: 'client-1' }).where('id', '=', 'old-1').execute();
        // A second start migrates nothing more and fails on nothing.
        await migrateToLatest(store.db);
        expect(await store.db.selectFrom('records').select('client_request_id').executeTakeFirst()).toEqual({ client_request_id: 'client-1' });
      } finally {
        await store.close();
        await schema?.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
