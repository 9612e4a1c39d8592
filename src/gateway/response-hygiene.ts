import { validateHeaderName, validateHeaderValue } from 'node:http';
import { maskSecret } from './keys/gateway-keys.js';
import type { Target } from './target.js';

/** A credential and the text that replaces it wherever an upstream reflects it. */
export interface Credential {
  readonly secret: string;
  readonly mask: string;
}

/** Keys shorter than this are test placeholders; masking them would mangle ordinary text. */
const MIN_MASKED_SECRET = 8;

/** The upstream credentials this call carried, to be masked in a reflected error body. */
export function credentialsOf(callKey: string | undefined, target: Target): Credential[] {
  const targetKey = 'apiKey' in target && typeof target.apiKey === 'string' ? target.apiKey : undefined;
  const credentials: Credential[] = [];
  if (callKey !== undefined && callKey.length >= MIN_MASKED_SECRET) credentials.push(credentialFor(callKey));
  if (targetKey !== undefined && targetKey !== callKey && targetKey.length >= MIN_MASKED_SECRET) credentials.push(credentialFor(targetKey));
  return credentials;
}

/** Masks of the few keys in use, made once each instead of on every response. */
const CREDENTIALS = new Map<string, Credential>();
const MAX_CREDENTIALS = 64;

function credentialFor(secret: string): Credential {
  let credential = CREDENTIALS.get(secret);
  if (!credential) {
    if (CREDENTIALS.size >= MAX_CREDENTIALS) CREDENTIALS.clear();
    credential = { secret, mask: maskSecret(secret) };
    CREDENTIALS.set(secret, credential);
  }
  return credential;
}

/** Response headers with our credentials masked (an upstream may echo them in any header). */
function maskHeaders(headers: Readonly<Record<string, string>>, credentials: readonly Credential[]): Readonly<Record<string, string>> {
  if (credentials.length === 0) return headers;
  let masked: Record<string, string> | undefined;
  for (const name in headers) {
    const value = headers[name] ?? '';
    for (const { secret, mask } of credentials) {
      if (!value.includes(secret)) continue;
      masked ??= { ...headers };
      // Header values must stay ASCII-safe: the body mask's ellipsis would be refused by Node.
      masked[name] = (masked[name] ?? value).replaceAll(secret, mask.replace('…', '...'));
    }
  }
  return masked ?? headers;
}

/**
 * Drops what Node would refuse to send (CR/LF/NUL in a value, a bad name): an upstream header
 * must never be able to throw inside the relay, where it would take the process down (API10).
 */
function sendableHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  // Checked in place first: every response pays for this, and almost none has a bad header.
  for (const name in headers) {
    if (!isSendable(name, headers[name] ?? '')) return Object.fromEntries(Object.entries(headers).filter(([key, value]) => isSendable(key, value)));
  }
  return headers;
}

function isSendable(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

function withoutContentLength(headers: Readonly<Record<string, string>>): Record<string, string> {
  const { 'content-length': _length, ...rest } = headers;
  return rest;
}

/**
 * What an upstream's response headers become before they reach a client: our credentials masked,
 * unsendable headers dropped, and Content-Length dropped when the body is going to be rewritten.
 */
export function clientHeaders(headers: Readonly<Record<string, string>>, options: { credentials: readonly Credential[]; dropLength: boolean }): Readonly<Record<string, string>> {
  return sendableHeaders(maskHeaders(options.dropLength ? withoutContentLength(headers) : headers, options.credentials));
}
