import type { FastifyReply, FastifyRequest } from 'fastify';
import { SwitchboardError } from '../../platform/errors.js';
import { RAG_MESSAGES } from '../rag-messages.js';
import type { RagCaller } from '../rag-service.js';

export { INVALID_BODY } from '../../platform/lenient-json.js';

/** Longest id, name or query accepted (ours: RELIABILITY §3.5, a limit on every input). */
export const FIELD_LIMITS = { idChars: 128, nameChars: 200, modelChars: 128, queryChars: 8_000, messageChars: 32_000 } as const;

export const invalidParams = () => new SwitchboardError('bad_request', RAG_MESSAGES.invalidParams);

/** The JSON body as an object, or 400 `无效的请求参数` (gin's ShouldBindJSON failure). */
export function bodyFields(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidParams();
  return body as Record<string, unknown>;
}

/**
 * gin `binding:"required"` on a string: present and non-empty. Also without NUL, here and in
 * optionalText: the text is stored or searched, and PostgreSQL refuses NUL in text.
 */
export function requiredText(fields: Record<string, unknown>, name: string, maxChars: number): string {
  const value = fields[name];
  if (typeof value !== 'string' || value === '' || value.length > maxChars || value.includes('\0')) throw invalidParams();
  return value;
}

export function optionalText(fields: Record<string, unknown>, name: string, maxChars: number): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > maxChars || value.includes('\0')) throw invalidParams();
  return value;
}

/**
 * `top_k`: an optional integer (≤ 0 means the default, SEEDS-SPEC §3.7). The seed binds it into a
 * Go `int`, which refuses a fraction or an out-of-range number with 无效的请求参数.
 */
export function optionalTopK(fields: Record<string, unknown>): number | undefined {
  const value = fields['top_k'];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalidParams();
  return value;
}

/**
 * `/chat`'s `conversation_id`: the seed's `int64` with `binding:"required"`, so a fraction or 0 is
 * 无效的请求参数; a negative id can name no conversation of ours and is refused here too.
 */
export function requiredConversationId(fields: Record<string, unknown>): number {
  const value = fields['conversation_id'];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw invalidParams();
  return value;
}

/** The authenticated user (set by chat's auth hook); the seed's 401 `未授权` if it is missing. */
export function callerOf(request: FastifyRequest, reply: FastifyReply): RagCaller {
  const { userId, principal } = request;
  if (userId === undefined || principal?.kind !== 'user') throw new SwitchboardError('unauthorized', RAG_MESSAGES.unauthorized);
  // A client that goes away cancels parsing's follow-up work: embedding calls and retrieval.
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { userId, principal, signal: controller.signal };
}

/** float32 as Go prints it (the seed's `score` is a float32): ~7 significant digits. */
export function float32(value: number): number {
  return Number(Math.fround(value).toPrecision(7));
}
