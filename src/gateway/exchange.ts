import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import { ERROR_CODES, SwitchboardError } from '../platform/errors.js';
import { newRequestId } from '../platform/request-id.js';
import { CancelSource } from './cancel-source.js';
import type { ClientSignal } from './client-signal.js';
import { buildPendingRecord, buildRecord, type RecordContext, type RecordOutcome } from './exchange-record.js';
import { forwardWithFailover, type AttemptObserver, type FailoverResult, type RetryBudget } from './failover.js';
import { USAGE_PATHS, buildForwardCall } from './forward-call.js';
import { shuttingDownError, type EndReason, type LiveExchanges } from './live-exchanges.js';
import type { RecordMarker, UsageRecorder, PendingStart } from './records/recorder.js';
import type { NewRecord } from './records/records-repository.js';
import { clientHeaders, credentialsOf } from './response-hygiene.js';
import type { Router } from './router.js';
import type { ForwardCall, Principal, Target } from './target.js';
import type { BodyTap } from './body-tap.js';
import { MAX_RECORD_TEXT_CHARS } from './plain-body-facts.js';
import { PlainTap } from './plain-tap.js';
import { UsageTap } from './usage-tap.js';

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
  /** Set when `requestId` is the client's own x-request-id: the record then gets an id of ours. */
  readonly clientRequestId?: string | undefined;
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
  /** The error a plain body that failed before we sent anything becomes; its status is also the record's. */
  readonly code: 'overloaded' | 'upstream_timeout' | 'upstream_error';
}

/** What the client of a stream that failed after its first byte is told, by outcome. */
const FAILURE_MESSAGES: Readonly<Record<string, string>> = {
  upstream_idle_timeout: 'The upstream stopped sending data.',
  upstream_timeout: 'The upstream did not finish in time.',
  upstream_reset: 'The upstream connection was lost.',
  shutdown: 'Switchboard is shutting down; the response was cut short.',
  upstream_malformed: 'The upstream sent an event larger than the 4 MiB limit.',
  // Heard only by a client that caught up after a worker stream was stopped for it (dispatch/stream-relay.ts).
  client_stalled: 'The client did not read the response fast enough; it was cut short.',
  upstream_reply_too_large: "The worker's reply was larger than the reply size limit (dispatch.maxReplyBytes).",
};

/** The same, where the target is the worker fleet: the client is told who went quiet or away. */
const WORKER_FAILURE_MESSAGES: Readonly<Record<string, string>> = {
  ...FAILURE_MESSAGES,
  upstream_idle_timeout: 'The worker stopped sending data.',
  upstream_timeout: 'The worker did not finish in time.',
  upstream_reset: 'The worker connection was lost.',
};

/** Codes of body errors that say the client fell behind (the worker-stream relay's own limits). */
const CLIENT_SLOW_CODES = new Set(['ERR_SWITCHBOARD_CLIENT_SLOW', 'ERR_SWITCHBOARD_CLIENT_STALLED']);

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
  if (code !== undefined && CLIENT_SLOW_CODES.has(code)) return 'client_stalled';
  if (code === 'ERR_SWITCHBOARD_WORKER_FRAME_REFUSED') return 'upstream_reply_too_large';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'upstream_idle_timeout';
  if (code === 'ERR_SWITCHBOARD_IDLE') return 'upstream_idle_timeout';
  return 'upstream_reset';
}

/** Client-side endings: status 499 in the record, nobody left to tell. */
const CLIENT_OUTCOMES = new Set(['client_closed', 'client_stalled']);

/** The error code a body failure stands for: what a plain body's client is answered with (relay.ts). */
function failureCode(outcome: string): BodyFailure['code'] {
  if (outcome === 'shutdown') return 'overloaded';
  return outcome === 'upstream_timeout' || outcome === 'upstream_idle_timeout' ? 'upstream_timeout' : 'upstream_error';
}

/** The record's status: the client's answer for a plain body, 499 when the client itself ended it. */
function statusFor(outcome: string): number {
  return CLIENT_OUTCOMES.has(outcome) ? 499 : ERROR_CODES[failureCode(outcome)].status;
}

/** Mutable facts about a request in flight, read when it ends. */
interface ExchangeState {
  clientClosed: boolean;
  clientStalled: boolean;
  deadlineHit: boolean;
  endReason: EndReason | undefined;
}

/**
 * Authenticate → resolve model → pick targets → forward with failover → tap the body → record.
 * The single request path for /v1 and for in-process callers (chat, RAG, browser).
 */
export function startExchange(deps: ExchangeDeps, request: ExchangeRequest, clientSignal?: ClientSignal): Promise<StartedExchange> {
  // The exchange's own promise, not one more async frame around it: each is a microtask and a
  // generator resume per request.
  return new Exchange(deps, request, clientSignal).forward(request);
}

function onDeadline(exchange: Exchange): void {
  exchange.deadlineHit = true;
  exchange.cancel.abort();
}

/**
 * One request in flight. A class with methods rather than a dozen closures per request
 * (BENCHMARKS.md, gateway section); it is also the StartedExchange handed to the relay.
 */
class Exchange implements StartedExchange, ExchangeState, PendingStart {
  /** The id the client sees (x-request-id) and the log lines carry: the client's own, or ours. */
  readonly requestId: string;
  readonly cancel = new CancelSource();
  clientClosed = false;
  clientStalled = false;
  deadlineHit = false;
  endReason: EndReason | undefined = undefined;
  target!: Target;
  attempts = 0;
  status = 0;
  headers: Readonly<Record<string, string>> = {};
  isSse = false;
  body!: BodyTap;
  ttfbMs = 0;
  private context!: RecordContext;
  private deadline: NodeJS.Timeout | undefined;
  private isSettled = false;
  /** Where LiveExchanges holds this exchange while it runs (-1: not yet). */
  private liveSlot = -1;
  private marker: RecordMarker | undefined;

  constructor(
    private readonly deps: ExchangeDeps,
    request: ExchangeRequest,
    private readonly clientSignal: ClientSignal | undefined,
  ) {
    this.requestId = request.requestId ?? newRequestId();
  }

  // The recorder's PendingStart is the exchange itself: no object and closure per request for a
  // marker that is built only if the request outlives a flush.
  get id(): string {
    return this.context.recordId;
  }

  get createdAt(): number {
    return this.context.startedAt;
  }

  buildRow(): NewRecord {
    return buildPendingRecord(this.context);
  }

  /** Cancels the target call (client went away); also the client signal's listener. */
  readonly abort = (): void => {
    this.clientClosed = true;
    this.cancel.abort();
  };

  /** LiveExchanges: a graceful stop ends what is still in flight at its deadline. */
  end(reason: EndReason): void {
    this.endReason = reason;
    this.cancel.abort();
  }

  stall(): void {
    this.clientStalled = true;
    this.cancel.abort();
  }

  describeFailure(error: unknown): BodyFailure {
    const outcome = classifyBodyError(error, this);
    const messages = this.target.kind === 'worker' ? WORKER_FAILURE_MESSAGES : FAILURE_MESSAGES;
    return { outcome, message: messages[outcome] ?? 'The upstream failed.', code: failureCode(outcome) };
  }

  /** Plans, forwards with failover and starts the tap; throws the client's error when no target answered. */
  async forward(request: ExchangeRequest): Promise<StartedExchange> {
    const { deps } = this;
    const requestedModel = typeof request.json?.['model'] === 'string' ? request.json['model'] : request.model;
    const plan = deps.router.plan(requestedModel);
    // The record's id is `requestId` when that is ours, a new one when the client chose it.
    const recordId = request.clientRequestId === undefined ? this.requestId : newRequestId();
    const context: RecordContext = { recordId, clientRequestId: request.clientRequestId ?? null, startedAt: Date.now(), ip: request.ip, principal: request.principal, method: request.method, path: request.path, model: plan.model, stream: request.json?.['stream'] === true, body: request.body };
    this.context = context;
    if (plan.targets.length === 0) {
      const error = noTargetError(requestedModel, deps.router.hasUpstreams());
      this.record({ status: error.status, outcome: 'no_target', attempts: 0, errorClass: error.code });
      throw error;
    }
    const call = buildForwardCall(request, { requestId: this.requestId, requestedModel, model: plan.model, stream: context.stream });
    // A signal aborted before this point has fired its event already and will not fire again.
    if (this.clientSignal?.aborted === true) this.abort();
    else this.clientSignal?.addEventListener('abort', this.abort, { once: true });
    // A plan of targets that bound their own time (the worker fleet: TIMEOUT, and no cap on its
    // streams, as in seed 000) gets no deadline of ours. 0 turns the deadline off, as 0 does for
    // the first-byte and idle timeouts (undici's).
    const deadlineMs = context.stream ? deps.config.timeouts.streamTotalMs : deps.config.timeouts.totalMs;
    if (deadlineMs > 0 && !plan.targets.every((target) => target.boundsItsOwnTime === true)) this.deadline = setTimeout(onDeadline, deadlineMs, this);
    this.liveSlot = deps.live.add(this);
    this.marker = deps.recorder.begin(this);
    let result: FailoverResult;
    try {
      // Nobody is left to read an answer: no target is called, not even once.
      if (this.cancel.aborted) throw new SwitchboardError('client_closed', 'Client closed the request.');
      result = await forwardWithFailover(call, { targets: plan.targets, maxAttempts: deps.config.maxAttempts, signal: this.cancel, observer: deps.observer, budget: deps.budget });
    } catch (caught) {
      throw this.failBeforeResponse(caught);
    }
    this.startBody(call, result, request.path);
    return this;
  }

  private startBody(call: ForwardCall, result: FailoverResult, path: string): void {
    const { response } = result;
    this.target = result.target;
    this.attempts = result.attempts;
    this.status = response.status;
    this.ttfbMs = Date.now() - this.context.startedAt;
    const isSse = (response.headers['content-type'] ?? '').startsWith('text/event-stream');
    this.isSse = isSse;
    const credentials = credentialsOf(call.apiKey, result.target);
    // Error bodies are where upstreams reflect what they were sent; a masked body changes length.
    const secrets = !isSse && response.status >= 400 ? credentials : [];
    this.headers = clientHeaders(response.headers, { credentials, dropLength: secrets.length > 0 });
    const maxJsonBytes = this.deps.config.maxErrorBodyBytes * 4;
    const done = (error?: Error | null) => this.bodyDone(error);
    if (!isSse) {
      this.body = new PlainTap(response.body, { secrets, maxCaptureChars: MAX_RECORD_TEXT_CHARS, maxJsonBytes }, done);
      return;
    }
    const options = {
      stripUsageChunk: call.streamUsageBody !== undefined,
      expectDone: response.status < 400 && USAGE_PATHS.has(path) && result.target.kind === 'upstream',
      maxCaptureChars: MAX_RECORD_TEXT_CHARS,
    };
    this.body = new UsageTap(response.body, options, done);
  }

  private bodyDone(error?: Error | null): void {
    if (!error) {
      if (this.body.endedEarly) this.settle({ status: 502, outcome: 'upstream_incomplete', errorClass: this.body.sawErrorEvent ? 'upstream_error_event' : 'no_done_marker' });
      else this.settle({ status: this.status, outcome: this.status < 400 ? 'ok' : 'upstream_error_response' });
      return;
    }
    const outcome = classifyBodyError(error, this);
    this.settle({ status: statusFor(outcome), outcome, errorClass: outcome });
    if (!CLIENT_OUTCOMES.has(outcome)) this.deps.log.warn({ requestId: this.requestId, target: this.target.id, reason: outcome }, 'upstream body failed mid-way');
  }

  private failBeforeResponse(caught: unknown): SwitchboardError {
    this.cleanup();
    const error = caught instanceof SwitchboardError ? caught : new SwitchboardError('internal', 'Internal server error', { cause: caught, expose: false });
    const finalError = failureBeforeResponse(error, this);
    const reason = error.details?.['reason'];
    this.record({ status: finalError.status, outcome: this.endReason ?? finalError.code, attempts: Number(error.details?.['attempts'] ?? 0), errorClass: typeof reason === 'string' ? reason : error.code });
    return finalError;
  }

  private settle(end: { status: number; outcome: string; errorClass?: string }): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.cleanup();
    // Spelled out: a spread followed by more properties is slow on this path (exchange-record.ts).
    this.record({ status: end.status, outcome: end.outcome, errorClass: end.errorClass, attempts: this.attempts, targetId: this.target.id, ttfbMs: this.ttfbMs, tap: this.body });
  }

  private cleanup(): void {
    clearTimeout(this.deadline);
    this.deps.live.delete(this.liveSlot, this);
    this.clientSignal?.removeEventListener('abort', this.abort);
  }

  private record(end: RecordOutcome): void {
    this.deps.recorder.record(buildRecord(this.deps.config.records, this.context, end), this.marker, end.tap?.unparsedBody);
  }
}

/** The error a client gets when nothing was sent yet, by what ended the exchange. */
function failureBeforeResponse(error: SwitchboardError, state: ExchangeState): SwitchboardError {
  if (state.endReason === 'shutdown') return shuttingDownError();
  if (state.clientClosed) return new SwitchboardError('client_closed', 'Client closed the request.');
  if (state.deadlineHit) return new SwitchboardError('upstream_timeout', 'The upstream did not answer in time.');
  return error;
}

/**
 * Nothing to send the request to. Without a model, only upstreams that declare no models take it
 * (files, batches, …): when every upstream declares its models that is a 404 that says so, not a
 * 503 that clients would retry and that claimed no upstream was configured.
 */
function noTargetError(requestedModel: string | undefined, hasUpstreams: boolean): SwitchboardError {
  if (requestedModel !== undefined) return new SwitchboardError('model_not_found', `The model \`${requestedModel}\` does not exist or no upstream serves it.`, { param: 'model' });
  if (hasUpstreams) {
    return new SwitchboardError('not_found', 'No upstream takes requests without a model: every upstream is limited to its declared models. An upstream that declares none serves these requests.');
  }
  return new SwitchboardError('upstream_unavailable', 'No upstream is configured; add one with `switchboard upstream add` or POST /admin/upstreams.');
}
