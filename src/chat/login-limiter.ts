/** Failed logins are counted per fixed window of this length. */
const WINDOW_MS = 60_000;
/** Keys remembered at most; bounded memory under a spray of usernames (RELIABILITY §4). */
const MAX_KEYS = 100_000;

interface Window {
  failures: number;
  startedAt: number;
}

/**
 * Login attempts per username+IP (RELIABILITY §4: 5 failures/min): once `maxFailures` failed in
 * the current minute, further attempts are refused until the minute is over. Kept in memory, so
 * each instance counts on its own.
 */
export class LoginLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly maxFailures: number, private readonly now: () => number = Date.now) {}

  /** Milliseconds until `key` may try again, or 0 when it may try now. */
  retryAfterMs(key: string): number {
    const window = this.current(key);
    if (!window || window.failures < this.maxFailures) return 0;
    return window.startedAt + WINDOW_MS - this.now();
  }

  recordFailure(key: string): void {
    const window = this.current(key);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= MAX_KEYS) this.evict();
    this.windows.set(key, { failures: 1, startedAt: this.now() });
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private current(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window && this.now() - window.startedAt >= WINDOW_MS) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private evict(): void {
    const now = this.now();
    for (const [key, window] of this.windows) if (now - window.startedAt >= WINDOW_MS) this.windows.delete(key);
    // Still full: drop the oldest entries (Map keeps insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_KEYS) break;
      this.windows.delete(key);
    }
  }
}
