import { createHash, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Principal } from '../gateway/index.js';

/** A browser caller, identified by the `jti` (the `id` passed to /token). */
export interface BrowserPrincipal extends Principal {
  readonly kind: 'browser';
  /** `browser:<jti>`; also the owner of its conversations. */
  readonly id: string;
  readonly jti: string;
}

/** Longest Authorization value we try to verify; a JWT of the seed's two claims is ~200 bytes. */
const MAX_TOKEN_CHARS = 4_096;
/** RFC 8725 §3.1: verify with an explicit allow-list; the seed accepted any HS* algorithm. */
const ALGORITHMS = ['HS256'];
const SECONDS_PER_HOUR = 3_600;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export interface BrowserTokensOptions {
  /** SECRET_KEY; undefined or empty means every key check and every token is refused. */
  readonly secretKey: string | undefined;
  readonly maxTokenHours: number;
}

/**
 * Mints and verifies the short-lived HS256 tokens of seed 003 (SEEDS-SPEC §4.3, §4.2), with the
 * seed's holes closed: the raw SECRET_KEY is not a token, an empty SECRET_KEY refuses everything,
 * `exp` is required and bounded, and the key comparison takes constant time.
 */
export class BrowserTokens {
  private readonly key: Uint8Array | undefined;
  private readonly keyDigest: Buffer | undefined;
  private readonly maxLifetimeSeconds: number;

  constructor(options: BrowserTokensOptions) {
    const secret = options.secretKey ?? '';
    this.key = secret === '' ? undefined : new TextEncoder().encode(secret);
    this.keyDigest = secret === '' ? undefined : digest(secret);
    this.maxLifetimeSeconds = options.maxTokenHours * SECONDS_PER_HOUR;
  }

  /** Constant-time check of a caller's key against SECRET_KEY (hashing first equalises lengths). */
  isSecretKey(candidate: string): boolean {
    if (!this.keyDigest) return false;
    return timingSafeEqual(digest(candidate), this.keyDigest);
  }

  /** Seed claims exactly: `{"exp":now+hours*3600,"jti":id}`, `jti` omitted when id is empty. */
  async issue(id: string, hours: number): Promise<string> {
    if (!this.key) throw new Error('no SECRET_KEY configured');
    const exp = Math.floor(Date.now() / 1000) + hours * SECONDS_PER_HOUR;
    const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setExpirationTime(exp);
    if (id !== '') jwt.setJti(id);
    return jwt.sign(this.key);
  }

  /**
   * The principal for an Authorization value: the token raw (seed) or as `Bearer <token>`.
   * Undefined for anything that is not a valid, unexpired HS256 token with a bounded `exp`.
   */
  async verify(authorization: string | undefined): Promise<BrowserPrincipal | undefined> {
    if (!this.key || authorization === undefined) return undefined;
    const token = /^bearer /i.test(authorization) ? authorization.slice(7).trim() : authorization.trim();
    if (token === '' || token.length > MAX_TOKEN_CHARS) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ALGORITHMS, requiredClaims: ['exp'] });
      const now = Math.floor(Date.now() / 1000);
      // A token minted elsewhere with the key must still respect the /token lifetime cap.
      if (payload.exp === undefined || payload.exp - now > this.maxLifetimeSeconds) return undefined;
      const jti = typeof payload.jti === 'string' ? payload.jti : '';
      return { kind: 'browser', id: `browser:${jti}`, jti };
    } catch {
      return undefined;
    }
  }
}
