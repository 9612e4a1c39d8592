import type { FastifyInstance } from 'fastify';

/** What a lenient scope's body parser yields for a body that is not JSON (each route answers its own 400). */
export const INVALID_BODY = Symbol('invalid body');

/**
 * Seed 002's gin binds any body as JSON whatever its Content-Type, and each route answers bad
 * input with its own 400 text: the scope parses every body as JSON, an empty one as undefined and
 * a malformed one as INVALID_BODY, never failing the request in the parser.
 */
export function useLenientJsonParser(scope: FastifyInstance): void {
  const parseJson = scope.getDefaultJsonParser('error', 'error');
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, String(body), (error, value) => done(null, error ? INVALID_BODY : value));
  });
}
