import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import { SwitchboardError } from '../platform/errors.js';
import { forwardWithFailover, type AttemptObserver, type RetryBudget } from './failover.js';
import type { UsageRecorder } from './records/recorder.js';
import type { Router } from './router.js';
import type { ForwardCall, Principal, Target } from './target.js';
import { UsageTap } from './usage-tap.js';

export interface ExchangeDeps {
  readonly config: Config['gateway'];
  readonly router: Router;
  readonly observer: AttemptObserver;
  readonly budget: RetryBudget;
  readonly recorder: UsageRecorder;
  readonly log: FastifyBaseLogger;
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
  readonly body: UsageTap;
  readonly ttfbMs: number;
  /** Cancels the target call (client went away). */
  abort(): void;
}

const USAGE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);
const MAX_CAPTURE_CHARS = 256 * 1024;

function wantsUsage(json: Readonly<Record<string, unknown>> | undefined): boolean {
  const options = json?.['stream_options'];
  return typeof options === 'object' && options !== null && (options as Record<string, unknown>)['include_usage'] === true;
}

/** Outcome names stored in records.outcome for a body that failed mid-way. */
function classifyBodyError(error: unknown, deadlineHit: boolean, clientClosed: boolean): string {
  if (clientClosed) return 'client_closed';
  // An in-process consumer that destroys the body before the end is a client going away.
  if ((error as { code?: string } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return 'client_closed';
  if (deadlineHit) return 'upstream_timeout';
  const code = (error as { code?: string } | undefined)?.code;
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'upstream_idle_timeout';
  if (code === 'ERR_SWITCHBOARD_IDLE') return 'upstream_idle_timeout';
  return 'upstream_reset';
}

/**
 * Authenticate → resolve model → pick targets → forward with failover → tap the body → record.
 * The single request path for /v1 and for in-process callers (chat, RAG, browser).
 */
export async function startExchange(deps: ExchangeDeps, request: ExchangeRequest, clientSignal?: AbortSignal): Promise<StartedExchange> {
  const startedAt = Date.now();
  const requestId = request.requestId ?? randomUUID();
  const requestedModel = typeof request.json?.['model'] === 'string' ? request.json['model'] : undefined;
  const stream = request.json?.['stream'] === true;
  const plan = deps.router.plan(requestedModel);
  const record = (fields: { status: number; outcome: string; target?: Target; attempts: number; ttfbMs?: number; tap?: UsageTap; errorClass?: string }) =>
    deps.recorder.record({
      id: requestId,
      created_at: startedAt,
      ip: request.ip,
      key_id: request.principal.id,
      method: request.method,
      path: request.path,
      model: plan.model ?? null,
      stream: stream ? 1 : 0,
      target_id: fields.target?.id ?? null,
      attempts: fields.attempts,
      status: fields.status,
      outcome: fields.outcome,
      error_class: fields.errorClass ?? null,
      ttfb_ms: fields.ttfbMs ?? null,
      elapsed_ms: Date.now() - startedAt,
      prompt_tokens: fields.tap?.usage?.promptTokens ?? null,
      completion_tokens: fields.tap?.usage?.completionTokens ?? null,
      total_tokens: fields.tap?.usage?.totalTokens ?? null,
      body: deps.config.records.storeRequestBody ? request.body.toString('utf8') : '',
      response: deps.config.records.storeResponse ? (fields.tap?.text ?? '') : '',
    });

  if (plan.targets.length === 0) {
    const error = requestedModel === undefined
      ? new SwitchboardError('upstream_unavailable', 'No upstream is configured; add one with `switchboard upstream add` or POST /admin/upstreams.')
      : new SwitchboardError('model_not_found', `The model \`${requestedModel}\` does not exist or no upstream serves it.`, { param: 'model' });
    record({ status: error.status, outcome: 'no_target', attempts: 0, errorClass: error.code });
    throw error;
  }

  const call = buildCall(request, requestId, plan.model, requestedModel, stream);
  const controller = new AbortController();
  let clientClosed = false;
  const onClientAbort = () => { clientClosed = true; controller.abort(); };
  clientSignal?.addEventListener('abort', onClientAbort, { once: true });
  let deadlineHit = false;
  const deadline = stream ? undefined : setTimeout(() => { deadlineHit = true; controller.abort(); }, deps.config.timeouts.totalMs);
  const cleanup = () => { clearTimeout(deadline); clientSignal?.removeEventListener('abort', onClientAbort); };

  let result;
  try {
    result = await forwardWithFailover(call, { targets: plan.targets, maxAttempts: deps.config.maxAttempts, signal: controller.signal, observer: deps.observer, budget: deps.budget });
  } catch (caught) {
    cleanup();
    const error = caught instanceof SwitchboardError ? caught : new SwitchboardError('internal', 'Internal server error', { cause: caught, expose: false });
    const finalError = clientClosed ? new SwitchboardError('client_closed', 'Client closed the request.') : deadlineHit ? new SwitchboardError('upstream_timeout', 'The upstream did not answer in time.') : error;
    const attempts = Number(error.details?.['attempts'] ?? 0);
    record({ status: finalError.status, outcome: finalError.code, attempts, errorClass: String(error.details?.['reason'] ?? error.code) });
    throw finalError;
  }

  const ttfbMs = Date.now() - startedAt;
  const contentType = result.response.headers['content-type'] ?? '';
  const isSse = contentType.startsWith('text/event-stream');
  const tap = new UsageTap({
    isSse,
    stripUsageChunk: call.streamUsageBody !== undefined,
    expectDone: isSse && result.response.status < 400 && USAGE_PATHS.has(request.path) && result.target.kind === 'upstream',
    maxCaptureChars: MAX_CAPTURE_CHARS,
    maxJsonBytes: deps.config.maxErrorBodyBytes * 4,
  });
  let settled = false;
  const settle = (outcome: string, status: number, errorClass?: string) => {
    if (settled) return;
    settled = true;
    cleanup();
    record({ status, outcome, target: result.target, attempts: result.attempts, ttfbMs, tap, ...(errorClass ? { errorClass } : {}) });
  };
  pipeline(result.response.body as Readable, tap, (error) => {
    if (!error) {
      const ok = result.response.status < 400;
      settle(tap.endedEarly ? 'upstream_incomplete' : ok ? 'ok' : 'upstream_error_response', tap.endedEarly ? 502 : result.response.status, tap.endedEarly ? 'no_done_marker' : undefined);
      return;
    }
    const outcome = classifyBodyError(error, deadlineHit, clientClosed);
    settle(outcome, outcome === 'client_closed' ? 499 : 502, outcome);
    if (outcome !== 'client_closed') deps.log.warn({ requestId, target: result.target.id, reason: outcome }, 'upstream body failed mid-way');
  });
  return {
    requestId,
    target: result.target,
    attempts: result.attempts,
    status: result.response.status,
    headers: result.response.headers,
    isSse,
    body: tap,
    ttfbMs,
    abort: onClientAbort,
  };
}

function buildCall(request: ExchangeRequest, requestId: string, model: string | undefined, requestedModel: string | undefined, stream: boolean): ForwardCall {
  let json = request.json;
  let body = request.body;
  if (json && model !== requestedModel) {
    json = { ...json, model };
    body = Buffer.from(JSON.stringify(json));
  }
  const addUsage = stream && json !== undefined && USAGE_PATHS.has(request.path) && !wantsUsage(json);
  const streamUsageBody = addUsage
    ? Buffer.from(JSON.stringify({ ...json, stream_options: { ...(json?.['stream_options'] as object | undefined), include_usage: true } }))
    : undefined;
  return {
    requestId,
    method: request.method,
    path: request.path,
    search: request.search,
    headers: request.headers,
    body,
    json,
    model,
    stream,
    apiKey: request.apiKey,
    streamUsageBody,
  };
}
