import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import type { BodySource } from './target.js';
import { maskSecrets, parseJson, readUsage, type Usage } from './usage-tap.js';

export interface PlainTapOptions {
  /** Most response text kept for the record. */
  readonly maxCaptureChars: number;
  /** Largest body parsed for usage (and held back for masking). */
  readonly maxJsonBytes: number;
  /**
   * Our own credentials, masked wherever a plain body reflects them: upstream error bodies are
   * untrusted and some echo the key they were sent (OWASP API10, LiteLLM #24902, RELIABILITY S3).
   */
  readonly secrets?: readonly { readonly secret: string; readonly mask: string }[];
}

/**
 * The usage tap for a plain (non-SSE) body, without a Transform stream: a Transform costs a
 * readable and a writable state, a write request per chunk and three ticks to end on every
 * non-stream call (BENCHMARKS.md, gateway section). Emits `data`, `end` and `error` like a
 * flowing Readable; the source starts flowing once the first listener is attached. `done` is
 * told once, when the body ended, failed or was destroyed, before the consumer hears of it.
 */
export class PlainTap extends EventEmitter {
  usage: Usage | undefined;
  text = '';
  /** Only SSE streams can end early; a plain body ends when its source does. */
  readonly endedEarly = false;
  readonly contentEvents = 0;
  destroyed = false;
  private parts: Buffer[] = [];
  private bytes = 0;
  private isDone = false;
  private failure: Error | undefined;
  private readonly isMasking: boolean;

  constructor(
    private readonly source: BodySource,
    private readonly options: PlainTapOptions,
    private readonly done: (error?: Error) => void,
  ) {
    super();
    this.isMasking = (options.secrets?.length ?? 0) > 0;
    // Listened to at once, as pipe() would: an error before the consumer attaches must not go unhandled.
    source.on('error', this.onError);
    this.once('newListener', this.start);
  }

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

  private readonly start = (): void => {
    if (this.failure) {
      const failure = this.failure;
      process.nextTick(() => this.emit('error', failure));
      return;
    }
    this.source.on('data', this.onData);
    this.source.once('end', this.onEnd);
  };

  /** Passed on as it comes, or held whole (bounded) when secrets must be masked. */
  private readonly onData = (chunk: Buffer): void => {
    if (this.destroyed) return;
    const wasWithinCap = this.bytes <= this.options.maxJsonBytes;
    this.bytes += chunk.length;
    if (this.bytes <= this.options.maxJsonBytes) {
      this.parts.push(chunk);
      if (!this.isMasking) this.emit('data', chunk);
      return;
    }
    // Past the cap: release what was held and go on chunk by chunk (best effort for a huge body).
    if (this.isMasking && wasWithinCap) this.emit('data', maskSecrets(Buffer.concat(this.parts), this.options.secrets ?? []));
    this.parts = [];
    this.emit('data', this.isMasking ? maskSecrets(chunk, this.options.secrets ?? []) : chunk);
  };

  private readonly onEnd = (): void => {
    if (this.destroyed) return;
    if (this.bytes <= this.options.maxJsonBytes) {
      const whole = this.parts.length === 1 && this.parts[0] ? this.parts[0] : Buffer.concat(this.parts);
      this.observe(whole);
      if (this.isMasking) this.emit('data', maskSecrets(whole, this.options.secrets ?? []));
    }
    this.parts = [];
    this.finish();
    this.emit('end');
  };

  private readonly onError = (error: Error): void => {
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

  private observe(body: Buffer): void {
    const json = parseJson(body.toString('utf8'));
    if (!json) return;
    this.usage = readUsage(json['usage']);
    const choice = (json['choices'] as { message?: { content?: unknown }; text?: unknown }[] | undefined)?.[0];
    const content = choice?.message?.content ?? choice?.text;
    if (typeof content === 'string') this.text = content.slice(0, this.options.maxCaptureChars);
  }
}
