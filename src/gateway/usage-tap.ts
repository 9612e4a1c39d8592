import { SseLineTooLongError, SseParser, type SseEvent } from '../platform/sse.js';
import { BodyTap } from './body-tap.js';
import type { BodySource } from './target.js';

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

export interface UsageTapOptions {
  /** Drop the usage-only chunk we asked for when the client did not ask for it. */
  readonly stripUsageChunk: boolean;
  /** An SSE stream that ends without `[DONE]` is an upstream failure (RELIABILITY F8). */
  readonly expectDone: boolean;
  /** Most response text kept for the record. */
  readonly maxCaptureChars: number;
}

/** Replaces every occurrence of each secret in `buffer` with its mask. */
export function maskSecrets(buffer: Buffer, secrets: readonly { readonly secret: string; readonly mask: string }[]): Buffer {
  let result = buffer;
  for (const { secret, mask } of secrets) {
    if (result.indexOf(secret) === -1) continue;
    const parts: Buffer[] = [];
    let start = 0;
    for (let found = result.indexOf(secret); found !== -1; found = result.indexOf(secret, start)) {
      parts.push(result.subarray(start, found), Buffer.from(mask));
      start = found + Buffer.byteLength(secret);
    }
    parts.push(result.subarray(start));
    result = Buffer.concat(parts);
  }
  return result;
}

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/g;
/** The SSE parser's own line cap; one event held back whole may not grow past it either (F9). */
const MAX_EVENT_BYTES = 4 * 1024 * 1024;

/** The records' token columns are 32-bit integers on PostgreSQL. */
const MAX_TOKENS = 2_147_483_647;

function isTokenCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_TOKENS;
}

/**
 * An upstream's `usage`, or undefined unless every count is a whole number of tokens. Anything
 * else (12.5, -1, 1e12) is not a count, and PostgreSQL refused the record holding it, failing its
 * whole batch on every retry and holding back every record after it.
 */
export function readUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  // The Responses API (/v1/responses) names them input and output tokens.
  const prompt = Number(usage['prompt_tokens'] ?? usage['input_tokens'] ?? 0);
  const completion = Number(usage['completion_tokens'] ?? usage['output_tokens'] ?? 0);
  const total = Number(usage['total_tokens'] ?? prompt + completion);
  return isTokenCount(prompt) && isTokenCount(completion) && isTokenCount(total) ? { promptTokens: prompt, completionTokens: completion, totalTokens: total } : undefined;
}

/** The text of a Responses API answer: its messages' `output_text` parts, in order. */
export function responsesOutputText(output: unknown): string | undefined {
  if (!Array.isArray(output)) return undefined;
  let text = '';
  for (const item of output as unknown[]) {
    const { type, content } = (item ?? {}) as { type?: unknown; content?: unknown };
    if (type !== 'message' || !Array.isArray(content)) continue;
    for (const part of content as unknown[]) {
      const { type: partType, text: partText } = (part ?? {}) as { type?: unknown; text?: unknown };
      if (partType === 'output_text' && typeof partText === 'string') text += partText;
    }
  }
  return text;
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Watches SSE bytes on their way to the client (plain bodies go through PlainTap): learns token usage and the response text
 * for the record without re-serialising anything (bytes out = bytes in, except the usage-only
 * chunk we added ourselves). SSE output is released per whole event, so a stream that breaks
 * mid-event never leaves half an event in front of the error event that ends it (R1).
 */
export class UsageTap extends BodyTap {
  usage: Usage | undefined = undefined;
  text = '';
  private sawDone = false;
  endedEarly = false;
  sawErrorEvent = false;
  contentEvents = 0;
  private readonly parser = new SseParser();
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    source: BodySource,
    private readonly options: UsageTapOptions,
    done: (error?: Error) => void,
  ) {
    super(source, done);
  }

  protected takeEnd(): void {
    const tail = this.pending;
    this.pending = Buffer.alloc(0);
    this.observe(this.parser.push(tail));
    this.observe(this.parser.end());
    if (this.options.expectDone && !this.sawDone) this.endedEarly = true;
    // An unfinished last event is passed on byte-exact, unless an error event follows it.
    else if (tail.length > 0) this.emit('data', tail);
  }

  /** Passes on every whole event the chunk completes; the rest waits for the next chunk. */
  protected take(chunk: Buffer): void {
    // What was held back has no boundary yet; only its last 3 bytes can start one with the new chunk.
    const scanFrom = Math.max(0, this.pending.length - 3);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const text = this.pending.toString('latin1', scanFrom);
    let start = 0;
    for (let searchFrom = 0; ; ) {
      // Set before every search: a `data` listener may run another tap's scan with the same regex.
      BOUNDARY.lastIndex = searchFrom;
      const match = BOUNDARY.exec(text);
      if (!match) break;
      searchFrom = match.index + match[0].length;
      const end = scanFrom + searchFrom;
      const raw = this.pending.subarray(start, end);
      const sawUsageOnlyChunk = this.observe(this.parser.push(raw));
      if (!this.options.stripUsageChunk || !sawUsageOnlyChunk) this.emit('data', raw);
      // The consumer may destroy the tap from inside its `data` listener.
      if (this.destroyed) return;
      start = end;
    }
    this.pending = this.pending.subarray(start);
    if (this.pending.length > MAX_EVENT_BYTES) throw new SseLineTooLongError(MAX_EVENT_BYTES);
  }

  /**
   * Learns usage and text from the events; true when one of them is a usage-only chunk (no
   * choices, a usage block), the one we strip when we asked for it. Each event is parsed once:
   * with `include_usage` OpenAI puts `"usage": null` in every chunk, so a separate check by
   * parsing again cost a second JSON.parse per event (BENCHMARKS.md, gateway section).
   */
  private observe(events: readonly SseEvent[]): boolean {
    let sawUsageOnlyChunk = false;
    for (const event of events) {
      if (event.data === '[DONE]') {
        this.sawDone = true;
        continue;
      }
      if (!event.data.startsWith('{')) continue;
      const json = parseJson(event.data);
      if (!json) continue;
      const usage = readUsage(json['usage']);
      if (usage) this.usage = usage;
      const choices = json['choices'];
      if (choices === undefined) {
        // Looked for only where chunks have no choices: an upstream's `data: {"error":…}` (OpenAI, vLLM).
        if (json['error'] !== undefined) this.sawErrorEvent = true;
        this.observeResponsesEvent(json);
        continue;
      }
      if (usage && Array.isArray(choices) && choices.length === 0) sawUsageOnlyChunk = true;
      const content = (choices as { delta?: { content?: unknown } }[] | undefined)?.[0]?.delta?.content;
      if (typeof content === 'string' && content !== '') {
        this.contentEvents++;
        this.capture(content);
      }
    }
    return sawUsageOnlyChunk;
  }

  /**
   * A Responses API (/v1/responses) event: text comes in `response.output_text.delta` events and
   * usage only in the final `response.completed` event's response; there is no `[DONE]`.
   */
  private observeResponsesEvent(json: Record<string, unknown>): void {
    const type = json['type'];
    if (type === 'response.output_text.delta') {
      const delta = json['delta'];
      if (typeof delta === 'string' && delta !== '') {
        this.contentEvents++;
        this.capture(delta);
      }
    } else if (type === 'response.completed') {
      const usage = readUsage((json['response'] as { usage?: unknown } | undefined)?.usage);
      if (usage) this.usage = usage;
    }
  }

  private capture(content: string): void {
    if (this.text.length < this.options.maxCaptureChars) this.text += content.slice(0, this.options.maxCaptureChars - this.text.length);
  }
}
