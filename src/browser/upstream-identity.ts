import type { BrowserPrincipal } from './browser-tokens.js';

/** Printable ASCII: what every HTTP stack sends as a header value unchanged. */
const PLAIN_HEADER_VALUE = /^[\x20-\x7e]*$/;

/**
 * Seed 003 forwards the token's `jti` upstream as `Userid` so an upstream can attribute usage
 * (SEEDS-SPEC §4.2); a token minted without an id carries none. An id outside printable ASCII
 * (a CJK name, a control character) is percent-encoded rather than breaking the upstream call.
 */
export function upstreamIdentity(principal: BrowserPrincipal): Record<string, string> | undefined {
  if (principal.jti === '') return undefined;
  return { userid: PLAIN_HEADER_VALUE.test(principal.jti) ? principal.jti : encodeURIComponent(principal.jti) };
}
