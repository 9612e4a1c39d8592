import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { shuttingDownError, type LiveExchanges } from './live-exchanges.js';
import { openAiErrorBody } from './openai-errors.js';
import { openAiPath } from './proxy.js';

/** In-flight requests get the drain budget minus this reserve; the reserve covers the last flush. */
export function drainDeadlineMs(drainTimeoutMs: number): number {
  return Math.max(0, drainTimeoutMs - Math.min(2_000, drainTimeoutMs / 4));
}

/** How often connections that carry no request are looked for while draining. */
const SWEEP_MS = 100;

/** Node sets `_httpMessage` on a socket while a response is being produced on it. */
const isBusy = (socket: Socket) => (socket as Socket & { _httpMessage?: unknown })._httpMessage != null;

/**
 * Node's server.close() reaps idle keep-alive sockets once, and stops its headersTimeout checks;
 * a socket that has sent nothing yet (a pre-connect, a slowloris) or turns idle after that would
 * hold the close forever. While draining, such sockets are closed as they appear.
 */
function sweepIdleSockets(app: FastifyInstance): () => void {
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let timer: NodeJS.Timeout | undefined;
  return () => {
    const sweep = () => {
      for (const socket of sockets) if (!isBusy(socket)) socket.destroy();
    };
    sweep();
    timer ??= setInterval(sweep, SWEEP_MS);
    timer.unref();
    app.server.once('close', () => clearInterval(timer));
  };
}

/** How often a graceful stop looks whether the exchanges in flight have settled. */
const SETTLED_POLL_MS = 25;

/**
 * Resolves once no exchange is in flight, or at `deadlineMs` after ending those still running.
 * Polled, so the request path carries no drain bookkeeping.
 */
async function settleExchanges(live: LiveExchanges, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (live.size > 0) {
    if (Date.now() >= deadline) {
      live.endAll('shutdown');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(SETTLED_POLL_MS, deadline - Date.now())));
  }
}

/**
 * Graceful stop (RELIABILITY F19): once Fastify starts closing, new requests get a 503 in their
 * surface's shape and /health fails; requests in flight may finish until the drain deadline, then
 * the rest are ended cleanly (error event / 503) so their records are written before exit.
 */
export function installDrain(app: FastifyInstance, deps: { config: Config; live: LiveExchanges }): void {
  const startSweeping = sweepIdleSockets(app);
  app.addHook('preClose', async () => {
    deps.live.isDraining = true;
    // The listener stays open until the exchanges in flight have settled: a worker-fleet answer
    // arrives as a new request (/res, /res/ws) that may need a new connection, and new clients
    // get the 503 + Retry-After below rather than a refused connection.
    await settleExchanges(deps.live, drainDeadlineMs(deps.config.server.drainTimeoutMs));
    // After Fastify's own close steps have run in this tick.
    setImmediate(startSweeping);
  });
  // Callback style: while not draining this costs one check, not a promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    if (!deps.live.isDraining || request.routeOptions.config.servedWhileDraining === true) {
      done();
      return;
    }
    const refusal = shuttingDownError();
    void reply.code(refusal.status).headers(refusal.headers ?? {}).type('application/json');
    const { path } = openAiPath(request.url);
    if (path.startsWith('/v1/') || path === '/v1') {
      void reply.send(openAiErrorBody(refusal));
    } else {
      // Other surfaces keep Fastify's own drain answer (return503OnClosing), unchanged.
      void reply.send({ error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 });
    }
  });
}
