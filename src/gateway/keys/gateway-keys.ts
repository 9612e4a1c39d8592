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
 * Whether a presented key is this configured key, in time that depends only on the configured
 * key's length: never on where they differ, nor on the presented key's length (a key of another
 * length is compared with the configured key itself, and refused).
 */
function sameSecret(presented: string, expected: string): boolean {
  const isSameLength = presented.length === expected.length;
  const other = isSameLength ? presented : expected;
  let difference = isSameLength ? 0 : 1;
  for (let index = 0; index < expected.length; index++) difference |= expected.charCodeAt(index) ^ other.charCodeAt(index);
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
  /** Keys from config, compared as they are; their principals are made once. */
  private readonly configured: { key: string; principal: Principal }[];
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
    this.configured = configuredKeys.map((key) => ({ key, principal: { kind: 'gateway-key', id: `cfg:${sha256Hex(key).slice(0, 8)}` } }));
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
    let match: Principal | undefined;
    for (const entry of this.configured) {
      // Compare every entry so timing does not reveal which one matched.
      if (sameSecret(presented, entry.key)) match ??= entry.principal;
    }
    if (match) return match;
    // Stored keys are looked up by their hash. Configured keys are not hashed per request: this
    // method with its one-shot SHA-256 was 1.4 % of the main thread's on-CPU samples under load (perf).
    const hashHex = sha256Hex(presented);
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
