import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { BodySource } from './target.js';
import type { Usage } from './usage-tap.js';

/**
 * A target's response body on its way to the client, watched for the record (usage, text). An
 * EventEmitter rather than a Transform: a Transform adds a writable and a readable queue, a write
 * request and a tick per chunk; for SSE its own frames were ~1.3 µs of each event's CPU
 * (BENCHMARKS.md, gateway section, session 10). Emits `data`, `end` and `error` like a flowing
 * Readable; the source starts flowing once the first listener is attached, and pause/resume reach
 * it directly. `done` is told once, when the body ended, failed or was destroyed, before the
 * consumer hears of it. Subclasses say what a chunk and the end mean (PlainTap, UsageTap).
 */
export abstract class BodyTap extends EventEmitter {
  abstract readonly usage: Usage | undefined;
  abstract readonly text: string;
  /**
   * A plain body kept whole (as a latin1 string, byte for byte) instead of read for `usage` and
   * `text` at its end: the record reads them from it when it is written, off the request's path
   * (records/finish-records.ts). Undefined for SSE, whose events are read as they pass.
   */
  unparsedBody: string | undefined = undefined;
  /**
   * The body exactly as it was passed on to the consumer, as a latin1 string, when the tap holds it
   * so already: the relay writes it instead of turning the same bytes into a string again.
   */
  get passedOnLatin1(): string | undefined {
    return undefined;
  }
  destroyed = false;
  /** Set when an SSE stream ended without `[DONE]`; a plain body ends when its source does. */
  abstract readonly endedEarly: boolean;
  /** Set when an SSE stream carried the upstream's own in-band error event: the client's terminal event already. */
  abstract readonly sawErrorEvent: boolean;
  /** SSE events with non-empty content: the token estimate when no usage block arrives (R4). */
  abstract readonly contentEvents: number;
  private isDone = false;
  /** An error from before any consumer listened: it waits for the first one. */
  private failure: Error | undefined;

  constructor(
    private readonly source: BodySource,
    private readonly done: (error?: Error) => void,
  ) {
    super();
    // Listened to at once, as pipe() would: an error before the consumer attaches must not go unhandled.
    source.on('error', this.onSourceError);
    this.once('newListener', this.start);
  }

  /** A chunk from the source, to pass on (`emit('data')`) and watch; a throw fails the body. */
  protected abstract take(chunk: Buffer): void;

  /** The source ended: what is held goes out, the facts for the record are settled. */
  protected abstract takeEnd(): void;

  pause(): this {
    this.source.pause();
    return this;
  }

  resume(): this {
    this.source.resume();
    return this;
  }

  /** A consumer that goes away before the end (premature close, as pipeline() reports it). */
  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.source.destroy();
    this.finish(error ?? Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  }

  /** A Readable over this tap, for in-process callers that read the body as a stream. */
  toReadable(): Readable {
    const readable = new Readable({ read: () => this.resume() });
    this.on('data', (chunk: Buffer) => {
      if (!readable.push(chunk)) this.pause();
    });
    this.on('end', () => readable.push(null));
    this.on('error', (error: Error) => readable.destroy(error));
    readable.once('close', () => {
      if (!readable.readableEnded) this.destroy();
    });
    return readable;
  }

  /** The body broke a limit of ours: the source is dropped and the consumer told. */
  private fail(error: Error): void {
    if (this.isDone) return;
    // Told first: a source may report its own destruction as an error, which must not win.
    this.onSourceError(error);
    this.source.destroy();
  }

  private readonly start = (): void => {
    if (this.failure) {
      const failure = this.failure;
      process.nextTick(() => this.emit('error', failure));
      return;
    }
    this.source.on('data', this.onSourceData);
    this.source.once('end', this.onSourceEnd);
  };

  private readonly onSourceData = (chunk: Buffer): void => {
    if (this.destroyed) return;
    try {
      this.take(chunk);
    } catch (error) {
      this.fail(error as Error);
    }
  };

  private readonly onSourceEnd = (): void => {
    if (this.destroyed) return;
    try {
      this.takeEnd();
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.finish();
    this.emit('end');
  };

  private readonly onSourceError = (error: Error): void => {
    if (this.isDone) return;
    this.destroyed = true;
    this.finish(error);
    // Before any consumer listens, the error waits for the first one (start()).
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.failure = error;
  };

  private finish(error?: Error): void {
    if (this.isDone) return;
    this.isDone = true;
    this.done(error);
  }
}
