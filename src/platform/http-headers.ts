/** RFC 9110 §7.6.1: connection-specific headers are never forwarded by a proxy. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** Headers that carry the caller's credentials; they never leave the gateway. */
export const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'x-api-key', 'api-key']);

/** Flattens Node/undici header records to `name → value` with hop-by-hop names removed. */
export function filterHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  drop: ReadonlySet<string> = HOP_BY_HOP,
): Record<string, string> {
  const result: Record<string, string> = {};
  const listed = connectionListed(headers['connection'], drop);
  // for…in, not Object.entries: this runs three times per proxied request (BENCHMARKS.md, gateway).
  for (const name in headers) {
    const value = headers[name];
    const lower = name.toLowerCase();
    if (value === undefined || drop.has(lower) || listed?.has(lower) === true) continue;
    result[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

/** Names listed in `Connection:` are hop-by-hop for this message too (RFC 9110 §7.6.1). */
function connectionListed(value: string | string[] | undefined, drop: ReadonlySet<string>): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  // The usual `Connection: keep-alive` names a header that is dropped anyway: no set to build.
  if (drop.has(text)) return undefined;
  return new Set(text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
}
