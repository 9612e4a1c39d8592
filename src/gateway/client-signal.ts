import type { ServerResponse } from 'node:http';

/**
 * What an exchange needs to hear that its client went away: the `abort` event of an AbortSignal
 * (in-process callers pass theirs), or of `clientCloseSignal` (the /v1 proxy).
 */
export interface ClientSignal {
  /** The client is gone already: its `abort` event has fired (or never will) before anyone listened. */
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The client's socket closing before its response finished, as an `abort` event. An
 * AbortController per request costs an EventTarget and its listeners on the hot path
 * (BENCHMARKS.md, gateway section); the response's own `close` event carries the same news.
 * A class, not an object literal: V8 builds a literal that has a getter (`aborted`) on a slow
 * path, and one per request quadrupled the proxy's GC time, ~80 µs of CPU per request at 50
 * connections (measured against the same code without the getter; BENCHMARKS.md, gateway section).
 */
class ResponseCloseSignal implements ClientSignal {
  /** startExchange registers one listener; a second one replaces it. */
  private listener: (() => void) | undefined = undefined;

  constructor(private readonly raw: ServerResponse) {}

  /** node:http marks a response destroyed when its socket closes, finished or not. */
  get aborted(): boolean {
    return this.raw.destroyed && !this.raw.writableFinished;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener) this.raw.off('close', this.onClose);
    this.listener = listener;
    this.raw.once('close', this.onClose);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.listener !== listener) return;
    this.raw.off('close', this.onClose);
    this.listener = undefined;
  }

  private readonly onClose = (): void => {
    const listener = this.listener;
    this.listener = undefined;
    if (listener && !this.raw.writableFinished) listener();
  };
}

export function clientCloseSignal(raw: ServerResponse): ClientSignal {
  return new ResponseCloseSignal(raw);
}
