/** Checks and display of the two seed 001 upstream fields, `SK` and `Endpoint`. */

/** Whether a key can go out as `Authorization: Bearer <sk>` (no control characters). */
export function isHeaderSafe(sk: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  return !/[\u0000-\u001f\u007f]/.test(sk);
}

/**
 * Why an endpoint cannot be used, or undefined. Credentials in the URL are refused: the target
 * connects to the URL's origin and sends the key as a Bearer header, so they would be dropped
 * silently, and the endpoint is listed in clear.
 */
export function endpointProblem(endpoint: string): string | undefined {
  if (!URL.canParse(endpoint)) return 'Endpoint must be an http(s) URL';
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Endpoint must be an http(s) URL';
  if (url.username || url.password) return 'Endpoint must not contain credentials; put the key in SK';
  return undefined;
}

/** The endpoint as it may be shown: a password in it (a row edited in the database) masked. */
export function displayEndpoint(endpoint: string): string {
  if (!URL.canParse(endpoint)) return endpoint;
  const url = new URL(endpoint);
  if (!url.password) return endpoint;
  url.password = '***';
  return url.href;
}
