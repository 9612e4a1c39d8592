import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { SwitchboardError } from '../platform/errors.js';
import type { RequestLogContext } from '../platform/http-server.js';
import { CREDENTIAL_HEADERS, HOP_BY_HOP, filterHeaders } from '../platform/http-headers.js';
import { clientCloseSignal } from './client-signal.js';
import { startExchange, type ExchangeDeps } from './exchange.js';
import { relayToClient, type SetHeaders } from './relay.js';
import { readProxyBody } from './request-body.js';
import type { Principal } from './target.js';

const DROP_FROM_CLIENT = new Set([...HOP_BY_HOP, ...CREDENTIAL_HEADERS]);

/** Admission control: beyond the limit requests are shed at once (RELIABILITY R7). */
export class InFlightLimiter {
  current = 0;
  constructor(private readonly max: number) {}

  tryEnter(): boolean {
    if (this.current >= this.max) return false;
    this.current++;
    return true;
  }

  leave(): void {
    this.current = Math.max(0, this.current - 1);
  }
}

/** `/api/v1/x` (seed 000's base URL) is the same endpoint as `/v1/x`. */
export function openAiPath(url: string): { path: string; search: string } {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const search = query === -1 ? '' : url.slice(query);
  return { path: path.startsWith('/api/v1') ? path.slice(4) : path, search };
}

/** A /v1 request as both ways in hand it over: Fastify's route and the raw lane (proxy-lane.ts). */
export interface ProxyRequest {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly ip: string;
  readonly principal: Principal | undefined;
  readonly logContext: RequestLogContext;
  /** The request's log line will be written (info level): only then are its tokens gathered for it. */
  readonly writesLogLine: boolean;
}

/** Where the answer goes once a target answered; errors before that are thrown to the caller. */
export interface ProxyClient {
  readonly raw: ServerResponse;
  /** Takes the response over from whatever rendered errors so far; returns the headers set on it already (CORS). */
  takeOver(): SetHeaders;
}

/** POST/GET/… /v1/*: read model and stream, route, forward with failover, relay, record. */
export async function handleProxyRequest(deps: ExchangeDeps & { limiter: InFlightLimiter }, request: ProxyRequest, client: ProxyClient): Promise<void> {
  if (!deps.limiter.tryEnter()) {
    throw new SwitchboardError('overloaded', 'Switchboard is at its in-flight limit; retry shortly.', { headers: { 'retry-after': '1' } });
  }
  deps.budget.inFlight++;
  // Released when the client's response closes (the relay calls it), or here when no relay started.
  let isReleased = false;
  const release = () => {
    if (isReleased) return;
    isReleased = true;
    deps.limiter.leave();
    deps.budget.inFlight--;
  };
  try {
    const { body } = request;
    const contentType = request.headers['content-type'] ?? '';
    const { json, model } = readProxyBody(body, contentType);
    const { path, search } = openAiPath(request.url);
    request.logContext.model = model;
    const exchange = await startExchange(
      deps,
      {
        requestId: request.id,
        // Both ways in take the id from x-request-id when the client sent one (app.ts, proxy-lane.ts).
        clientRequestId: request.headers['x-request-id'] === request.id ? request.id : undefined,
        method: request.method,
        path,
        search,
        headers: filterHeaders(request.headers, DROP_FROM_CLIENT),
        body,
        json,
        model,
        principal: request.principal ?? { kind: 'anonymous', id: 'anonymous' },
        ip: request.ip,
      },
      // A client that leaves while we still wait for the target cancels it too.
      clientCloseSignal(client.raw),
    );
    Object.assign(request.logContext, { target: exchange.target.id, attempts: exchange.attempts, ttfbMs: exchange.ttfbMs });
    // Ahead of the relay's own `end` listener, which ends the response: the request's log line is
    // written when the response finishes, and it carries the tokens. Only when that line is
    // written at all: at `warn` this is one listener per request for nothing.
    if (request.writesLogLine) {
      exchange.body.once('end', () => {
        const tokens = exchange.body.usage?.totalTokens;
        if (tokens !== undefined) request.logContext.tokens = tokens;
      });
    }
    relayToClient({ raw: client.raw, setHeaders: client.takeOver(), onClose: release }, exchange, { maxBufferedBytes: deps.config.maxBufferedBytes, clientStallMs: deps.config.timeouts.clientStallMs });
  } catch (error) {
    release();
    throw error;
  }
}
