/** Settings for passive outlier detection (Envoy-style ejection). */
export interface HealthSettings {
  readonly failureThreshold: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
}

/**
 * Per-upstream health: consecutive failures eject it for base × 2^(n-1) (capped); when the
 * ejection ends it is half-open and admits one probe request, whose result re-admits or re-ejects.
 * A 429 with Retry-After cools it down for that long without counting as an ejection.
 */
export class UpstreamHealth {
  private consecutiveFailures = 0;
  private ejections = 0;
  private unavailableUntil = 0;
  private probing = false;

  constructor(private readonly settings: HealthSettings, private readonly now: () => number = Date.now) {}

  /** Healthy, or half-open with no probe in flight. */
  isAvailable(): boolean {
    if (this.now() < this.unavailableUntil) return false;
    return !(this.ejections > 0 && this.probing);
  }

  /** True when the ejection has expired and the next request is the probe. */
  isHalfOpen(): boolean {
    return this.ejections > 0 && this.now() >= this.unavailableUntil;
  }

  get failureStreak(): number {
    return this.consecutiveFailures;
  }

  /** Called when a request is sent; marks the probe as in flight when half-open. */
  onAttempt(): void {
    if (this.isHalfOpen()) this.probing = true;
  }

  onSuccess(): void {
    this.consecutiveFailures = 0;
    this.ejections = 0;
    this.probing = false;
  }

  onFailure(retryAfterMs?: number): void {
    this.consecutiveFailures++;
    const wasProbe = this.probing;
    this.probing = false;
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      this.unavailableUntil = Math.max(this.unavailableUntil, this.now() + retryAfterMs);
    }
    if (wasProbe || this.consecutiveFailures >= this.settings.failureThreshold) {
      this.ejections++;
      const length = Math.min(this.settings.baseEjectionMs * 2 ** (this.ejections - 1), this.settings.maxEjectionMs);
      this.unavailableUntil = Math.max(this.unavailableUntil, this.now() + length);
      this.consecutiveFailures = 0;
    }
  }

  /** A request that ended without a verdict (client left) releases the probe slot. */
  onRelease(): void {
    this.probing = false;
  }
}
