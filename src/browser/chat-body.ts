import { SwitchboardError } from '../platform/errors.js';

/** The only fields seed 003 forwards (SEEDS-SPEC §4.5), in its key order. */
export interface ReducedChatBody {
  readonly model: string;
  readonly stream: boolean;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
}

function invalid(message: string, param?: string): SwitchboardError {
  return new SwitchboardError('bad_request', message, param === undefined ? {} : { param });
}

function reduceMessage(value: unknown, index: number): { role: string; content: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`messages[${index}] must be an object`, `messages.${index}`);
  }
  const { role, content } = value as Record<string, unknown>;
  if (typeof role !== 'string' || role === '') throw invalid(`messages[${index}].role must be a non-empty string`, `messages.${index}.role`);
  if (typeof content !== 'string') throw invalid(`messages[${index}].content must be a string`, `messages.${index}.content`);
  return { role, content };
}

/**
 * Reduces a /chat body to `{model, stream, messages:[{role, content}]}` like the seed, dropping
 * every other field. Where the seed silently forwarded an empty request (invalid JSON, wrong
 * types), we answer 400 in OpenAI's shape instead.
 */
export function reduceChatBody(body: Buffer): ReducedChatBody {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SwitchboardError('invalid_json', 'We could not parse the JSON body of your request.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('The request body must be a JSON object.');
  const { model, stream, messages } = json as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') throw invalid('model must be a non-empty string', 'model');
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw invalid('stream must be a boolean', 'stream');
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages must be a non-empty array', 'messages');
  return { model, stream: stream === true, messages: messages.map(reduceMessage) };
}
