import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BrowserPrincipal } from '../browser-tokens.js';
import type { ConvAction } from './conv-request.js';

/** One authenticated /conv request. */
export interface ConvContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly principal: BrowserPrincipal;
}

type ActionOf<K extends ConvAction['kind']> = Extract<ConvAction, { kind: K }>;

/**
 * Where /conv is served from: Switchboard's own conversation store and router (the default), or
 * the seed's ChatGPT-web reverse proxy when UNOFFICIAL_PROXY is set. Each answers the reply itself.
 */
export interface ConvBackend {
  list(context: ConvContext, action: ActionOf<'list'>): Promise<void>;
  one(context: ConvContext, action: ActionOf<'one'>): Promise<void>;
  post(context: ConvContext, action: ActionOf<'post'>): Promise<void>;
}
