import type { CancelSignal } from './target.js';

/**
 * The cancel side of one exchange, handed to `Target.send` as its `CancelSignal`. An
 * AbortController per request costs an EventTarget, its listener map and a DOMException on the hot
 * path (BENCHMARKS.md, gateway section); an exchange has one or two listeners (undici's, a worker
 * target's) and aborts at most once. The reason is built only when it aborts.
 */
export class CancelSource implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners.indexOf(listener);
    if (index !== -1) this.listeners.splice(index, 1);
  }

  /** Idempotent; listeners hear it once, in the order they were added (as with AbortSignal). */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new DOMException('This operation was aborted', 'AbortError');
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
