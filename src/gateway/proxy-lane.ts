import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { corsRuleFor } from '../platform/cors.js';
import { writeRequestLine, type RequestLogContext } from '../platform/http-server.js';
import { lazyChildLogger } from '../platform/lazy-child-logger.js';
import { isInfoEnabled } from '../platform/logger.js';
import { newRequestId } from '../platform/request-id.js';
import { checkGatewayKey } from './keys/authenticate.js';
import { shuttingDownError } from './live-exchanges.js';
import type { GatewayKeys } from './keys/gateway-keys.js';
import { sendOpenAiError } from './openai-errors.js';
import { handleProxyRequest, type InFlightLimiter } from './proxy.js';
import type { ExchangeDeps } from './exchange.js';
import type { Principal } from './target.js';

export interface ProxyLaneDeps extends ExchangeDeps {
  readonly keys: GatewayKeys;
  readonly limiter: InFlightLimiter;
  readonly noauth: boolean;
  readonly bodyLimitBytes: number;
}

/** Answers a request itself (true) or leaves it to Fastify (false). */
export type Lane = (request: IncomingMessage, response: ServerResponse) => boolean;

const LANE_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** A percent-escape, a backslash or a possible dot-segment: left to the Fastify route, which refuses traversal (dot-segments.ts). */
const LEFT_TO_FASTIFY = /[%\\]|\/\./;

/**
 * The proxied /v1 and /api/v1 requests: the same routes the Fastify scope registers as `/*`
 * (routes.ts), minus what that scope answers itself (`GET …/models` and `GET …/models/*`), minus
 * URLs with percent-escapes, backslashes or dot-segments, whose decoding and refusal stay Fastify's.
 */
function isProxied(method: string, url: string): boolean {
  if (!LANE_METHODS.has(method) || LEFT_TO_FASTIFY.test(url)) return false;
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const rest = path.startsWith('/v1/') ? path.slice(3) : path.startsWith('/api/v1/') ? path.slice(7) : undefined;
  return rest !== undefined && !(method === 'GET' && (rest === '/models' || rest.startsWith('/models/')));
}

/** Fastify's own body-limit error, so toSwitchboardError renders it exactly as on the Fastify route. */
function bodyTooLarge(): Error {
  return Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
}

/**
 * The raw node:http way in for proxied /v1 requests, ahead of Fastify (app.ts wires it through
 * Fastify's serverFactory). Fastify's request and reply objects, its hook chain and its body
 * parser cost about a sixth of the CPU of a proxied request (BENCHMARKS.md, gateway section);
 * here the same steps run in the same order, each through the function the Fastify route uses:
 * the drain refusal, CORS headers, the request id (the client's x-request-id or a new one), the
 * gateway key, the body limit, handleProxyRequest, errors in OpenAI's shape, one log line.
 * Everything else, and every request injected in-process, still takes the Fastify route.
 */
export function createProxyLane(deps: ProxyLaneDeps): Lane {
  const rootLog = deps.log;
  return (request, response) => {
    const method = request.method ?? 'GET';
    const url = request.url ?? '/';
    if (!isProxied(method, url)) return false;
    const startedAt = performance.now();
    const headerId = request.headers['x-request-id'];
    const id = typeof headerId === 'string' && headerId !== '' ? headerId : newRequestId();
    // The request's logger (bound to its id, as Fastify's request.log) is built only for a line it writes.
    const requestLog = () => lazyChildLogger(rootLog, { reqId: id }, {});
    const logContext: RequestLogContext = {};
    const cors = corsRuleFor(url).headers;
    const writesLogLine = isInfoEnabled(rootLog);
    if (writesLogLine) {
      // On `close`, not `finish`: a client that leaves before its answer is done gets its line too (499, as its record).
      response.once('close', () => {
        const status = response.writableFinished ? response.statusCode : 499;
        writeRequestLine(requestLog(), { method, url, status, elapsedMs: performance.now() - startedAt }, logContext);
      });
    }
    const fail = (error: unknown) => sendOpenAiError(requestLog(), error, { raw: response, setHeaders: cors });

    if (deps.live.isDraining) {
      fail(shuttingDownError());
      return true;
    }
    let principal: Principal | Promise<Principal>;
    try {
      principal = deps.noauth ? { kind: 'anonymous', id: 'noauth' } : checkGatewayKey(deps.keys, request.headers.authorization);
    } catch (error) {
      fail(error);
      return true;
    }
    // As on the Fastify route: the key is checked (onRequest) before the body is read.
    const admit = (admitted: Principal) => {
      if (!deps.noauth) logContext.principal = admitted.id;
      readBody(request, deps.bodyLimitBytes, (error, body) => {
        if (error) return fail(error);
        const proxied = { id, method, url, headers: request.headers, body, ip: request.socket.remoteAddress ?? '', principal: admitted, logContext, writesLogLine };
        handleProxyRequest(deps, proxied, { raw: response, takeOver: () => cors }).catch(fail);
      });
    };
    if (principal instanceof Promise) principal.then(admit, fail);
    else admit(principal);
    return true;
  };
}

/**
 * The request body as one Buffer, refused past `limit` (up front from Content-Length, or as it
 * arrives). A client that goes away mid-body gets no answer: its socket is already gone.
 */
function readBody(request: IncomingMessage, limit: number, done: (error: Error | undefined, body: Buffer) => void): void {
  // Fastify parses no body on a GET; whatever a client sent with one is dropped there too.
  if (request.method === 'GET') {
    request.resume();
    return done(undefined, Buffer.alloc(0));
  }
  const declared = Number(request.headers['content-length']);
  if (declared > limit) {
    request.resume();
    return done(bodyTooLarge(), Buffer.alloc(0));
  }
  const parts: Buffer[] = [];
  let received = 0;
  let refused = false;
  request.on('data', (chunk: Buffer) => {
    if (refused) return;
    received += chunk.length;
    if (received > limit) {
      refused = true;
      parts.length = 0;
      return done(bodyTooLarge(), Buffer.alloc(0));
    }
    parts.push(chunk);
  });
  request.once('end', () => {
    if (refused) return;
    done(undefined, parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, received));
  });
}
