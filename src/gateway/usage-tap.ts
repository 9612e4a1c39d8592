import { Transform, type TransformCallback } from 'node:stream';
import { SseParser, type SseEvent } from '../platform/sse.js';

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

export interface UsageTapOptions {
  readonly isSse: boolean;
  /** Drop the usage-only chunk we asked for when the client did not ask for it. */
  readonly stripUsageChunk: boolean;
  /** An SSE stream that ends without `[DONE]` is an upstream failure (RELIABILITY F8). */
  readonly expectDone: boolean;
  /** Most response text kept for the record. */
  readonly maxCaptureChars: number;
  /** Largest non-stream body parsed for usage. */
  readonly maxJsonBytes: number;
}

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/g;

function readUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  const prompt = Number(usage['prompt_tokens'] ?? 0);
  const completion = Number(usage['completion_tokens'] ?? 0);
  const total = Number(usage['total_tokens'] ?? prompt + completion);
  return [prompt, completion, total].every(Number.isFinite) ? { promptTokens: prompt, completionTokens: completion, totalTokens: total } : undefined;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isUsageOnlyChunk(data: string): boolean {
  if (!data.includes('"usage"')) return false;
  const json = parseJson(data);
  return Array.isArray(json?.['choices']) && (json['choices'] as unknown[]).length === 0 && readUsage(json['usage']) !== undefined;
}

/**
 * Watches response bytes on their way to the client: learns token usage and the response text
 * for the record without re-serialising anything (bytes out = bytes in, except the usage-only
 * chunk we added ourselves). When `stripUsageChunk` is on, output is released per whole event.
 */
export class UsageTap extends Transform {
  usage: Usage | undefined;
  text = '';
  sawDone = false;
  /** Set when the upstream ended an SSE stream without `[DONE]`. */
  endedEarly = false;
  private readonly parser = new SseParser();
  private pending: Buffer = Buffer.alloc(0);
  private jsonParts: Buffer[] = [];
  private jsonBytes = 0;

  constructor(private readonly options: UsageTapOptions) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (!this.options.isSse) this.captureJson(chunk);
      else if (this.options.stripUsageChunk) this.releaseWholeEvents(chunk);
      else {
        this.observe(this.parser.push(chunk));
        this.push(chunk);
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.options.isSse) {
      if (this.pending.length > 0) {
        this.observe(this.parser.push(this.pending));
        this.push(this.pending);
      }
      this.observe(this.parser.end());
      if (this.options.expectDone && !this.sawDone) this.endedEarly = true;
    } else if (this.jsonBytes <= this.options.maxJsonBytes) {
      this.observeJson(Buffer.concat(this.jsonParts).toString('utf8'));
    }
    this.jsonParts = [];
    callback();
  }

  private captureJson(chunk: Buffer): void {
    this.jsonBytes += chunk.length;
    if (this.jsonBytes <= this.options.maxJsonBytes) this.jsonParts.push(chunk);
    else this.jsonParts = [];
    this.push(chunk);
  }

  private releaseWholeEvents(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const text = this.pending.toString('latin1');
    let start = 0;
    BOUNDARY.lastIndex = 0;
    for (let match = BOUNDARY.exec(text); match; match = BOUNDARY.exec(text)) {
      const end = match.index + match[0].length;
      const raw = this.pending.subarray(start, end);
      const events = this.parser.push(raw);
      this.observe(events);
      if (!events.some((event) => isUsageOnlyChunk(event.data))) this.push(raw);
      start = end;
    }
    this.pending = this.pending.subarray(start);
  }

  private observe(events: readonly SseEvent[]): void {
    for (const event of events) {
      if (event.data === '[DONE]') {
        this.sawDone = true;
        continue;
      }
      if (!event.data.startsWith('{')) continue;
      const json = parseJson(event.data);
      if (!json) continue;
      this.usage = readUsage(json['usage']) ?? this.usage;
      const choice = (json['choices'] as { delta?: { content?: unknown } }[] | undefined)?.[0];
      const content = choice?.delta?.content;
      if (typeof content === 'string') this.capture(content);
    }
  }

  private observeJson(text: string): void {
    const json = parseJson(text);
    if (!json) return;
    this.usage = readUsage(json['usage']);
    const choice = (json['choices'] as { message?: { content?: unknown }; text?: unknown }[] | undefined)?.[0];
    const content = choice?.message?.content ?? choice?.text;
    if (typeof content === 'string') this.capture(content);
  }

  private capture(content: string): void {
    if (this.text.length < this.options.maxCaptureChars) this.text += content.slice(0, this.options.maxCaptureChars - this.text.length);
  }
}
