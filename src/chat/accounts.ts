import { SwitchboardError } from '../platform/errors.js';
import type { ChatCache } from './chat-cache.js';
import { CHAT_MESSAGES } from './chat-messages.js';
import type { LoginLimiter } from './login-limiter.js';
import type { Passwords } from './passwords.js';
import type { SessionTokens } from './session-tokens.js';
import type { UsersRepository } from './users-repository.js';

export interface AccountsDeps {
  readonly users: UsersRepository;
  readonly passwords: Passwords;
  readonly tokens: SessionTokens;
  readonly limiter: LoginLimiter;
  readonly cache: ChatCache;
}

/** Registration, login and account deletion (SEEDS-SPEC §3.4, with RELIABILITY §2.1 API2 controls). */
export class Accounts {
  constructor(private readonly deps: AccountsDeps) {}

  /** False when the username is taken. Callers have checked the password length. */
  async register(username: string, password: string): Promise<boolean> {
    const hash = await this.deps.passwords.hash(password);
    return (await this.deps.users.create(username, hash)) !== undefined;
  }

  /**
   * A token for a correct username and password. Failures count per username+IP; past the limit
   * the attempt is refused with 429 before any bcrypt work. An unknown user costs the same bcrypt
   * compare as a known one.
   */
  async login(credentials: { username: string; password: string; ip: string }): Promise<string> {
    const limitKey = `${credentials.username}\u0000${credentials.ip}`;
    const retryAfterMs = this.deps.limiter.retryAfterMs(limitKey);
    if (retryAfterMs > 0) {
      throw new SwitchboardError('rate_limited', CHAT_MESSAGES.tooManyLogins, { headers: { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } });
    }
    const user = await this.deps.users.findByUsername(credentials.username);
    const isValid = await this.deps.passwords.verify(credentials.password, user?.password_hash);
    if (!user || !isValid) {
      this.deps.limiter.recordFailure(limitKey);
      throw new SwitchboardError('unauthorized', CHAT_MESSAGES.badCredentials);
    }
    this.deps.limiter.reset(limitKey);
    return this.deps.tokens.issue(user.id);
  }

  /** Soft-deletes the user; its tokens (cached ones too) stop working at once. */
  async deleteUser(userId: number): Promise<boolean> {
    const deleted = await this.deps.users.softDelete(userId);
    await this.deps.cache.forgetUserTokens(userId);
    return deleted;
  }
}
