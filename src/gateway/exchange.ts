import type { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import { SwitchboardError } from '../platform/errors.js';
import { newRequestId } from '../platform/request-id.js';
import { CancelSource } from './cancel-source.js';
import type { ClientSignal } from './client-signal.js';
import { buildPendingRecord, buildRecord, type RecordContext, type RecordOutcome } from './exchange-record.js';
import { forwardWithFailover, type AttemptObserver, type FailoverResult, type RetryBudget } from './failover.js';
import { USAGE_PATHS, buildForwardCall } from './forward-call.js';
import type { EndReason, LiveExchanges } from './live-exchanges.js';
import type { UsageRecorder } from './records/recorder.js';
import { clientHeaders, credentialsOf } from './response-hygiene.js';
import type { Router } from './router.js';
import type { Principal, Target } from './target.js';
import { PlainTap } from './plain-tap.js';
import { UsageTap } from './usage-tap.js';

/** The body on its way to the client: a Transform for SSE, a lighter tap for a plain body. */
export type BodyTap = UsageTap | PlainTap;

export interface ExchangeDeps {
  readonly config: Config['gateway'];
  readonly router: Router;
  readonly observer: AttemptObserver;
  readonly budget: RetryBudget;
  readonly recorder: UsageRecorder;
  readonly log: FastifyBaseLogger;
  readonly live: LiveExchanges;
}

/** One client request, already authenticated, as the proxy or an in-process caller hands it over. */
export interface ExchangeRequest {
  readonly requestId?: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly json: Readonly<Record<string, unknown>> | undefined;
  /** The model when it is not in a JSON body (multipart uploads name it in a form field). */
  readonly model?: string | undefined;
  readonly principal: Principal;
  readonly ip: string;
  readonly apiKey?: string | undefined;
}

/** A request whose target answered; `body` carries the bytes and settles the record when done. */
export interface StartedExchange {
  readonly requestId: string;
  readonly target: Target;
  readonly attempts: number;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly isSse: boolean;
  readonly body: BodyTap;
  readonly ttfbMs: number;
  /** Cancels the target call (client went away). */
  abort(): void;
  /** Cancels the target call because the client stopped reading (RELIABILITY F11). */
  stall(): void;
  /** The record outcome and client-facing text for a body that failed mid-way. */
  describeFailure(error: unknown): BodyFailure;
}

export interface BodyFailure {
  readonly outcome: string;
  readonly message: string;
}

/** What the client of a stream that failed after its first byte is told, by outcome. */
const FAILURE_MESSAGES: Readonly<Record<string, string>> = {
  upstream_idle_timeout: 'The upstream stopped sending data.',
  upstream_timeout: 'The upstream did not finish in time.',
  upstream_reset: 'The upstream connection was lost.',
  shutdown: 'Switchboard is shutting down; the response was cut short.',
  upstream_malformed: 'The upstream sent an event larger than the 4 MiB limit.',
};

const MAX_CAPTURE_CHARS = 256 * 1024;

/** Outcome names stored in records.outcome for a body that failed mid-way. */
function classifyBodyError(error: unknown, state: ExchangeState): string {
  if (state.endReason) return state.endReason;
  if (state.clientStalled) return 'client_stalled';
  if (state.clientClosed) return 'client_closed';
  // An in-process consumer that destroys the body before the end is a client going away.
  if ((error as { code?: string } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return 'client_closed';
  if (state.deadlineHit) return 'upstream_timeout';
  if ((error as Error | undefined)?.name === 'SseLineTooLongError') return 'upstream_malformed';
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'upstream_idle_timeout';
  if (code === 'ERR_SWITCHBOARD_IDLE') return 'upstream_idle_timeout';
  return 'upstream_reset';
}

/** Client-side endings: status 499 in the record, nobody left to tell. */
const CLIENT_OUTCOMES = new Set(['client_closed', 'client_stalled']);

function statusFor(outcome: string): number {
  if (CLIENT_OUTCOMES.has(outcome)) return 499;
  if (outcome === 'upstream_timeout') return 504;
  return outcome === 'shutdown' ? 503 : 502;
}

/** Mutable facts about a request in flight, read by callbacks. */
interface ExchangeState {
  clientClosed: boolean;
  clientStalled: boolean;
  deadlineHit: boolean;
  settled: boolean;
  endReason: EndReason | undefined;
}

/**
 * Authenticate → resolve model → pick targets → forward with failover → tap the body → record.
 * The single request path for /v1 and for in-process callers (chat, RAG, browser).
 */
export async function startExchange(deps: ExchangeDeps, request: ExchangeRequest, clientSignal?: ClientSignal): Promise<StartedExchange> {
  const requestId = request.requestId ?? newRequestId();
  const requestedModel = typeof request.json?.['model'] === 'string' ? request.json['model'] : request.model;
  const stream = request.json?.['stream'] === true;
  const plan = deps.router.plan(requestedModel);
  const context: RecordContext = { requestId, startedAt: Date.now(), ip: request.ip, principal: request.principal, method: request.method, path: request.path, model: plan.model, stream, body: request.body };
  const record = (end: RecordOutcome) => deps.recorder.record(buildRecord(deps.config.records, context, end));

  if (plan.targets.length === 0) {
    const error = noTargetError(requestedModel);
    record({ status: error.status, outcome: 'no_target', attempts: 0, errorClass: error.code });
    throw error;
  }

  const call = buildForwardCall({ ...request, requestId, requestedModel, model: plan.model, stream });
  const state: ExchangeState = { clientClosed: false, clientStalled: false, deadlineHit: false, settled: false, endReason: undefined };
  const controller = new CancelSource();
  const onClientAbort = () => {
    state.clientClosed = true;
    controller.abort();
  };
  clientSignal?.addEventListener('abort', onClientAbort, { once: true });
  // Worker-fleet targets enforce seed 000's own TIMEOUT (answered with its 408 body); the
  // gateway's total deadline must not cut them short with a 504.
  const hasOwnDeadline = plan.targets.every((target) => target.kind === 'worker');
  const deadline = stream || hasOwnDeadline ? undefined : setTimeout(() => {
    state.deadlineHit = true;
    controller.abort();
  }, deps.config.timeouts.totalMs);
  const leave = deps.live.add((reason) => {
    state.endReason = reason;
    controller.abort();
  });
  const cleanup = () => {
    clearTimeout(deadline);
    leave();
    clientSignal?.removeEventListener('abort', onClientAbort);
  };
  deps.recorder.begin({ id: requestId, createdAt: context.startedAt, buildRow: () => buildPendingRecord(context) });

  let result: FailoverResult;
  try {
    result = await forwardWithFailover(call, { targets: plan.targets, maxAttempts: deps.config.maxAttempts, signal: controller, observer: deps.observer, budget: deps.budget });
  } catch (caught) {
    cleanup();
    const error = caught instanceof SwitchboardError ? caught : new SwitchboardError('internal', 'Internal server error', { cause: caught, expose: false });
    const finalError = failureBeforeResponse(error, state);
    const reason = error.details?.['reason'];
    record({ status: finalError.status, outcome: state.endReason ?? finalError.code, attempts: Number(error.details?.['attempts'] ?? 0), errorClass: typeof reason === 'string' ? reason : error.code });
    throw finalError;
  }

  const ttfbMs = Date.now() - context.startedAt;
  const isSse = (result.response.headers['content-type'] ?? '').startsWith('text/event-stream');
  const credentials = credentialsOf(call.apiKey, result.target);
  // Error bodies are where upstreams reflect what they were sent; a masked body changes length.
  const secrets = !isSse && result.response.status >= 400 ? credentials : [];
  const headers = clientHeaders(result.response.headers, { credentials, dropLength: secrets.length > 0 });
  let tap: BodyTap | undefined;
  const settle = (end: Omit<RecordOutcome, 'attempts' | 'targetId' | 'ttfbMs' | 'tap'>) => {
    if (state.settled) return;
    state.settled = true;
    cleanup();
    record({ ...end, attempts: result.attempts, targetId: result.target.id, ttfbMs, tap });
  };
  const onBodyDone = (error?: Error | null) => {
    if (!error) {
      if (tap?.endedEarly === true) settle({ status: 502, outcome: 'upstream_incomplete', errorClass: 'no_done_marker' });
      else settle({ status: result.response.status, outcome: result.response.status < 400 ? 'ok' : 'upstream_error_response' });
      return;
    }
    const outcome = classifyBodyError(error, state);
    settle({ status: statusFor(outcome), outcome, errorClass: outcome });
    if (!CLIENT_OUTCOMES.has(outcome)) deps.log.warn({ requestId, target: result.target.id, reason: outcome }, 'upstream body failed mid-way');
  };
  const maxJsonBytes = deps.config.maxErrorBodyBytes * 4;
  if (isSse) {
    const sseTap = new UsageTap({
      secrets,
      isSse,
      stripUsageChunk: call.streamUsageBody !== undefined,
      expectDone: result.response.status < 400 && USAGE_PATHS.has(request.path) && result.target.kind === 'upstream',
      maxCaptureChars: MAX_CAPTURE_CHARS,
      maxJsonBytes,
    });
    tap = sseTap;
    pipeTap(result.response.body, sseTap, onBodyDone);
  } else {
    tap = new PlainTap(result.response.body, { secrets, maxCaptureChars: MAX_CAPTURE_CHARS, maxJsonBytes }, onBodyDone);
  }
  return {
    requestId,
    target: result.target,
    attempts: result.attempts,
    status: result.response.status,
    headers,
    isSse,
    body: tap,
    ttfbMs,
    abort: onClientAbort,
    stall: () => {
      state.clientStalled = true;
      controller.abort();
    },
    describeFailure: (error) => {
      const outcome = classifyBodyError(error, state);
      return { outcome, message: FAILURE_MESSAGES[outcome] ?? 'The upstream failed.' };
    },
  };
}

/**
 * `source.pipe(tap)` with pipeline()'s error and premature-close semantics. pipeline() allocates an
 * AbortController per call and aborts it when done, building a DOMException with a stack trace;
 * on this path that was ~17 % of the CPU per request (BENCHMARKS.md, gateway section). pipe()
 * itself sets up ten listeners and closures per call; the three below are all this needs: data
 * with back-pressure, and the end (errors and early close are handled above them).
 */
function pipeTap(source: Readable, tap: UsageTap, done: (error?: Error | null) => void): void {
  let called = false;
  const finish = (error?: Error | null) => {
    if (called) return;
    called = true;
    done(error);
  };
  source.on('error', (error) => {
    tap.destroy(error);
    finish(error);
  });
  tap.on('error', (error) => {
    source.destroy();
    finish(error);
  });
  tap.once('finish', () => finish());
  tap.once('close', () => {
    if (tap.writableFinished) return;
    source.destroy();
    finish(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
  });
  source.on('data', (chunk: Buffer) => {
    if (tap.destroyed) return;
    if (!tap.write(chunk)) source.pause();
  });
  tap.on('drain', () => source.resume());
  source.once('end', () => tap.end());
}

/** The error a client gets when nothing was sent yet, by what ended the exchange. */
function failureBeforeResponse(error: SwitchboardError, state: ExchangeState): SwitchboardError {
  if (state.endReason === 'shutdown') {
    return new SwitchboardError('overloaded', 'Switchboard is shutting down; retry the request.', { headers: { 'retry-after': '1' } });
  }
  if (state.clientClosed) return new SwitchboardError('client_closed', 'Client closed the request.');
  if (state.deadlineHit) return new SwitchboardError('upstream_timeout', 'The upstream did not answer in time.');
  return error;
}

function noTargetError(requestedModel: string | undefined): SwitchboardError {
  return requestedModel === undefined
    ? new SwitchboardError('upstream_unavailable', 'No upstream is configured; add one with `switchboard upstream add` or POST /admin/upstreams.')
    : new SwitchboardError('model_not_found', `The model \`${requestedModel}\` does not exist or no upstream serves it.`, { param: 'model' });
}
