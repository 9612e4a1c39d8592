/** One Server-Sent Event as the WHATWG `EventSource` parsing rules define it. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Encodes one event; multi-line data becomes several `data:` lines (HTML §9.2.6). */
export function encodeSse(data: string, event?: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `${event ? `event: ${event}\n` : ''}${lines.join('')}\n`;
}

export interface SseParserOptions {
  /** A line longer than this raises SseLineTooLongError instead of growing memory. @default 4 MiB */
  readonly maxLineBytes?: number;
}

export class SseLineTooLongError extends Error {
  constructor(limit: number) {
    super(`SSE line exceeds ${limit} bytes`);
    this.name = 'SseLineTooLongError';
  }
}

const DEFAULT_MAX_LINE = 4 * 1024 * 1024;

/**
 * Incremental SSE parser: feed it byte chunks split anywhere (inside UTF-8 sequences, between
 * `\r` and `\n`) and it yields the same events as parsing the whole stream at once.
 */
export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxLine: number;
  private buffer = '';
  private pendingCR = false;
  private data: string[] = [];
  private eventName = '';
  private lastId: string | undefined;

  constructor(options: SseParserOptions = {}) {
    this.maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  }

  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.consume(text);
  }

  /** Flushes a final event that was not followed by a blank line (a cut stream yields nothing). */
  end(): SseEvent[] {
    const events = this.consume(this.decoder.decode());
    if (this.buffer.length > 0) {
      this.line(this.buffer, events);
      this.buffer = '';
    }
    return events;
  }

  private consume(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    for (let index = 0; index < text.length; index++) {
      const char = text.charCodeAt(index);
      if (char === 10 && this.pendingCR) {
        this.pendingCR = false;
        start = index + 1;
        continue;
      }
      this.pendingCR = false;
      if (char !== 10 && char !== 13) continue;
      this.pendingCR = char === 13;
      this.line(this.buffer + text.slice(start, index), events);
      this.buffer = '';
      start = index + 1;
    }
    this.buffer += text.slice(start);
    if (this.buffer.length > this.maxLine) throw new SseLineTooLongError(this.maxLine);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        events.push({ event: this.eventName || 'message', data: this.data.join('\n'), ...(this.lastId === undefined ? {} : { id: this.lastId }) });
      }
      this.data = [];
      this.eventName = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventName = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
  }
}
