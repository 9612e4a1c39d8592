import type { Config } from '../config/schema.js';
import type { NewRecord } from './records/records-repository.js';
import type { Principal } from './target.js';
import type { BodyTap } from './exchange.js';

/** Facts known when a request starts, shared by every record it may produce. */
export interface RecordContext {
  readonly requestId: string;
  readonly startedAt: number;
  readonly ip: string;
  readonly principal: Principal;
  readonly method: string;
  readonly path: string;
  readonly model: string | undefined;
  readonly stream: boolean;
  readonly body: Buffer;
}

/** How the request ended. */
export interface RecordOutcome {
  readonly status: number;
  readonly outcome: string;
  readonly attempts: number;
  readonly targetId?: string | undefined;
  readonly ttfbMs?: number | undefined;
  readonly tap?: BodyTap | undefined;
  readonly errorClass?: string | undefined;
}

/** The columns a request fixes when it starts, shared by its pending marker and its terminal row. */
function requestColumns(context: RecordContext) {
  return {
    id: context.requestId,
    created_at: context.startedAt,
    ip: context.ip,
    key_id: context.principal.id,
    method: context.method,
    path: context.path,
    model: context.model ?? null,
    stream: context.stream ? 1 : 0,
  };
}

/** Builds the one terminal record row of a request (R5: exactly one per request). */
export function buildRecord(settings: Config['gateway']['records'], context: RecordContext, end: RecordOutcome): NewRecord {
  const usage = end.tap?.usage;
  // R4: without a usage block (a cut stream, a worker that sends none) the gateway's own count
  // of content deltas is recorded, flagged as an estimate.
  const estimated = usage === undefined && end.tap !== undefined && end.tap.contentEvents > 0 ? end.tap.contentEvents : undefined;
  return {
    ...requestColumns(context),
    target_id: end.targetId ?? null,
    attempts: end.attempts,
    status: end.status,
    outcome: end.outcome,
    error_class: end.errorClass ?? null,
    ttfb_ms: end.ttfbMs ?? null,
    elapsed_ms: Date.now() - context.startedAt,
    prompt_tokens: usage?.promptTokens ?? null,
    completion_tokens: usage?.completionTokens ?? estimated ?? null,
    total_tokens: usage?.totalTokens ?? estimated ?? null,
    usage_estimated: estimated === undefined ? 0 : 1,
    body: settings.storeRequestBody ? context.body.toString('utf8') : '',
    response: settings.storeResponse ? (end.tap?.text ?? '') : '',
  };
}

/**
 * The `pending` marker of a request that just started (RELIABILITY F20): written only if the
 * request outlives a flush, replaced by its terminal row. No body or text: those come at the end.
 */
export function buildPendingRecord(context: RecordContext): NewRecord {
  return {
    ...requestColumns(context),
    target_id: null,
    attempts: 0,
    status: 0,
    outcome: 'pending',
    error_class: null,
    ttfb_ms: null,
    elapsed_ms: 0,
    prompt_tokens: null,
    completion_tokens: null,
    total_tokens: null,
    body: '',
    response: '',
  };
}
