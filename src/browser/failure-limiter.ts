/** Distinct callers remembered at once; the oldest window is forgotten first (RELIABILITY §4). */
const MAX_TRACKED = 10_000;
const WINDOW_MS = 60_000;

interface Window {
  readonly startedAt: number;
  failures: number;
}

/**
 * Counts failed key checks per caller in fixed one-minute windows, so /token cannot be used to
 * guess SECRET_KEY quickly (RELIABILITY §2.5). Bounded: at most MAX_TRACKED callers.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly maxPerMinute: number) {}

  isBlocked(caller: string): boolean {
    const window = this.current(caller);
    return window !== undefined && window.failures >= this.maxPerMinute;
  }

  recordFailure(caller: string): void {
    const window = this.current(caller);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= MAX_TRACKED) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
    this.windows.set(caller, { startedAt: Date.now(), failures: 1 });
  }

  private current(caller: string): Window | undefined {
    const window = this.windows.get(caller);
    if (window && Date.now() - window.startedAt >= WINDOW_MS) {
      this.windows.delete(caller);
      return undefined;
    }
    return window;
  }
}
