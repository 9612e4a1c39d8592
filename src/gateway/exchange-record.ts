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

/** The columns a request's end fills in; a pending marker has them empty. */
interface EndColumns {
  readonly targetId: string | null;
  readonly attempts: number;
  readonly status: number;
  readonly outcome: string;
  readonly errorClass: string | null;
  readonly ttfbMs: number | null;
  readonly elapsedMs: number;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly totalTokens: number | null;
  readonly usageEstimated: 0 | 1;
  readonly body: string;
  readonly response: string;
}

const PENDING: EndColumns = {
  targetId: null, attempts: 0, status: 0, outcome: 'pending', errorClass: null, ttfbMs: null, elapsedMs: 0,
  promptTokens: null, completionTokens: null, totalTokens: null, usageEstimated: 0, body: '', response: '',
};

/**
 * The row, written as one object literal on purpose. `{ ...columns, more: … }` looked tidier, but
 * on Node 20's V8 every property added after a spread costs about a microsecond (the clone's map
 * gets no cached transitions): 22 µs per record, a tenth of the proxy's CPU per request
 * (BENCHMARKS.md, gateway section). `instance_id` is set here so the recorder fills it in place.
 */
function row(context: RecordContext, end: EndColumns): NewRecord {
  return {
    id: context.requestId,
    created_at: context.startedAt,
    ip: context.ip,
    key_id: context.principal.id,
    method: context.method,
    path: context.path,
    model: context.model ?? null,
    stream: context.stream ? 1 : 0,
    target_id: end.targetId,
    attempts: end.attempts,
    status: end.status,
    outcome: end.outcome,
    error_class: end.errorClass,
    ttfb_ms: end.ttfbMs,
    elapsed_ms: end.elapsedMs,
    prompt_tokens: end.promptTokens,
    completion_tokens: end.completionTokens,
    total_tokens: end.totalTokens,
    usage_estimated: end.usageEstimated,
    body: end.body,
    response: end.response,
    instance_id: null,
  };
}

/** Builds the one terminal record row of a request (R5: exactly one per request). */
export function buildRecord(settings: Config['gateway']['records'], context: RecordContext, end: RecordOutcome): NewRecord {
  const usage = end.tap?.usage;
  // R4: without a usage block (a cut stream, a worker that sends none) the gateway's own count
  // of content deltas is recorded, flagged as an estimate.
  const estimated = usage === undefined && end.tap !== undefined && end.tap.contentEvents > 0 ? end.tap.contentEvents : undefined;
  return row(context, {
    targetId: end.targetId ?? null,
    attempts: end.attempts,
    status: end.status,
    outcome: end.outcome,
    errorClass: end.errorClass ?? null,
    ttfbMs: end.ttfbMs ?? null,
    elapsedMs: Date.now() - context.startedAt,
    promptTokens: usage?.promptTokens ?? null,
    completionTokens: usage?.completionTokens ?? estimated ?? null,
    totalTokens: usage?.totalTokens ?? estimated ?? null,
    usageEstimated: estimated === undefined ? 0 : 1,
    body: settings.storeRequestBody ? context.body.toString('utf8') : '',
    response: settings.storeResponse ? (end.tap?.text ?? '') : '',
  });
}

/**
 * The `pending` marker of a request that just started (RELIABILITY F20): written only if the
 * request outlives a flush, replaced by its terminal row. No body or text: those come at the end.
 */
export function buildPendingRecord(context: RecordContext): NewRecord {
  return row(context, PENDING);
}
