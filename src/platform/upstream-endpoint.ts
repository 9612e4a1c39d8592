/**
 * The one rule for an upstream endpoint, wherever it comes from: config.yaml, the admin API or
 * the CLI. Here, not in the gateway, because config/ validates with it and imports no capability.
 */

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

/**
 * The endpoint as it may be shown (a row edited in the database, a config error): the password
 * masked, or the user name when it stands alone, since that is where some clients put a key.
 */
export function displayEndpoint(endpoint: string): string {
  if (!URL.canParse(endpoint)) return endpoint;
  const url = new URL(endpoint);
  if (url.password) url.password = '***';
  else if (url.username) url.username = '***';
  else return endpoint;
  return url.href;
}
