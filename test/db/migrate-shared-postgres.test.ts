import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/db/connect.js';
import { firstNamedSchema, migrateToLatest } from '../../src/db/migrate.js';
import { randomBytes } from 'node:crypto';
import { createPostgresSchema } from '../support/stores.js';
import { POSTGRES_URL, requireService } from '../support/services.js';

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
        const store = await openStore({ url: own.url, poolMax: 2, sqlitePath: ':memory:' });
        try {
          await migrateToLatest(store.db);
          const { rows } = await sql<{ ok: boolean }>`select to_regclass('records') is not null as ok`.execute(store.db);
          expect(rows[0]?.ok).toBe(true);
        } finally {
          await store.close();
          await own.drop();
        }
      }
    } finally {
      stop.requested = true;
      await churn;
    }
  }, 120_000);

  it("lists only its own schema's tables, with their columns, whatever else the server holds", async () => {
    const other = await busySchema();
    const own = await createPostgresSchema();
    const store = await openStore({ url: own.url, poolMax: 2, sqlitePath: ':memory:' });
    try {
      await migrateToLatest(store.db);
      const tables = await store.db.introspection.getTables();
      const names = tables.map((table) => table.name);
      expect(names).toContain('records');
      expect(names).not.toContain('t0');
      expect(names).not.toContain('kysely_migration');
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
      expect(new Set(tables.map((table) => table.schema))).toEqual(new Set([rows[0]?.schema]));
      const withInternal = await store.db.introspection.getTables({ withInternalKyselyTables: true });
      expect(withInternal.map((table) => table.name)).toContain('kysely_migration');
      const upstreamTable = tables.find((table) => table.name === 'openai_upstreams');
      const id = upstreamTable?.columns.find((column) => column.name === 'id');
      expect(id).toMatchObject({ isAutoIncrementing: true, isNullable: false, hasDefaultValue: true });
    } finally {
      await store.close();
      await own.drop();
      await other.drop();
    }
  });

  it('creates the schema its search_path names when it does not exist yet, and keeps every table there', async () => {
    const schema = `sb_new_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, poolMax: 2, sqlitePath: ':memory:' });
    try {
      await migrateToLatest(store.db);
      const { rows } = await sql<{ schema: string; tables: number }>`
        select current_schema() as schema, (select count(*) from pg_tables where schemaname = ${schema})::int as tables`.execute(store.db);
      expect(rows[0]?.schema).toBe(schema);
      expect(rows[0]?.tables).toBeGreaterThan(5);
      // A second start finds its migrations done.
      await migrateToLatest(store.db);
    } finally {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
      await store.close();
    }
  });
});

describe('the schema a search_path names', () => {
  it('skips "$user", unquotes quoted names and folds unquoted ones as PostgreSQL does', () => {
    expect(firstNamedSchema('"$user", public')).toBe('public');
    expect(firstNamedSchema('Team_A')).toBe('team_a');
    expect(firstNamedSchema('"$user", "My ""App""", public')).toBe('My "App"');
    expect(firstNamedSchema('  a ,b')).toBe('a');
    expect(firstNamedSchema('"$user"')).toBeUndefined();
    expect(firstNamedSchema('')).toBeUndefined();
  });
});
