import { Readable } from 'node:stream';
import type { TargetResponse } from '../../gateway/index.js';
import { readCappedText } from '../../platform/read-capped.js';

/** Largest JSON completion read from an upstream that ignored `stream: true`. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

const sseEvent = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;

function contentOf(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] };
    const content = json.choices?.[0]?.message?.content;
    return typeof content === 'string' ? content : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Some OpenAI-compatible servers answer `stream: true` with one JSON completion. The browser
 * client only reads ChatGPT-web events, so the completion is replayed as a one-chunk OpenAI stream
 * and goes through streamAnswer like any other answer: same events, same storage. A body without
 * message content becomes an in-band error, which streamAnswer ends without [DONE] (R1).
 */
export async function completionAsStream(response: TargetResponse): Promise<TargetResponse> {
  let events: string[];
  try {
    const text = await readCappedText(response.body, MAX_JSON_BYTES);
    const content = text === undefined ? undefined : contentOf(text);
    events =
      content !== undefined
        ? [sseEvent({ choices: [{ index: 0, delta: { content } }] }), 'data: [DONE]\n\n']
        : [sseEvent({ error: { message: text === undefined ? 'The upstream answer is too long.' : 'The upstream answer has no message content.' } })];
  } catch {
    events = [sseEvent({ error: { message: 'The upstream failed before the answer was complete.' } })];
  }
  return { ...response, headers: { ...response.headers, 'content-type': 'text/event-stream' }, body: Readable.from(events) };
}
