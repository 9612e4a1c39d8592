import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';

/** A stored key as it may be shown: never the key, never its hash. */
export interface StoredKeyView {
  readonly id: number;
  readonly name: string;
  /** The masked key (`sk-sb-…wxyz`). */
  readonly prefix: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** The `gateway_keys` table: keys added by `switchboard key add` or generated at first start. */
export class GatewayKeysRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a key by its hash and masked form (gateway-keys.ts makes both); returns its id. */
  async create(entry: { name: string; keyHash: string; keyPrefix: string }, now = Date.now()): Promise<number> {
    const row = await this.db
      .insertInto('gateway_keys')
      .values({ name: entry.name, key_hash: entry.keyHash, key_prefix: entry.keyPrefix, created_at: now, revoked_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Oldest first, revoked ones included (with when). */
  async list(): Promise<StoredKeyView[]> {
    const rows = await this.db.selectFrom('gateway_keys').select(['id', 'name', 'key_prefix', 'created_at', 'revoked_at']).orderBy('id').execute();
    return rows.map((row) => ({ id: row.id, name: row.name, prefix: row.key_prefix, createdAt: row.created_at, revokedAt: row.revoked_at }));
  }

  async hasLiveKey(): Promise<boolean> {
    return (await this.db.selectFrom('gateway_keys').select('id').where('revoked_at', 'is', null).executeTakeFirst()) !== undefined;
  }

  /** The id of the live key with this hash, if any. */
  async findLive(keyHash: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('gateway_keys').select('id').where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
    return row?.id;
  }

  /** Revokes a live key; false when no live key has this id (unknown, or revoked already). */
  async revoke(id: number, now = Date.now()): Promise<boolean> {
    const result = await this.db.updateTable('gateway_keys').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
