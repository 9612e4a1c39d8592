import type { Readable } from 'node:stream';
import { maskSecret } from '../gateway/index.js';
import { SwitchboardError, publicMessage } from '../platform/errors.js';

/** Most of an upstream error body quoted back to the client. */
const MAX_QUOTED_CHARS = 2048;
/** Bytes read from a failed upstream body before we stop listening. */
const MAX_READ_BYTES = 64 * 1024;
/** Key-looking strings an upstream may echo (OpenAI-style `sk-…`, bearer tokens). */
const KEY_PATTERN = /\bsk-[A-Za-z0-9_-]{8,}|\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g;

/** Replaces every known secret and anything shaped like an API key by its masked form. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let redacted = text;
  for (const secret of secrets) if (secret.length > 0) redacted = redacted.split(secret).join(maskSecret(secret));
  return redacted.replace(KEY_PATTERN, (match) => maskSecret(match));
}

async function readCapped(body: Readable): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      parts.push(buffer);
      size += buffer.length;
      if (size >= MAX_READ_BYTES) break;
    }
  } catch {
    // A body that fails half-way still tells us what it said so far.
  }
  body.destroy();
  return Buffer.concat(parts).toString('utf8');
}

/**
 * SEEDS-SPEC §3.5 step 6: a non-200 upstream answer before any stream byte is 500
 * `{"error":"unexpected response status: <upstream body>"}`; we quote the body shortened and with
 * secrets masked (RELIABILITY §2.1 API10: an upstream may echo our key).
 */
export async function unexpectedStatusError(body: Readable, secrets: readonly string[]): Promise<SwitchboardError> {
  const text = redactSecrets((await readCapped(body)).trim(), secrets);
  const quoted = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return new SwitchboardError('upstream_error', `unexpected response status: ${quoted}`, { status: 500 });
}

/**
 * The gateway could not start the call (no target, every attempt failed, timeout). The seed
 * answered 500 `unsupported keyword: <model>` when it had no URL for a model; we keep the 500 and
 * say what happened.
 */
export function forwardFailedError(error: unknown, model: string): SwitchboardError {
  if (error instanceof SwitchboardError && error.code === 'model_not_found') {
    return new SwitchboardError('upstream_error', `unsupported model: ${model} (no upstream or worker serves it)`, { status: 500, cause: error });
  }
  const reason = error instanceof SwitchboardError ? publicMessage(error) : 'Internal server error';
  return new SwitchboardError('upstream_error', `upstream request failed: ${reason}`, { status: 500, cause: error });
}
