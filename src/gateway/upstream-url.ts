/**
 * Where a `/v1/...` request goes on an upstream. An endpoint with its own path prefix
 * (`https://host/api/paas/v4`, `https://api.openai.com/v1`) replaces the client's `/v1`; a bare
 * origin keeps the client's path as is (seed 001 v0.1.0 behaviour).
 */
export function upstreamPath(endpointPath: string, clientPath: string, search: string): string {
  const prefix = endpointPath.replace(/\/+$/, '');
  if (prefix === '') return clientPath + search;
  const rest = clientPath.startsWith('/v1/') ? clientPath.slice(3) : clientPath === '/v1' ? '' : clientPath;
  return prefix + rest + search;
}
