import { SseParser, type SseEvent } from '../../src/platform/sse.js';

/** Reads a whole SSE response body into events (and the raw text, for byte-exact checks). */
export async function readSse(response: Response): Promise<{ events: SseEvent[]; text: string }> {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let text = '';
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    events.push(...parser.push(value));
  }
  events.push(...parser.end());
  return { events, text };
}

/** Seed 002's framing: bare JSON objects separated by blank lines. */
export function parseBareJsonBlocks(text: string): any[] {
  return text.split('\n\n').filter((block) => block.trim() !== '').map((block) => JSON.parse(block));
}
