import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SwitchboardError, publicMessage, toSwitchboardError } from '../../platform/errors.js';
import { RAG_MESSAGES } from '../rag-messages.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** SEEDS-SPEC §3.7: the Chinese prefix of this endpoint's 500 messages. */
    ragErrorPrefix?: string;
  }
}

/** @fastify/multipart's limit errors, and busboy's framing errors (which carry no code). */
function multipartError(error: FastifyError, maxUploadBytes: number): SwitchboardError | undefined {
  switch (error.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new SwitchboardError('payload_too_large', RAG_MESSAGES.fileTooLarge(maxUploadBytes));
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new SwitchboardError('payload_too_large', RAG_MESSAGES.tooManyParts);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_NO_FORM_DATA':
      return new SwitchboardError('bad_request', RAG_MESSAGES.missingKbId);
  }
  if (error.statusCode === undefined && /multipart|boundary|end of form|part header|malformed/i.test(error.message)) {
    return new SwitchboardError('bad_request', RAG_MESSAGES.badBoundary);
  }
  return undefined;
}

interface Limits {
  readonly maxUploadBytes: number;
  /** The route's JSON body limit (server.bodyLimitBytes); uploads have maxUploadBytes instead. */
  readonly bodyLimitBytes: number;
}

function ragErrorOf(error: FastifyError | Error, limits: Limits): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  const fromMultipart = multipartError(error as FastifyError, limits.maxUploadBytes);
  if (fromMultipart) return fromMultipart;
  const generic = toSwitchboardError(error);
  // gin's bind failures: every framework 4xx other than 413 is the seed's 无效的请求参数.
  if (generic.status >= 400 && generic.status < 500 && generic.status !== 413) return new SwitchboardError('bad_request', RAG_MESSAGES.invalidParams, { cause: error });
  // A file over its limit is caught above (FST_REQ_FILE_TOO_LARGE); this is a JSON body over the body limit.
  if (generic.status === 413) return new SwitchboardError('payload_too_large', RAG_MESSAGES.bodyTooLarge(limits.bodyLimitBytes), { cause: error });
  return generic;
}

/** The /api/rag error handler: seed 002's `{"error":"…"}`, 5xx texts prefixed per endpoint. */
export function createRagErrorRenderer(options: { maxUploadBytes: number }) {
  return async (rawError: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const error = ragErrorOf(rawError, { maxUploadBytes: options.maxUploadBytes, bodyLimitBytes: request.routeOptions.bodyLimit });
    const message = publicMessage(error);
    const prefix = request.routeOptions.config.ragErrorPrefix;
    if (error.status >= 500) request.log.error({ err: rawError, code: error.code }, 'rag request failed');
    else request.log.debug({ code: error.code, message }, 'rag request refused');
    if (reply.sent || reply.raw.headersSent) return;
    const text = error.status >= 500 && prefix !== undefined ? `${prefix}: ${message}` : message;
    await reply.code(error.status).type('application/json; charset=utf-8').send({ error: text });
  };
}
