import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createPostgresSchema } from '../support/stores.js';
import { requireService } from '../support/services.js';

const postgres = await requireService('postgres');

/** A schema with tables whose columns the migrator's listing looks up one by one. */
async function busySchema(): Promise<{ drop: () => Promise<void>; url: string }> {
  const schema = await createPostgresSchema();
  const client = new pg.Client({ connectionString: schema.url });
  await client.connect();
  for (let table = 0; table < 20; table++) await client.query(`create table t${table} (id serial primary key, a text, b text, c text, d integer)`);
  await client.end();
  return schema;
}

describe.skipIf(!postgres.available)('migrations on a PostgreSQL shared with other schemas', () => {
  it('start while other schemas are being dropped: every instance migrates, none fails on a table that is not its own', async () => {
    const stop = { requested: false };
    const churn = (async () => {
      while (!stop.requested) {
        const others = await Promise.all([busySchema(), busySchema()]);
        await Promise.all(others.map((other) => other.drop()));
      }
    })();
    try {
      for (let instance = 0; instance < 12; instance++) {
        const own = await createPostgresSchema();
        const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: own.url, max: 2 }) }) });
        try {
          await migrateToLatest(db);
          const { rows } = await sql<{ ok: boolean }>`select to_regclass('records') is not null as ok`.execute(db);
          expect(rows[0]?.ok).toBe(true);
        } finally {
          await db.destroy();
          await own.drop();
        }
      }
    } finally {
      stop.requested = true;
      await churn;
    }
  }, 120_000);
});
