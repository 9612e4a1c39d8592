import type { FastifyRequest } from 'fastify';
import { SwitchboardError } from '../platform/errors.js';
import type { BrowserPrincipal, BrowserTokens } from './browser-tokens.js';
import { headerValue } from './request-params.js';

/**
 * SEEDS-SPEC §4.2 Auth for /chat and /conv: a token from /token, raw or as `Bearer <token>`;
 * anything else is 403 with an empty body. OPTIONS never gets here (platform/cors.ts answers it).
 */
export async function requirePrincipal(request: FastifyRequest, tokens: BrowserTokens): Promise<BrowserPrincipal> {
  const principal = await tokens.verify(headerValue(request, 'authorization'));
  if (!principal) throw new SwitchboardError('forbidden', 'a valid token from /token is required');
  request.logContext.principal = principal.id;
  return principal;
}
