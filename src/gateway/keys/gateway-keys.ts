import { hash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { BoundedCache } from '../../platform/bounded-cache.js';
import type { Principal } from '../target.js';
import { GatewayKeysRepository } from './keys-repository.js';

/**
 * One-shot: no Hash object per call, and it runs for every /v1 request. Hex rather than a Buffer:
 * a digest Buffer is a fresh off-heap allocation per call, and measured alone (1 M calls) the
 * Buffer form took 750 ns against 300 ns for hex; the stored keys are looked up by hex anyway.
 */
function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/**
 * Equal digests, compared in time that does not depend on where they differ (what
 * crypto.timingSafeEqual does for Buffers; both are 64 hex characters here).
 */
function sameDigest(left: string, right: string): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left.charCodeAt(index) ^ right.charCodeAt(index);
  return difference === 0;
}

/** Masks a secret for display: `sk-abc…wxyz` (never more than 4 characters of each end). */
export function maskSecret(secret: string): string {
  if (secret.length <= 8) return '*'.repeat(secret.length);
  return `${secret.slice(0, Math.min(6, secret.length - 8))}…${secret.slice(-4)}`;
}

/** A new gateway key: `sk-sb-` and 192 random bits. */
function generateGatewayKey(): string {
  return `sk-sb-${randomBytes(24).toString('base64url')}`;
}

/**
 * Stores a key (its hash and masked form only), a new one unless given; the key itself is returned
 * to be shown once. Used at first start and by `switchboard key add`.
 */
export async function addGatewayKey(db: Kysely<Database>, name: string, key = generateGatewayKey()): Promise<{ id: number; key: string }> {
  const id = await new GatewayKeysRepository(db).create({ name, keyHash: sha256Hex(key), keyPrefix: maskSecret(key) });
  return { id, key };
}

/**
 * How long a stored key, once found, is accepted without asking the database again. Without this,
 * every /v1 request under the generated key (the default setup) ran a synchronous SQLite query on
 * the event loop: ~23 µs of a ~200 µs request (BENCHMARKS.md, gateway section). The price: a key
 * revoked in the database keeps working for up to this long, as LiteLLM's key cache does.
 */
export const STORED_KEY_CACHE_MS = 10_000;
/** Distinct stored keys remembered at once; the least recently used is forgotten first. */
const STORED_KEY_CACHE_SIZE = 10_000;

/**
 * Gateway keys: the seed's `authorization` list from config (compared in constant time) plus
 * keys stored hashed in the database. With neither, one key is generated at first start.
 */
export class GatewayKeys {
  private readonly configured: { hash: string; id: string }[];
  /** Stored keys recently found, by hash (never the key itself); misses are never remembered. */
  private readonly storedHits: BoundedCache<Principal>;
  private readonly repository: GatewayKeysRepository;

  private constructor(
    db: Kysely<Database>,
    configuredKeys: readonly string[],
    storedKeyCacheMs: number,
  ) {
    this.repository = new GatewayKeysRepository(db);
    this.storedHits = new BoundedCache({ maxEntries: STORED_KEY_CACHE_SIZE, ttlMs: storedKeyCacheMs });
    this.configured = configuredKeys.map((key) => {
      const hash = sha256Hex(key);
      return { hash, id: `cfg:${hash.slice(0, 8)}` };
    });
  }

  /** Returns the keys, and the plaintext of a key generated now (to print once), if any. */
  static async open(
    db: Kysely<Database>,
    configuredKeys: readonly string[],
    options: { storedKeyCacheMs?: number } = {},
  ): Promise<{ keys: GatewayKeys; generatedKey?: string }> {
    const keys = new GatewayKeys(db, configuredKeys, options.storedKeyCacheMs ?? STORED_KEY_CACHE_MS);
    if (configuredKeys.length > 0) return { keys };
    // Also after every stored key was revoked: a gateway that starts must have a way in.
    if (await keys.repository.hasLiveKey()) return { keys };
    const { key } = await addGatewayKey(db, 'generated at first start');
    return { keys, generatedKey: key };
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
    const hashHex = sha256Hex(presented);
    let match: string | undefined;
    for (const entry of this.configured) {
      // Compare every entry so timing does not reveal which one matched.
      if (sameDigest(entry.hash, hashHex)) match ??= entry.id;
    }
    if (match) return { kind: 'gateway-key', id: match };
    return this.storedHits.get(hashHex) ?? this.verifyStored(hashHex);
  }

  private async verifyStored(hashHex: string): Promise<Principal | undefined> {
    const id = await this.repository.findLive(hashHex);
    if (id === undefined) return undefined;
    const principal: Principal = { kind: 'gateway-key', id: `key:${id}` };
    this.storedHits.set(hashHex, principal);
    return principal;
  }
}
