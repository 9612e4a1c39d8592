import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SettingsRepository } from '../db/settings-repository.js';
import { SwitchboardError } from '../platform/errors.js';

/** Settings key of the generated master secret (config_kvs). */
const SECRET_SETTING = 'chat.api_key_secret';
const VERSION = 'v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for secrets stored at rest (a conversation's upstream api_key). The key is derived
 * with HKDF from a generated secret kept in config_kvs; `context` is bound as associated data, so
 * a sealed value copied onto another row does not open.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static async open(settings: SettingsRepository): Promise<SecretBox> {
    const secret = await settings.getOrCreate(SECRET_SETTING, () => randomBytes(32).toString('base64url'));
    return new SecretBox(Buffer.from(hkdfSync('sha256', secret, 'switchboard', 'chat conversation api_key', 32)));
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return VERSION + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  open(sealed: string, context: string): string {
    try {
      if (!sealed.startsWith(VERSION)) throw new Error('unknown sealed-value version');
      const bytes = Buffer.from(sealed.slice(VERSION.length), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new SwitchboardError('internal', 'stored api_key cannot be decrypted (was the chat.api_key_secret setting changed?)', { cause: error, expose: false });
    }
  }
}
