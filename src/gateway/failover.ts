import { SwitchboardError } from '../platform/errors.js';
import type { BodySource, CancelSignal, ForwardCall, Target, TargetReply } from './target.js';

/** The verdict on one attempt; `classifyFailure` is the single retry rulebook (STYLE.md §6). */
export interface AttemptVerdict {
  /** Another target may be tried (nothing has reached the client yet). */
  readonly isRetryable: boolean;
  /** Counts against the target's health. */
  readonly isFailure: boolean;
  /** Upstream asked us to wait (429/503 Retry-After). */
  readonly retryAfterMs?: number | undefined;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

function retryAfterMs(headers: Readonly<Record<string, string>>): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Connect errors, first-byte timeouts, 5xx, 408 and 429 are retryable; other 4xx are the
 * caller's problem and final (401/403 also mark the upstream's key as suspect).
 */
export function classifyFailure(outcome: { response: TargetReply } | { error: SwitchboardError }): AttemptVerdict {
  if ('error' in outcome) {
    const { code } = outcome.error;
    const transport = code === 'upstream_unavailable' || code === 'upstream_timeout' || code === 'upstream_error';
    return { isRetryable: transport, isFailure: transport };
  }
  const { status, headers } = outcome.response;
  if (RETRYABLE_STATUS.has(status) || status >= 500) {
    return { isRetryable: true, isFailure: true, retryAfterMs: retryAfterMs(headers) };
  }
  return { isRetryable: false, isFailure: status === 401 || status === 403 };
}

/** Health bookkeeping the failover loop reports to. */
export interface AttemptObserver {
  onAttempt(target: Target): void;
  onVerdict(target: Target, verdict: AttemptVerdict | 'success' | 'released'): void;
}

/** Global cap on retries in flight: 20 % of requests in flight, at least 3 (Envoy retry_budget). */
export class RetryBudget {
  private retries = 0;
  inFlight = 0;

  tryAcquire(): boolean {
    if (this.retries >= Math.max(3, Math.floor(this.inFlight * 0.2))) return false;
    this.retries++;
    return true;
  }

  release(): void {
    this.retries = Math.max(0, this.retries - 1);
  }
}

export interface FailoverResult {
  readonly target: Target;
  readonly response: TargetReply;
  readonly attempts: number;
}

export interface FailoverContext {
  readonly targets: readonly Target[];
  readonly maxAttempts: number;
  readonly signal: CancelSignal;
  readonly observer: AttemptObserver;
  readonly budget: RetryBudget;
}

/**
 * Tries targets in order until one gives a final answer. Only runs before anything reached the
 * client, so a retry can never duplicate output. The last upstream's own error response is
 * returned as the final answer; only transport failures become our own errors.
 */
export async function forwardWithFailover(call: ForwardCall, context: FailoverContext): Promise<FailoverResult> {
  const { targets, observer } = context;
  let lastError: SwitchboardError | undefined;
  let attempts = 0;
  for (const target of targets) {
    if (attempts >= context.maxAttempts) break;
    if (attempts > 0 && !context.budget.tryAcquire()) break;
    const isRetry = attempts > 0;
    attempts++;
    observer.onAttempt(target);
    try {
      const response = await target.send(call, context.signal);
      const verdict = classifyFailure({ response });
      const hasNext = attempts < context.maxAttempts && attempts < targets.length;
      if (verdict.isFailure) observer.onVerdict(target, verdict);
      if (verdict.isRetryable && hasNext && !context.signal.aborted) {
        discard(response.body);
        continue;
      }
      if (!verdict.isFailure) observer.onVerdict(target, 'success');
      return { target, response, attempts };
    } catch (error) {
      const failure = error instanceof SwitchboardError ? error : new SwitchboardError('upstream_error', 'Upstream failure', { cause: error });
      const verdict = classifyFailure({ error: failure });
      observer.onVerdict(target, verdict.isFailure ? verdict : 'released');
      lastError = failure;
      if (!verdict.isRetryable || context.signal.aborted) break;
    } finally {
      if (isRetry) context.budget.release();
    }
  }
  throw withAttempts(lastError ?? new SwitchboardError('upstream_unavailable', 'No upstream is available for this request.'), attempts);
}

/** Drops a body we will not relay; undici reports the destroy as an error we expect. */
function discard(body: BodySource): void {
  body.on('error', () => undefined);
  body.destroy();
}

function withAttempts(error: SwitchboardError, attempts: number): SwitchboardError {
  return new SwitchboardError(error.code, error.message, {
    cause: error.cause,
    status: error.status,
    expose: error.expose,
    headers: error.headers,
    param: error.param,
    details: { ...error.details, attempts },
  });
}
