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
  const listed = connectionListed(headers['connection']);
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || drop.has(lower) || listed.has(lower)) continue;
    result[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

/** Names listed in `Connection:` are hop-by-hop for this message too (RFC 9110 §7.6.1). */
function connectionListed(value: string | string[] | undefined): Set<string> {
  if (value === undefined) return new Set();
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
}
