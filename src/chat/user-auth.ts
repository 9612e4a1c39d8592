import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCache } from './chat-cache.js';
import { CHAT_MESSAGES } from './chat-messages.js';
import type { SessionTokens } from './session-tokens.js';
import type { UsersRepository } from './users-repository.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The chat user, set by the user auth hook on /api routes. */
    userId: number | undefined;
  }
}

/** Why a request was refused: the seed's 401 text (SEEDS-SPEC §3.3). */
export type AuthFailure = typeof CHAT_MESSAGES.headerMissing | typeof CHAT_MESSAGES.invalidTokenFormat | typeof CHAT_MESSAGES.invalidToken;

export type AuthResult = { readonly ok: true; readonly userId: number } | { readonly ok: false; readonly error: AuthFailure };

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Seed 002's middleware (SEEDS-SPEC §3.3) with its holes closed: the token must verify with our
 * secret and HS256 only, and its user must still exist. Verified tokens are cached by SHA-256
 * (not the raw token); a cache failure just means verifying again, never a 500.
 */
export class UserAuth {
  constructor(private readonly deps: { readonly tokens: SessionTokens; readonly users: UsersRepository; readonly cache: ChatCache }) {}

  async authenticate(header: string | undefined): Promise<AuthResult> {
    if (header === undefined || header === '') return { ok: false, error: CHAT_MESSAGES.headerMissing };
    if (!header.startsWith('Bearer ')) return { ok: false, error: CHAT_MESSAGES.invalidTokenFormat };
    const token = header.slice('Bearer '.length);
    const tokenHash = sha256Hex(token);
    const cached = await this.deps.cache.getTokenUser(tokenHash);
    if (cached !== undefined) return { ok: true, userId: cached };
    const verified = await this.deps.tokens.verify(token);
    if (!verified || !(await this.deps.users.isActive(verified.userId))) return { ok: false, error: CHAT_MESSAGES.invalidToken };
    await this.deps.cache.putToken({ tokenHash, userId: verified.userId, ttlMs: verified.exp * 1000 - Date.now() });
    return { ok: true, userId: verified.userId };
  }
}

/**
 * onRequest hook for /api routes (chat, RAG): sets `request.principal` ({kind:'user',
 * id:'user:<id>'}) and `request.userId`, or answers 401 `{"error":"…"}` itself, so it works under
 * any plugin's error handler.
 */
export function createUserAuthHook(auth: UserAuth) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method === 'OPTIONS') return;
    const result = await auth.authenticate(request.headers.authorization);
    if (!result.ok) {
      request.logContext.principal = 'anonymous';
      await reply.code(401).type('application/json; charset=utf-8').send({ error: result.error });
      return;
    }
    request.userId = result.userId;
    request.principal = { kind: 'user', id: `user:${result.userId}` };
    request.logContext.principal = request.principal.id;
  };
}
