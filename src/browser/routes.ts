import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Gateway } from '../gateway/index.js';
import { renderBrowserError } from './browser-errors.js';
import { BrowserTokens } from './browser-tokens.js';
import { registerChatRoute } from './chat-route.js';
import type { ConvBackend } from './conv/conv-backend.js';
import { registerConvRoute } from './conv/conv-route.js';
import { ConversationLocks } from './conv/conversation-locks.js';
import type { ConversationStore } from './conv/conversation-store.js';
import { LocalConversations } from './conv/local-conversations.js';
import { UnofficialProxyConversations } from './conv/unofficial-proxy.js';
import { registerEventRoute } from './event-route.js';
import { FailureLimiter } from './failure-limiter.js';
import { registerTokenRoute } from './token-route.js';
import { registerWebPageRoutes } from './web-page-routes.js';

/** What app.ts hands the browser capability. */
export interface BrowserDeps {
  readonly config: Config;
  readonly gateway: Gateway;
  /** Chat's ConversationsRepository: /conv shares the chat backend's message tree. */
  readonly conversations: ConversationStore;
  readonly log: FastifyBaseLogger;
}

/** `-clear` at start (SEEDS-SPEC §4.1); a failure is logged, the server still starts. */
async function clearAtStart(backend: UnofficialProxyConversations, log: FastifyBaseLogger): Promise<void> {
  try {
    const status = await backend.hideAll();
    log.info({ status }, '-clear: asked the unofficial proxy to hide every conversation');
  } catch (error) {
    log.warn({ err: error }, '-clear: the unofficial proxy could not be reached');
  }
}

async function createConvBackend(deps: BrowserDeps, scope: FastifyInstance): Promise<ConvBackend> {
  const settings = deps.config.browser;
  const locks = new ConversationLocks();
  if (settings.unofficialProxy === undefined) {
    if (settings.clear) deps.log.info('-clear only applies to UNOFFICIAL_PROXY; the local conversation store is left as is');
    return new LocalConversations({ store: deps.conversations, gateway: deps.gateway, locks, multi: settings.multi, model: settings.defaultModel });
  }
  const proxy = new UnofficialProxyConversations({
    host: settings.unofficialProxy,
    accessToken: settings.accessToken,
    locks,
    multi: settings.multi,
    timeouts: deps.config.gateway.timeouts,
  });
  scope.addHook('onClose', () => proxy.close());
  if (settings.clear) await clearAtStart(proxy, deps.log);
  return proxy;
}

/**
 * Seed 003's surface (SEEDS-SPEC §4) on the shared server: /token, /event, /chat, /conv and the
 * chat page, in one encapsulated plugin so its body parser and error shapes stay its own.
 */
export async function registerBrowser(app: FastifyInstance, deps: BrowserDeps): Promise<void> {
  const settings = deps.config.browser;
  if (settings.secretKey === undefined) deps.log.warn('SECRET_KEY is not set: /token, /chat and /conv refuse every request');
  const tokens = new BrowserTokens({ secretKey: settings.secretKey, maxTokenHours: settings.maxTokenHours });
  await app.register(async (scope) => {
    // Bodies stay Buffers: /chat reads only the fields the seed reads, /conv parses its own.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.config.server.bodyLimitBytes }, (_request, body, done) => {
      done(null, body);
    });
    scope.setErrorHandler(renderBrowserError);
    registerTokenRoute(scope, { tokens, failures: new FailureLimiter(settings.tokenFailuresPerMinute), maxTokenHours: settings.maxTokenHours });
    registerEventRoute(scope, { intervalMs: settings.eventIntervalMs });
    registerChatRoute(scope, { gateway: deps.gateway, tokens });
    registerConvRoute(scope, { tokens, backend: await createConvBackend(deps, scope) });
    registerWebPageRoutes(scope);
  });
}
