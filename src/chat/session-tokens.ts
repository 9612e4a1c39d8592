import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { SettingsRepository } from '../db/settings-repository.js';
import { SEED_SAMPLE_JWT_SECRET } from '../config/chat-schema.js';

/** Allowed clock difference between instances (RELIABILITY §4: 30 s skew). */
const CLOCK_TOLERANCE_S = 30;
/** Our tokens are ~150 characters; anything far longer is refused before any crypto. */
const MAX_TOKEN_CHARS = 4096;
/** Settings key of the generated secret (config_kvs). */
const SECRET_SETTING = 'chat.jwt_secret';

export interface VerifiedToken {
  readonly userId: number;
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

/**
 * Seed 002's user tokens (SEEDS-SPEC §3.3): HS256, header `{"alg":"HS256","typ":"JWT"}`, payload
 * exactly `{"exp","user_id"}`. Verification pins the algorithm and requires `exp`.
 */
export class SessionTokens {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly ttlMs: number) {
    this.key = new TextEncoder().encode(secret);
  }

  /** The configured secret, or one generated once and kept in config_kvs (shared by every instance). */
  static async open(options: { secret: string | undefined; ttlMs: number; settings: SettingsRepository }): Promise<SessionTokens> {
    if (options.secret === SEED_SAMPLE_JWT_SECRET) {
      throw new Error('chat.jwtSecret (jwt.secret, JWT_SECRET) is the sample secret published with seed 002; set a random value or unset it to have one generated');
    }
    const secret = options.secret ?? (await options.settings.getOrCreate(SECRET_SETTING, () => randomBytes(32).toString('base64url')));
    return new SessionTokens(secret, options.ttlMs);
  }

  issue(userId: number, nowMs = Date.now()): Promise<string> {
    const exp = Math.floor((nowMs + this.ttlMs) / 1000);
    // Key order as the seed's sorted Go map: exp, then user_id.
    return new SignJWT({ exp, user_id: userId }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(this.key);
  }

  /** The token's user and expiry, or undefined for anything not signed by us, expired or malformed. */
  async verify(token: string): Promise<VerifiedToken | undefined> {
    if (token.length === 0 || token.length > MAX_TOKEN_CHARS) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], requiredClaims: ['exp'], clockTolerance: CLOCK_TOLERANCE_S });
      const userId = payload['user_id'];
      if (typeof userId !== 'number' || !Number.isSafeInteger(userId) || userId <= 0 || payload.exp === undefined) return undefined;
      return { userId, exp: payload.exp };
    } catch {
      return undefined;
    }
  }
}
