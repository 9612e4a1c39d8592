import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { SseParser } from '../platform/sse.js';
import { redactSecrets } from './upstream-failure.js';

/** SEEDS-SPEC §3.5 [REC]: one bare JSON object per event, keys `event` then `data`, then a blank line. */
export function bareJsonBlock(event: string, data: string): string {
  return `${JSON.stringify({ event, data })}\n\n`;
}

/** Longest answer relayed and stored; a runaway upstream is cut off here. */
const MAX_ANSWER_CHARS = 1024 * 1024;
/** Largest non-stream JSON answer read (an upstream that ignored `stream: true`). */
const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** How the upstream's answer ended. */
export type AnswerEnding = 'complete' | 'client_closed' | 'failed';

export interface RelayedAnswer {
  /** Every content piece relayed, concatenated. */
  readonly text: string;
  readonly ending: AnswerEnding;
  /** Why a `failed` answer failed; safe to show. */
  readonly reason?: string;
}

export interface RelayOptions {
  readonly body: Readable;
  readonly isSse: boolean;
  readonly raw: ServerResponse;
  /** True once the client has closed its connection. */
  readonly isClientGone: () => boolean;
  /** Keys the upstream may echo in an in-band error; masked before the client sees it. */
  readonly secrets: readonly string[];
}

/** Writes with back-pressure: waits for `drain` (or the client leaving) when the socket is full. */
async function write(raw: ServerResponse, block: string): Promise<void> {
  if (raw.destroyed || raw.writableEnded) return;
  if (raw.write(block)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}

type Chunk = { kind: 'pieces'; pieces: string[]; finished: boolean } | { kind: 'done' } | { kind: 'unparsable'; message: string } | { kind: 'error'; message: string };

/** Reads one `data:` payload of an OpenAI chat stream. */
function readChunk(data: string): Chunk {
  if (data.trim() === '[DONE]') return { kind: 'done' };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (error) {
    return { kind: 'unparsable', message: (error as Error).message };
  }
  const object = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const choices = Array.isArray(object['choices']) ? (object['choices'] as unknown[]) : undefined;
  if (!choices && object['error'] !== undefined) {
    const detail: unknown = object['error'];
    const message = typeof detail === 'object' && detail !== null ? (detail as Record<string, unknown>)['message'] : detail;
    return { kind: 'error', message: typeof message === 'string' ? message : 'the upstream reported an error' };
  }
  const pieces: string[] = [];
  let finished = false;
  for (const choice of choices ?? []) {
    const entry = (choice ?? {}) as { delta?: { content?: unknown }; finish_reason?: unknown };
    // Seed: every choice becomes a message event, even the role-only first chunk ("").
    pieces.push(typeof entry.delta?.content === 'string' ? entry.delta.content : '');
    if (typeof entry.finish_reason === 'string') finished = true;
  }
  return { kind: 'pieces', pieces, finished };
}

/**
 * Relays an upstream chat stream as seed 002 `message` events (SEEDS-SPEC §3.5 step 7) and
 * reports how it ended. An answer is complete once `[DONE]` or a `finish_reason` arrived and the
 * body ended cleanly; the caller writes `done`/`full_response` and stores it.
 */
export async function relayAnswer(options: RelayOptions): Promise<RelayedAnswer> {
  if (!options.isSse) return relayJsonAnswer(options);
  const { raw, body } = options;
  const parser = new SseParser();
  let text = '';
  let isFinished = false;
  try {
    for await (const bytes of body) {
      for (const event of parser.push(bytes as Buffer)) {
        if (isFinished && event.data.trim() !== '[DONE]') continue;
        const chunk = readChunk(event.data);
        if (chunk.kind === 'done') isFinished = true;
        else if (chunk.kind === 'unparsable') await write(raw, bareJsonBlock('error', `Failed to unmarshal SSE data: ${chunk.message}`));
        // RELIABILITY §2.1 API10, as before the stream (upstream-failure.ts): an upstream may echo our key.
        else if (chunk.kind === 'error') return failAndStop(body, { text, reason: `upstream error: ${redactSecrets(chunk.message, options.secrets)}` });
        else {
          for (const piece of chunk.pieces) {
            text += piece;
            await write(raw, bareJsonBlock('message', piece));
          }
          if (text.length > MAX_ANSWER_CHARS) return failAndStop(body, { text, reason: 'the answer is too long' });
          isFinished ||= chunk.finished;
        }
      }
    }
  } catch {
    return { text, ending: options.isClientGone() ? 'client_closed' : 'failed', reason: 'the upstream connection failed mid-stream' };
  }
  if (options.isClientGone()) return { text, ending: 'client_closed' };
  return isFinished ? { text, ending: 'complete' } : { text, ending: 'failed', reason: 'the upstream closed the stream before it was complete' };
}

function failAndStop(body: Readable, failure: { text: string; reason: string }): RelayedAnswer {
  body.destroy();
  return { text: failure.text, ending: 'failed', reason: failure.reason };
}

/** An upstream that answered `stream: true` with one JSON completion: relay it as one message. */
async function relayJsonAnswer(options: RelayOptions): Promise<RelayedAnswer> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const bytes of options.body) {
      const buffer = bytes as Buffer;
      size += buffer.length;
      if (size > MAX_JSON_BYTES) return failAndStop(options.body, { text: '', reason: 'the answer is too long' });
      parts.push(buffer);
    }
  } catch {
    return { text: '', ending: options.isClientGone() ? 'client_closed' : 'failed', reason: 'the upstream connection failed mid-answer' };
  }
  let content: unknown;
  try {
    const json = JSON.parse(Buffer.concat(parts).toString('utf8')) as { choices?: { message?: { content?: unknown } }[] };
    content = json.choices?.[0]?.message?.content;
  } catch {
    content = undefined;
  }
  if (typeof content !== 'string') return { text: '', ending: 'failed', reason: 'the upstream answer has no message content' };
  await write(options.raw, bareJsonBlock('message', content));
  return { text: content, ending: options.isClientGone() ? 'client_closed' : 'complete' };
}
