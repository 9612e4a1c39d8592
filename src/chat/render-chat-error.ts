import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { publicMessage, toSwitchboardError } from '../platform/errors.js';

/** Error handler of the /api surface: seed 002's `{"error":"<text>"}` with the error's status. */
export async function renderChatError(rawError: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const error = toSwitchboardError(rawError);
  if (error.status >= 500) request.log.error({ err: rawError, code: error.code }, 'request failed');
  else request.log.debug({ code: error.code, message: error.message }, 'request refused');
  if (error.headers) reply.headers(error.headers);
  await reply.code(error.status).type('application/json; charset=utf-8').send({ error: publicMessage(error) });
}
