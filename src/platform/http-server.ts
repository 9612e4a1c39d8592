import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
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
  interface FastifyContextConfig {
    /**
     * Served during a graceful stop instead of refused with 503: where answers to requests still
     * in flight arrive (the worker fleet's /res and /res/ws).
     */
    servedWhileDraining?: boolean;
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
    writeRequestLine(request.log, { method: request.method, url: request.url, status: reply.statusCode, elapsedMs: reply.elapsedTime }, request.logContext);
    done();
  });
}

/** The one line per request (STYLE.md §8), also written by the raw /v1 lane (gateway/proxy-lane.ts). */
export function writeRequestLine(log: FastifyBaseLogger, request: { method: string; url: string; status: number; elapsedMs: number }, context: RequestLogContext): void {
  // The line is built only when it will be written (the bench and many deployments log at warn).
  if (!isInfoEnabled(log)) return;
  log.info({ method: request.method, url: stripQuery(request.url), status: request.status, elapsedMs: Math.round(request.elapsedMs), ...context }, 'request');
}

/**
 * Fastify's `serverFactory`: the HTTP/1 server Fastify would build, with `lane` asked first for
 * each request (gateway/proxy-lane.ts); what it does not take goes to Fastify's handler.
 */
export function serverWithLane(handler: RequestListener, settings: Readonly<Record<string, unknown>>, lane: (request: IncomingMessage, response: ServerResponse) => boolean): Server {
  const server = createServer((request, response) => {
    if (!lane(request, response)) handler(request, response);
  });
  // What Fastify applies to a server it creates itself (its options arrive here with defaults filled in).
  const setting = (name: string) => (typeof settings[name] === 'number' ? settings[name] : undefined);
  server.keepAliveTimeout = setting('keepAliveTimeout') ?? server.keepAliveTimeout;
  server.requestTimeout = setting('requestTimeout') ?? server.requestTimeout;
  server.setTimeout(setting('connectionTimeout') ?? 0);
  const maxRequests = setting('maxRequestsPerSocket') ?? 0;
  if (maxRequests > 0) server.maxRequestsPerSocket = maxRequests;
  return server;
}
