import { SwitchboardError } from '../platform/errors.js';
import { CHAT_MESSAGES } from './chat-messages.js';
import { parseConversationId } from './conversation-ids.js';

export { INVALID_BODY } from '../platform/lenient-json.js';

/** Input limits (RELIABILITY §3.5: a limit on every input). */
export const LIMITS = {
  usernameChars: 128,
  titleChars: 1_000,
  apiKeyChars: 1_024,
} as const;

/** Model names end up in broker subjects and headers: a conservative alphabet (RELIABILITY §3.5). */
const MODEL_NAME = /^[\w.:/@+-]{1,128}$/;

export function badRequest(message: string): SwitchboardError {
  return new SwitchboardError('bad_request', message);
}

function fieldsOf(body: unknown): Record<string, unknown> | undefined {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

/** NUL ends a C string (bcrypt would hash a password only up to it) and PostgreSQL refuses it in text. */
function hasNul(text: string): boolean {
  return text.includes('\0');
}

function nonEmptyString(value: unknown, maxChars: number): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= maxChars && !hasNul(value) ? value : undefined;
}

/** `{"username","password"}`, both required and non-empty (seed: 400 `Invalid input`). */
export function readCredentials(body: unknown): { username: string; password: string } {
  const fields = fieldsOf(body);
  const username = nonEmptyString(fields?.['username'], LIMITS.usernameChars);
  // Any length here: the 72-byte rule has its own message.
  const password = nonEmptyString(fields?.['password'], Number.MAX_SAFE_INTEGER);
  if (username === undefined || password === undefined) throw badRequest(CHAT_MESSAGES.invalidInput);
  return { username, password };
}

/** `{"title","model","api_key"?}` (seed: 400 `Invalid request`; api_key made optional). */
export function readNewConversation(body: unknown): { title: string; model: string; apiKey: string | undefined } {
  const fields = fieldsOf(body);
  const title = nonEmptyString(fields?.['title'], LIMITS.titleChars);
  const model = nonEmptyString(fields?.['model'], 128);
  const apiKey = fields?.['api_key'];
  const isApiKeyValid = apiKey === undefined || apiKey === null || (typeof apiKey === 'string' && apiKey.length <= LIMITS.apiKeyChars);
  if (title === undefined || model === undefined || !MODEL_NAME.test(model) || !isApiKeyValid) throw badRequest(CHAT_MESSAGES.invalidRequest);
  return { title, model, apiKey: typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined };
}

/** `{"message"}` required (seed: 400 `Invalid request body`). */
export function readChatMessage(body: unknown, maxChars: number): string {
  const message = fieldsOf(body)?.['message'];
  if (typeof message !== 'string' || message === '') throw badRequest(CHAT_MESSAGES.invalidRequestBody);
  if (message.length > maxChars) throw badRequest(`message is too long (at most ${maxChars} characters)`);
  if (hasNul(message)) throw badRequest('message must not contain NUL characters');
  return message;
}

/** The `:conversation_id` path parameter (seed: 400 `Invalid conversation ID` unless an integer). */
export function readConversationId(params: unknown): number {
  const text = (params as Record<string, unknown> | undefined)?.['conversation_id'];
  const id = typeof text === 'string' ? parseConversationId(text) : undefined;
  if (id === undefined) throw badRequest(CHAT_MESSAGES.invalidConversationId);
  return id;
}
