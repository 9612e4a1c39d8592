import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { Principal } from '../target.js';

/** One-shot: no Hash object per call, and it runs for every /v1 request. */
function sha256(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/** Masks a secret for display: `sk-abc…wxyz` (never more than 4 characters of each end). */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '*'.repeat(secret.length);
  return `${secret.slice(0, Math.min(6, secret.length - 8))}…${secret.slice(-4)}`;
}

/**
 * Gateway keys: the seed's `authorization` list from config (compared in constant time) plus
 * keys stored hashed in the database. With neither, one key is generated at first start.
 */
export class GatewayKeys {
  private readonly configured: { hash: Buffer; id: string }[];

  private constructor(private readonly db: Kysely<Database>, configuredKeys: readonly string[]) {
    this.configured = configuredKeys.map((key) => {
      const hash = sha256(key);
      return { hash, id: `cfg:${hash.toString('hex').slice(0, 8)}` };
    });
  }

  /** Returns the keys, and the plaintext of a key generated now (to print once), if any. */
  static async open(db: Kysely<Database>, configuredKeys: readonly string[]): Promise<{ keys: GatewayKeys; generatedKey?: string }> {
    const keys = new GatewayKeys(db, configuredKeys);
    if (configuredKeys.length > 0) return { keys };
    const existing = await db.selectFrom('gateway_keys').select('id').where('revoked_at', 'is', null).executeTakeFirst();
    if (existing) return { keys };
    const generatedKey = `sk-sb-${randomBytes(24).toString('base64url')}`;
    await keys.store('generated at first start', generatedKey);
    return { keys, generatedKey };
  }

  async store(name: string, key: string): Promise<void> {
    await this.db
      .insertInto('gateway_keys')
      .values({ name, key_hash: sha256(key).toString('hex'), key_prefix: maskSecret(key), created_at: Date.now(), revoked_at: null })
      .execute();
  }

  /** The principal for a presented key, or undefined. */
  async verify(presented: string): Promise<Principal | undefined> {
    return this.verifyFast(presented);
  }

  /**
   * `verify` without a promise when the key is one from config (the common case on /v1): the
   * principal itself, or a promise when the database must be asked.
   */
  verifyFast(presented: string): Principal | Promise<Principal | undefined> {
    const hash = sha256(presented);
    let match: string | undefined;
    for (const entry of this.configured) {
      // Compare every entry so timing does not reveal which one matched.
      if (timingSafeEqual(entry.hash, hash)) match ??= entry.id;
    }
    return match ? { kind: 'gateway-key', id: match } : this.verifyStored(hash);
  }

  private async verifyStored(hash: Buffer): Promise<Principal | undefined> {
    const row = await this.db
      .selectFrom('gateway_keys')
      .select('id')
      .where('key_hash', '=', hash.toString('hex'))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? { kind: 'gateway-key', id: `key:${row.id}` } : undefined;
  }
}
