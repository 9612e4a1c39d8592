import type { FastifyInstance } from 'fastify';
import { hasDotSegment } from './dot-segments.js';
import { gatewayKeyHook } from './keys/authenticate.js';
import type { GatewayKeys } from './keys/gateway-keys.js';
import type { ModelCatalog } from './model-catalog.js';
import { renderOpenAiError } from './openai-errors.js';
import { handleProxyRequest, type InFlightLimiter } from './proxy.js';
import type { ExchangeDeps } from './exchange.js';
import { SwitchboardError } from '../platform/errors.js';
import { isInfoEnabled } from '../platform/logger.js';

export interface ProxyRoutesDeps extends ExchangeDeps {
  readonly keys: GatewayKeys;
  readonly catalog: ModelCatalog;
  readonly limiter: InFlightLimiter;
  readonly noauth: boolean;
  readonly bodyLimitBytes: number;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Registered under /v1 and /api/v1 (seed 000's base URL): every OpenAI endpoint is forwarded; bodies stay raw
 * Buffers (no framework JSON parse on the hot path); errors in OpenAI's shape.
 */
export async function registerProxyRoutes(app: FastifyInstance, deps: ProxyRoutesDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimitBytes }, (_request, body, done) => {
    done(null, body);
  });
  app.setErrorHandler(renderOpenAiError);
  app.setNotFoundHandler(async (request) => {
    throw new SwitchboardError('not_found', `Unknown path ${request.method} ${request.url.split('?')[0] ?? ''}`);
  });
  app.addHook('onRequest', gatewayKeyHook(deps.keys, { noauth: deps.noauth }));

  const modelObject = (id: string) => ({ id, object: 'model', created: 0, owned_by: 'switchboard' });
  app.get('/models', async () => ({ object: 'list', data: (await deps.catalog.list()).map(modelObject) }));
  // OpenAI's GET /models/{model} (the SDKs' models.retrieve) is answered from the same list: it has
  // no model in its body, so the router would send it only to upstreams that declare no models,
  // and an alias or a fleet model means nothing to an upstream. A wildcard, as ids may hold `/`.
  app.get<{ Params: { '*': string } }>('/models/*', async (request) => {
    const model = request.params['*'];
    if (!(await deps.catalog.list()).includes(model)) {
      throw new SwitchboardError('model_not_found', `The model \`${model}\` does not exist or no upstream serves it.`, { param: 'model' });
    }
    return modelObject(model);
  });
  app.route({
    method: [...METHODS],
    url: '/*',
    handler: async (request, reply) => {
      // The raw lane leaves every URL that may hold one to this route (proxy-lane.ts).
      if (hasDotSegment(request.url)) throw new SwitchboardError('bad_request', 'The path must not contain "." or ".." segments.');
      return handleProxyRequest(
        deps,
        { id: request.id, method: request.method, url: request.url, headers: request.headers, body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0), ip: request.ip, principal: request.principal, logContext: request.logContext, writesLogLine: isInfoEnabled(request.log) },
        {
          raw: reply.raw,
          takeOver: () => {
            reply.hijack();
            return reply.getHeaders();
          },
        },
      );
    },
  });
}
