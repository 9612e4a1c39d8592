import { isUtf8 } from 'node:buffer';
import { SwitchboardError } from '../platform/errors.js';
import { SEED_MESSAGES } from './openai-errors.js';

/** Model names end up in broker subjects and headers; anything else is refused before routing. */
const MODEL_NAME = /^[\w.:/@+-]{1,128}$/;

export interface ReadBody {
  readonly json: Record<string, unknown> | undefined;
  readonly model: string | undefined;
}

/** The seed's message and code; `param` names a field of the wrong type, as OpenAI's errors do. */
function invalidJson(param?: string): SwitchboardError {
  return new SwitchboardError('invalid_json', SEED_MESSAGES.invalidJson, param === undefined ? {} : { param });
}

/**
 * Reads only what routing needs (STYLE.md §2: validate what you read, pass through what you
 * don't): `model` must be a string and `stream` a boolean or null, as seed 000 checks.
 */
export function readProxyBody(body: Buffer, contentType: string): ReadBody {
  if (body.length === 0) return { json: undefined, model: undefined };
  if (contentType.startsWith('multipart/form-data')) return { json: undefined, model: checkModel(multipartField(body, 'model')) };
  if (!contentType.includes('json') && contentType !== '') return { json: undefined, model: undefined };
  // Invalid UTF-8 is refused, not replaced with U+FFFD; isUtf8 checks it natively without a decoder per request.
  if (!isUtf8(body)) throw invalidJson();
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidJson();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidJson();
  const json = value as Record<string, unknown>;
  const { model, stream } = json;
  if (model !== undefined && typeof model !== 'string') throw invalidJson('model');
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw invalidJson('stream');
  return { json, model: checkModel(model) };
}

function checkModel(model: string | undefined): string | undefined {
  if (model === undefined || MODEL_NAME.test(model)) return model;
  throw new SwitchboardError('bad_request', 'The model name may only contain letters, digits and . _ : / @ + - (at most 128).', { param: 'model' });
}

/** The value of a small text field in a multipart body (audio uploads name their model there). */
function multipartField(body: Buffer, name: string): string | undefined {
  const head = body.subarray(0, 64 * 1024).toString('latin1');
  const match = new RegExp(`name="${name}"\\r\\n(?:[^\\r\\n]+\\r\\n)*\\r\\n([^\\r\\n]{0,256})\\r\\n`).exec(head);
  return match?.[1];
}
