import type { Config } from '../config/schema.js';
import { GatewayKeysRepository, addGatewayKey } from '../gateway/index.js';
import { withStore } from './with-store.js';

function isoTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

/** `switchboard key add [--name N]`: a new gateway key, printed once (only its hash is kept). */
export async function addKey(config: Config, cwd: string, name: string | undefined): Promise<number> {
  const { id, key } = await withStore(config, cwd, (db) => addGatewayKey(db, name?.trim() ? name.trim() : 'added with switchboard key add'));
  console.log(`Added gateway key ${id}. It is shown only now:\n\n    ${key}\n\nSend it as "Authorization: Bearer <key>".`);
  return 0;
}

/** `switchboard key list`: stored keys, masked, with when they were made and revoked. */
export async function listKeys(config: Config, cwd: string): Promise<number> {
  const keys = await withStore(config, cwd, (db) => new GatewayKeysRepository(db).list());
  console.log('ID\tKey\tCreated\tRevoked\tName');
  for (const key of keys) console.log(`${key.id}\t${key.prefix}\t${isoTime(key.createdAt)}\t${isoTime(key.revokedAt)}\t${key.name}`);
  if (config.gateway.authorization?.length) console.log(`(${config.gateway.authorization.length} more from the authorization setting, not stored and not listed)`);
  return 0;
}

/** `switchboard key revoke ID`: a running Switchboard refuses the key within 10 s (its key cache). */
export async function revokeKey(config: Config, cwd: string, id: number): Promise<number> {
  const revoked = await withStore(config, cwd, (db) => new GatewayKeysRepository(db).revoke(id));
  if (!revoked) {
    console.error(`No live gateway key has id ${id} (see switchboard key list).`);
    return 1;
  }
  console.log(`Revoked gateway key ${id}; a running Switchboard refuses it within 10 s.`);
  return 0;
}
