import type { FastifyRequest } from 'fastify';

/** Go's `Query().Get`: the first value of a query parameter, or undefined when absent. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const query = request.query as Record<string, string | string[] | undefined> | null;
  const value = query?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A single header value (the first when repeated). */
export function headerValue(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
