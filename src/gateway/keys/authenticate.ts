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
  return checkGatewayKey(keys, header);
}

/** `authenticateGatewayKey` that answers without a promise for a key from config; throws when refused. */
export function checkGatewayKey(keys: GatewayKeys, header: string | undefined): Principal | Promise<Principal> {
  if (header?.startsWith('Bearer') !== true) {
    throw new SwitchboardError('forbidden', AUTH_MESSAGES.notBearer, { details: { authFailure: 'not_bearer' } });
  }
  const token = header.slice(6).replace(/^ +| +$/g, '');
  const principal = token ? keys.verifyFast(token) : undefined;
  return principal instanceof Promise ? principal.then(requirePrincipal) : requirePrincipal(principal);
}

function requirePrincipal(principal: Principal | undefined): Principal {
  if (!principal) throw new SwitchboardError('forbidden', AUTH_MESSAGES.wrongKey, { details: { authFailure: 'wrong_key' } });
  return principal;
}

/**
 * onRequest hook factory for /v1: sets request.principal or answers 403 through the error handler.
 * Callback style, so a key from config costs no promise per request.
 */
export function gatewayKeyHook(keys: GatewayKeys, options: { noauth: boolean }) {
  const admit = (request: FastifyRequest, principal: Principal): void => {
    request.principal = principal;
    request.logContext.principal = principal.id;
  };
  return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    if (request.method === 'OPTIONS') return done();
    if (options.noauth) {
      request.principal = { kind: 'anonymous', id: 'noauth' };
      return done();
    }
    let checked: Principal | Promise<Principal>;
    try {
      checked = checkGatewayKey(keys, request.headers.authorization);
    } catch (error) {
      return done(error as Error);
    }
    if (!(checked instanceof Promise)) {
      admit(request, checked);
      return done();
    }
    checked.then(
      (principal) => {
        admit(request, principal);
        done();
      },
      (error: unknown) => done(error as Error),
    );
  };
}
