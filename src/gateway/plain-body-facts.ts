import { parseJson, readUsage, responsesOutputText, type Usage } from './usage-tap.js';

/** Most response text a record keeps (256 K characters). */
export const MAX_RECORD_TEXT_CHARS = 256 * 1024;

/** What a record keeps of a plain (non-SSE) answer: its usage block and its text. */
export interface PlainBodyFacts {
  readonly usage: Usage | undefined;
  readonly text: string;
}

/** Usage and text of a whole JSON answer: a chat or completions answer, or a Responses API one. */
export function plainBodyFacts(body: string, maxCaptureChars: number): PlainBodyFacts {
  const json = parseJson(body);
  if (!json) return { usage: undefined, text: '' };
  const choices = json['choices'] as { message?: { content?: unknown }; text?: unknown }[] | undefined;
  const choice = choices?.[0];
  // Without choices it may be a Responses API answer, whose text is in `output`.
  const content = choices === undefined ? responsesOutputText(json['output']) : (choice?.message?.content ?? choice?.text);
  return { usage: readUsage(json['usage']), text: typeof content === 'string' ? content.slice(0, maxCaptureChars) : '' };
}

/** A byte above 0x7F: only then do the latin1 and UTF-8 readings of the bytes differ. */
const NON_ASCII = /[\x80-\xff]/;

/** `plainBodyFacts` of an answer kept as a latin1 string, byte for byte (body-tap.ts, `unparsedBody`). */
export function unparsedBodyFacts(latin1: string, maxCaptureChars: number): PlainBodyFacts {
  // An ASCII answer (most are) reads the same either way: no conversion.
  const text = NON_ASCII.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
  return plainBodyFacts(text, maxCaptureChars);
}
