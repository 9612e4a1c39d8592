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
 */
export function clientCloseSignal(raw: ServerResponse): ClientSignal {
  // startExchange registers one listener; a second one replaces it.
  let registered: { listener: () => void; onClose: () => void } | undefined;
  return {
    // node:http marks a response destroyed when its socket closes, finished or not.
    get aborted() {
      return raw.destroyed && !raw.writableFinished;
    },
    addEventListener(_type, listener) {
      if (registered) raw.off('close', registered.onClose);
      const onClose = () => {
        if (!raw.writableFinished) listener();
      };
      registered = { listener, onClose };
      raw.once('close', onClose);
    },
    removeEventListener(_type, listener) {
      if (registered?.listener !== listener) return;
      raw.off('close', registered.onClose);
      registered = undefined;
    },
  };
}
