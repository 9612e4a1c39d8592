import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/** Small persistent settings (seed 001 `config_kvs`): generated secrets, policies. */
export class SettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('config_kvs').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  /** Stores `value` unless the key exists; returns whichever value is stored (safe across instances). */
  async getOrCreate(key: string, create: () => string): Promise<string> {
    const existing = await this.get(key);
    if (existing !== undefined) return existing;
    const now = Date.now();
    await this.db
      .insertInto('config_kvs')
      .values({ key, value: create(), created_at: now, updated_at: now })
      .onConflict((conflict) => conflict.column('key').doNothing())
      .execute();
    return (await this.get(key)) ?? '';
  }

  async set(key: string, value: string): Promise<void> {
    const now = Date.now();
    await this.db
      .insertInto('config_kvs')
      .values({ key, value, created_at: now, updated_at: now })
      .onConflict((conflict) => conflict.column('key').doUpdateSet({ value, updated_at: now }))
      .execute();
  }
}
