import type { FastifyInstance } from 'fastify';
import { corsRuleFor } from './cors.js';
import { isInfoEnabled, stripQuery } from './logger.js';

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
  // Callback-style hooks: an async hook costs a promise and a microtask hop on every request.
  app.addHook('onRequest', (request, reply, done) => {
    request.logContext = {};
    const rule = corsRuleFor(request.url);
    for (const [name, value] of rule.headerEntries) reply.header(name, value);
    if (request.method === 'OPTIONS' && rule.optionsStatus !== undefined) {
      void reply.code(rule.optionsStatus).send();
      return;
    }
    done();
  });
  // Seed 001 and 003 answer unknown paths with Go's text 404.
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('404 page not found\n'));
  app.addHook('onResponse', (request, reply, done) => {
    // The line is built only when it will be written (the bench and many deployments log at warn).
    if (isInfoEnabled(request.log)) {
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
    }
    done();
  });
}
