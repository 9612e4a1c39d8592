import type { FastifyReply, FastifyRequest } from 'fastify';
import { SwitchboardError } from '../../platform/errors.js';
import type { Principal } from '../target.js';
import type { GatewayKeys } from './gateway-keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** Seed 001 §2.3 messages; tests and clients match on them. */
export const AUTH_MESSAGES = {
  notBearer: "authorization header should start with 'Bearer'",
  wrongKey: 'wrong authorization header',
} as const;

/**
 * Seed 001's check: the header must start with `Bearer` (case-sensitive, no space required),
 * the rest trimmed of spaces must equal one of the keys. Both failures are 403 as in the seed.
 */
export async function authenticateGatewayKey(keys: GatewayKeys, header: string | undefined): Promise<Principal> {
  if (header?.startsWith('Bearer') !== true) {
    throw new SwitchboardError('forbidden', AUTH_MESSAGES.notBearer, { details: { authFailure: 'not_bearer' } });
  }
  const token = header.slice(6).replace(/^ +| +$/g, '');
  const principal = token ? await keys.verify(token) : undefined;
  if (!principal) throw new SwitchboardError('forbidden', AUTH_MESSAGES.wrongKey, { details: { authFailure: 'wrong_key' } });
  return principal;
}

/** onRequest hook factory for /v1: sets request.principal or answers 403 through the error handler. */
export function gatewayKeyHook(keys: GatewayKeys, options: { noauth: boolean }) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (request.method === 'OPTIONS') return;
    if (options.noauth) {
      request.principal = { kind: 'anonymous', id: 'noauth' };
      return;
    }
    request.principal = await authenticateGatewayKey(keys, request.headers.authorization);
    request.logContext.principal = request.principal.id;
  };
}
