import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { POSTGRES_URL, requireService } from './services.js';

export type StoreKind = 'sqlite' | 'postgres';

/** Stores under test; narrowed by SWITCHBOARD_STORES=sqlite,postgres. */
export function storesUnderTest(): StoreKind[] {
  const wanted = (process.env['SWITCHBOARD_STORES'] ?? 'sqlite,postgres').split(',').map((name) => name.trim());
  return (['sqlite', 'postgres'] as const).filter((kind) => wanted.includes(kind));
}

const postgresStatus = storesUnderTest().includes('postgres') ? await requireService('postgres') : undefined;

/** Runs the same suite on SQLite and PostgreSQL (Kysely's dialect loop). */
export function forEachStore(suite: (store: StoreKind) => void): void {
  for (const kind of storesUnderTest()) {
    const skip = kind === 'postgres' && !postgresStatus?.available;
    describe.skipIf(skip)(`on ${kind}`, () => suite(kind));
  }
}

/** A fresh PostgreSQL schema, so test files never see each other's rows; dropped by `drop()`. */
export async function createPostgresSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `sb_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    url,
    async drop() {
      const dropper = new pg.Client({ connectionString: POSTGRES_URL });
      await dropper.connect();
      await dropper.query(`drop schema if exists ${schema} cascade`);
      await dropper.end();
    },
  };
}
