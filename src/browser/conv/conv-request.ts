import type { FastifyRequest } from 'fastify';
import { SwitchboardError } from '../../platform/errors.js';
import { headerValue, queryParam } from '../request-params.js';

/** What a /conv request asks for, from its `Chat-Type` header (SEEDS-SPEC §4.6). */
export type ConvAction =
  | { readonly kind: 'list'; readonly limit: number; readonly offset: number }
  | { readonly kind: 'one'; readonly conversationId: string }
  | { readonly kind: 'post'; readonly body: PostBody };

export interface PostBody {
  readonly content: string;
  /** Empty when the client starts a new conversation. */
  readonly parentMessageId: string;
  readonly conversationId: string;
}

/** The seed's CONVERSATION_NUM: the listing size when `limit` is absent. */
export const DEFAULT_LIST_LIMIT = 5;
/** ChatGPT's backend-api also refuses pages above 100. */
const MAX_LIST_LIMIT = 100;
const MAX_OFFSET = 1_000_000;
/** Conversation and message ids are opaque strings to clients: ours are integers and UUIDs. */
const ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

const badRequest = (message: string) => new SwitchboardError('bad_request', message);

function listNumber(request: FastifyRequest, options: { name: string; fallback: number; max: number }): number {
  const text = queryParam(request, options.name);
  if (text === undefined) return options.fallback;
  if (!/^\d{1,7}$/.test(text)) throw badRequest(`${options.name} must be a non-negative integer`);
  const value = Number(text);
  if (value > options.max) throw badRequest(`${options.name} must be at most ${options.max}`);
  return value;
}

function optionalId(value: unknown, name: string): string {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) throw badRequest(`${name} must be an id string`);
  return value;
}

function parsePostBody(body: unknown): PostBody {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '');
  } catch {
    throw new SwitchboardError('invalid_json', 'the body must be JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRequest('the body must be a JSON object');
  const fields = json as Record<string, unknown>;
  if (typeof fields['content'] !== 'string' || fields['content'].trim() === '') throw badRequest('content must be a non-empty string');
  // PostgreSQL refuses NUL in text; the question is stored before it is answered.
  if (fields['content'].includes('\0')) throw badRequest('content must not contain NUL characters');
  return {
    content: fields['content'],
    parentMessageId: optionalId(fields['parent_message_id'], 'parent_message_id'),
    conversationId: optionalId(fields['conversation_id'], 'conversation_id'),
  };
}

/**
 * Reads the `Chat-Type` header (case-insensitive name, as any HTTP header) and the matching
 * inputs. The seed forwarded any Chat-Type as a path on the unofficial proxy (SEEDS-SPEC §4.6
 * [Security]); only the three the ChatGPT-web client uses are accepted, anything else is 400.
 */
export function readConvAction(request: FastifyRequest): ConvAction {
  const chatType = headerValue(request, 'chat-type')?.trim();
  if (chatType === undefined || chatType === '') throw badRequest('the Chat-Type header is required');
  if (request.method === 'POST') {
    if (chatType !== 'conversation') throw badRequest('POST /conv takes Chat-Type: conversation');
    return { kind: 'post', body: parsePostBody(request.body) };
  }
  if (chatType === 'conversations') {
    return {
      kind: 'list',
      limit: listNumber(request, { name: 'limit', fallback: DEFAULT_LIST_LIMIT, max: MAX_LIST_LIMIT }),
      offset: listNumber(request, { name: 'offset', fallback: 0, max: MAX_OFFSET }),
    };
  }
  const match = /^conversation\/(.+)$/.exec(chatType);
  if (match?.[1] === undefined || !ID_PATTERN.test(match[1])) throw badRequest('unknown Chat-Type');
  return { kind: 'one', conversationId: match[1] };
}
