import type { FastifyReply } from 'fastify';
import { redactSecrets } from '../../chat/index.js';
import type { TargetResponse } from '../../gateway/index.js';
import { SseParser } from '../../platform/sse.js';
import { SSE_HEADERS, startRawResponse } from '../raw-response.js';

/** ChatGPT web's stream event (SEEDS-SPEC §4.6 (3)): `parts[0]` is the whole answer so far. */
export function answerEvent(options: { messageId: string; conversationId: string; text: string }): string {
  const event = {
    message: { id: options.messageId, author: { role: 'assistant' }, content: { content_type: 'text', parts: [options.text] } },
    conversation_id: options.conversationId,
    error: null,
  };
  return `data: ${JSON.stringify(event)}\n\n`;
}

function errorEvent(conversationId: string, error: string): string {
  return `data: ${JSON.stringify({ message: null, conversation_id: conversationId, error })}\n\n`;
}

/** The text of one OpenAI chunk, or an in-band error (the gateway's mid-stream failure event). */
function readChunk(data: string): { delta: string; error?: string } {
  try {
    const json = JSON.parse(data) as { choices?: { delta?: { content?: unknown } }[]; error?: { message?: unknown } };
    // RELIABILITY §2.1 API10: an upstream may echo the key it was sent; key-shaped text is masked.
    if (json.error !== undefined) return { delta: '', error: typeof json.error.message === 'string' ? redactSecrets(json.error.message, []) : 'upstream error' };
    const content = json.choices?.[0]?.delta?.content;
    return { delta: typeof content === 'string' ? content : '' };
  } catch {
    return { delta: '' };
  }
}

export interface AnswerStreamOptions {
  readonly reply: FastifyReply;
  /** A 2xx SSE answer of the gateway (OpenAI chunks). */
  readonly response: TargetResponse;
  readonly conversationId: string;
  readonly messageId: string;
  /**
   * Stores the answer (complete, or what arrived before a failure or a stop) and returns the id
   * it was stored under. Not called when an incomplete answer had no text yet.
   */
  readonly store: (text: string) => Promise<string>;
}

/**
 * Turns the gateway's OpenAI stream into ChatGPT web's (cumulative `parts[0]`, one `message.id`,
 * `data: [DONE]` at the end), flushing per chunk. A slow reader pauses the upstream; a reader that
 * leaves cancels it and keeps the part it saw. The answer is stored before the final event, which
 * repeats the whole text under the id it was stored with (the streamed id when the store honours
 * it); a stream that fails ends with an error event and no [DONE] (R1).
 */
export function streamAnswer(options: AnswerStreamOptions): Promise<void> {
  const { reply, response, conversationId } = options;
  if (reply.raw.destroyed) {
    // The client left before the answer started: no close event will come to end this exchange.
    response.body.destroy();
    return Promise.resolve();
  }
  const raw = startRawResponse(reply, { status: 200, headers: SSE_HEADERS, flush: true });
  const body = response.body;
  const parser = new SseParser();
  let text = '';
  let sawDone = false;
  let failure: string | undefined;
  let stored: Promise<string | undefined> | undefined;
  // Stored once, whichever comes first: the end, a failure, or the reader leaving. A complete
  // answer is stored even when empty (a content filter): the client continues from its id.
  const storeOnce = (isComplete: boolean): Promise<string | undefined> => (stored ??= text === '' && !isComplete ? Promise.resolve(undefined) : options.store(text));

  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      resolve();
    };
    const storeFailed = (error: unknown) => reply.log.error({ err: error }, 'storing the answer failed');
    raw.on('close', () => {
      if (raw.writableFinished) return;
      body.destroy();
      // The reader stopped the answer: keep what it saw, so it can continue from that message.
      storeOnce(false).catch(storeFailed).finally(finish);
    });
    raw.on('drain', () => body.resume());
    body.on('data', (chunk: Buffer) => {
      let events;
      try {
        events = parser.push(chunk);
      } catch (error) {
        // An SSE line over the parser's cap: the upstream is not sending what it should.
        body.destroy(error as Error);
        return;
      }
      for (const event of events) {
        if (event.data === '[DONE]') {
          sawDone = true;
          continue;
        }
        const { delta, error } = readChunk(event.data);
        if (error !== undefined) failure = error;
        if (delta === '') continue;
        text += delta;
        if (!raw.write(answerEvent({ messageId: options.messageId, conversationId, text }))) body.pause();
      }
    });
    // Read through a function: the reader may leave while the answer is being stored.
    const isGone = () => raw.destroyed;
    const end = async () => {
      if (isGone()) return;
      const isComplete = sawDone && failure === undefined;
      const storedId = await storeOnce(isComplete);
      if (isGone()) return;
      if (isComplete) {
        raw.end(`${answerEvent({ messageId: storedId ?? options.messageId, conversationId, text })}data: [DONE]\n\n`);
      } else {
        raw.end(errorEvent(conversationId, failure ?? 'The upstream closed the stream before it was complete.'));
      }
    };
    const endAndFinish = () => {
      end().then(finish, (error: unknown) => {
        storeFailed(error);
        if (!isGone()) raw.end(errorEvent(conversationId, 'The answer could not be stored.'));
        finish();
      });
    };
    body.on('end', endAndFinish);
    body.on('error', () => {
      if (isGone()) return;
      failure = 'The upstream failed before the answer was complete.';
      endAndFinish();
    });
  });
}
