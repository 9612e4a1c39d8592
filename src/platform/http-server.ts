import type { FastifyInstance } from 'fastify';
import { corsRuleFor } from './cors.js';
import { stripQuery } from './logger.js';

/** Per-request facts the one structured log line carries (STYLE.md §8). */
export interface RequestLogContext {
  principal?: string;
  model?: string;
  target?: string;
  attempts?: number;
  ttfbMs?: number;
  tokens?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    logContext: RequestLogContext;
  }
}

/** Hooks every surface shares: CORS/OPTIONS per seed, and one log line per request. */
export function installHttpBasics(app: FastifyInstance): void {
  app.decorateRequest('logContext', null as unknown as RequestLogContext);
  app.addHook('onRequest', async (request, reply) => {
    request.logContext = {};
    const rule = corsRuleFor(request.url);
    for (const [name, value] of Object.entries(rule.headers)) reply.header(name, value);
    if (request.method === 'OPTIONS' && rule.optionsStatus !== undefined) {
      await reply.code(rule.optionsStatus).send();
    }
  });
  // Seed 001 and 003 answer unknown paths with Go's text 404.
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n'));
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: stripQuery(request.url),
        status: reply.statusCode,
        elapsedMs: Math.round(reply.elapsedTime),
        ...request.logContext,
      },
      'request',
    );
  });
}
