import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import type { SwitchboardError } from '../platform/errors.js';
import { filterHeaders } from '../platform/http-headers.js';
import { decodedBody } from './decoded-body.js';
import type { BodySource, CancelSignal, TargetReply } from './target.js';

/** Bytes held for a consumer that has not started reading yet before undici is asked to pause. */
const MAX_HELD_BYTES = 64 * 1024;

/**
 * One upstream call driven through undici's `dispatch` handler API, which is also the body's
 * source. `pool.request()` wraps each answer in a Readable, a promise chain and an abort
 * listener: a dozen ticks and ~1.3 KB per proxied request (BENCHMARKS.md, gateway section).
 * Here undici's callbacks become `data`/`end`/`error` events directly.
 *
 * Chunks that arrive before the consumer listens (often with the headers, in one socket read)
 * are held and given to it first, and an end or error that came with them waits until they
 * are out, so the last events of an upstream that then closed at once still reach the client.
 */
export class UpstreamCall extends EventEmitter implements Dispatcher.DispatchHandler, BodySource {
  readonly reply: Promise<TargetReply>;
  destroyed = false;
  private controller: Dispatcher.DispatchController | undefined;
  private resolve!: (reply: TargetReply) => void;
  private reject!: (error: SwitchboardError) => void;
  private headersIn = false;
  private isFlowing = false;
  private isPaused = false;
  private isOver = false;
  /** Chunks that came before the consumer started reading (or while it drains them). */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private endPending = false;
  /** An error not told yet: it waits for the held chunks and for an `error` listener. */
  private failure: Error | undefined;
  /** Abort asked for before undici handed us its controller. */
  private abortReason: Error | undefined;

  constructor(
    private readonly signal: CancelSignal,
    private readonly classify: (error: unknown) => SwitchboardError,
  ) {
    super();
    this.reply = new Promise<TargetReply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (signal.aborted) this.onAbort();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  // --- undici's side ---

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.controller = controller;
    this.headersIn = true;
    const filtered = filterHeaders(headers);
    // Encoded although we asked for identity (upstream-target.ts): decoded before anything reads it.
    this.resolve({ status: statusCode, headers: filtered, body: filtered['content-encoding'] === undefined ? this : decodedBody(this, filtered, statusCode) });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.destroyed) return;
    if (this.isFlowing && this.held === undefined && !this.isPaused) {
      this.emit('data', chunk);
      return;
    }
    (this.held ??= []).push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > MAX_HELD_BYTES || this.isPaused) controller.pause();
  }

  onResponseEnd(): void {
    this.isOver = true;
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.destroyed) return;
    // With the headers, before anyone reads (an empty body): the end waits for the consumer.
    if (this.held || !this.isFlowing) this.endPending = true;
    else this.emit('end');
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.isOver = true;
    this.signal.removeEventListener('abort', this.onAbort);
    if (!this.headersIn) return this.reject(this.classify(error));
    if (this.destroyed) return;
    this.failure = error;
    if (!this.held) this.tellFailure();
  }

  // --- the consumer's side (the part of a Readable that PlainTap, pipeTap and failover use) ---

  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    super.on(event, listener as (...args: unknown[]) => void);
    if (event === 'data' && !this.isFlowing) {
      this.isFlowing = true;
      // A microtask later, so the consumer attaches its `end` and `error` listeners first.
      queueMicrotask(this.flow);
    } else if (event === 'error' && this.failure && !this.held) {
      queueMicrotask(this.tellFailure);
    }
    return this;
  }

  pause(): this {
    this.isPaused = true;
    // Once the call is over its controller is stale: the connection may carry another call now.
    if (!this.isOver) this.controller?.pause();
    return this;
  }

  /** Deferred: undici refuses a resume from inside its own parser callbacks. */
  resume(): this {
    this.isPaused = false;
    if (this.isFlowing) queueMicrotask(this.flow);
    return this;
  }

  /** Drops the rest of the body (the connection closes, as destroying undici's Readable does). */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.held = undefined;
    this.signal.removeEventListener('abort', this.onAbort);
    if (!this.isOver) this.controller?.abort(error ?? new Error('The body was destroyed before its end.'));
    return this;
  }

  /** Hands over held chunks (until the consumer pauses), then what ended the body, then lets undici go on. */
  private readonly flow = (): void => {
    if (!this.canFlow()) return;
    const held = this.held;
    for (let chunk = held?.shift(); chunk !== undefined; chunk = held?.shift()) {
      this.emit('data', chunk);
      // The consumer may pause or destroy from inside its `data` listener.
      if (!this.canFlow()) return;
    }
    this.held = undefined;
    this.heldBytes = 0;
    if (this.endPending) {
      this.endPending = false;
      this.emit('end');
    } else if (this.failure) this.tellFailure();
    else if (!this.isOver) this.controller?.resume();
  };

  private canFlow(): boolean {
    return !this.isPaused && !this.destroyed;
  }

  private readonly tellFailure = (): void => {
    const failure = this.failure;
    if (!failure || this.destroyed || this.listenerCount('error') === 0) return;
    this.failure = undefined;
    this.destroyed = true;
    this.emit('error', failure);
  };

  private readonly onAbort = (): void => {
    const reason = this.signal.reason instanceof Error ? this.signal.reason : new DOMException('This operation was aborted', 'AbortError');
    if (!this.controller) {
      this.abortReason = reason;
      return;
    }
    this.controller.abort(reason);
  };
}
