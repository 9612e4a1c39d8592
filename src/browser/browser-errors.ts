import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { openAiErrorBody } from '../gateway/index.js';
import { publicMessage, toSwitchboardError, type SwitchboardError } from '../platform/errors.js';

/** Go's http.Error: the text plus a newline, as text/plain with nosniff (SEEDS-SPEC §4.3). */
async function sendGoText(reply: FastifyReply, error: SwitchboardError): Promise<void> {
  await reply
    .code(error.status)
    .header('x-content-type-options', 'nosniff')
    .type('text/plain; charset=utf-8')
    .send(`${publicMessage(error)}\n`);
}

/**
 * The one error renderer of the browser surface, in each route's seed shape (SEEDS-SPEC §5):
 * 403 is always empty (§4.2), `/token` answers Go's plain text, `/chat` OpenAI's JSON (its
 * clients read OpenAI bodies), `/conv` and `/event` empty bodies for 4xx as the seed, and
 * `{"detail"}` (ChatGPT web's error shape) for our own 5xx and for the router's refusals, so a
 * failure never looks like an empty 502.
 */
export async function renderBrowserError(rawError: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const error = toSwitchboardError(rawError);
  if (error.status >= 500) request.log.error({ err: rawError, code: error.code }, 'browser request failed');
  else request.log.debug({ code: error.code, message: error.message }, 'browser request refused');
  if (error.headers) reply.headers(error.headers);
  const route = request.routeOptions.url ?? '';
  // SEEDS-SPEC §4.2: a refused token is 403 with an empty body on every route.
  if (error.status === 403) {
    await reply.code(403).send();
    return;
  }
  if (route === '/chat') {
    await reply.code(error.status).type('application/json').send(openAiErrorBody(error));
    return;
  }
  if (route === '/token') {
    await sendGoText(reply, error);
    return;
  }
  if (error.status < 500 && error.details?.['showDetail'] !== true) {
    await reply.code(error.status).send();
    return;
  }
  await reply.code(error.status).type('application/json').send({ detail: publicMessage(error) });
}
