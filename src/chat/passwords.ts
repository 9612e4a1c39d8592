import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';

/** bcrypt reads at most 72 bytes and silently ignores the rest, so longer passwords are refused. */
export const MAX_PASSWORD_BYTES = 72;

export function isPasswordTooLong(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
}

/**
 * bcrypt hashing at the configured cost. `verify` always runs one compare, against a throw-away
 * hash when the user is unknown, so response time does not tell which usernames exist.
 */
export class Passwords {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly cost: number) {}

  hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cost);
  }

  async verify(password: string, hash: string | undefined): Promise<boolean> {
    this.dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), this.cost);
    const matches = await bcrypt.compare(password, hash ?? (await this.dummyHash));
    return hash !== undefined && matches;
  }
}
