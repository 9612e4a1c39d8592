import type { Gateway, TargetResponse } from '../gateway/index.js';
import type { BrowserPrincipal } from './browser-tokens.js';
import { upstreamIdentity } from './upstream-identity.js';

export interface BrowserChatCall {
  readonly body: Record<string, unknown>;
  readonly principal: BrowserPrincipal;
  readonly ip: string;
  /** Aborted when the client leaves; an already aborted one makes the gateway call no target. */
  readonly signal: AbortSignal;
}

/**
 * A browser user's chat completion through the gateway (/chat and /conv alike), with the token's
 * identity forwarded upstream. Undefined when the client's own leaving cancelled the call:
 * nothing failed on our side, so there is no error to report or log.
 */
export async function forwardBrowserChat(gateway: Gateway, call: BrowserChatCall): Promise<TargetResponse | undefined> {
  try {
    return await gateway.forward({
      path: '/v1/chat/completions',
      body: call.body,
      principal: { kind: 'browser', id: call.principal.id },
      headers: upstreamIdentity(call.principal),
      ip: call.ip,
      signal: call.signal,
    });
  } catch (error) {
    if (call.signal.aborted) return undefined;
    throw error;
  }
}
