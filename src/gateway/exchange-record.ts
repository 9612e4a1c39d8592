import type { Config } from '../config/schema.js';
import type { NewRecord } from './records/records-repository.js';
import type { Principal } from './target.js';
import type { BodyTap } from './body-tap.js';

/** Facts known when a request starts, shared by every record it may produce. */
export interface RecordContext {
  /** The record's id: the gateway's own, never a client's (a client may send one x-request-id twice). */
  readonly recordId: string;
  /** The x-request-id the client sent, if any. */
  readonly clientRequestId: string | null;
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

/** The columns a request's end fills in (named as in the table); a pending marker has them empty. */
type EndColumns = Pick<
  NewRecord,
  'target_id' | 'attempts' | 'status' | 'outcome' | 'error_class' | 'ttfb_ms' | 'elapsed_ms' | 'prompt_tokens' | 'completion_tokens' | 'total_tokens' | 'usage_estimated' | 'body' | 'response'
>;

const PENDING: EndColumns = {
  target_id: null, attempts: 0, status: 0, outcome: 'pending', error_class: null, ttfb_ms: null, elapsed_ms: 0,
  prompt_tokens: null, completion_tokens: null, total_tokens: null, usage_estimated: 0, body: '', response: '',
};

/**
 * The row, written as one object literal on purpose. `{ ...columns, more: … }` looked tidier, but
 * on Node 20's V8 every property added after a spread costs about a microsecond (the clone's map
 * gets no cached transitions): ~30 µs per record in isolation, about a tenth of the CPU per request
 * (BENCHMARKS.md, gateway section). `instance_id` is set here so the recorder fills it in place.
 */
function row(context: RecordContext, end: EndColumns): NewRecord {
  return {
    id: context.recordId,
    created_at: context.startedAt,
    ip: context.ip,
    key_id: context.principal.id,
    method: context.method,
    path: context.path,
    model: context.model ?? null,
    stream: context.stream ? 1 : 0,
    target_id: end.target_id,
    attempts: end.attempts,
    status: end.status,
    outcome: end.outcome,
    error_class: end.error_class,
    ttfb_ms: end.ttfb_ms,
    elapsed_ms: end.elapsed_ms,
    prompt_tokens: end.prompt_tokens,
    completion_tokens: end.completion_tokens,
    total_tokens: end.total_tokens,
    usage_estimated: end.usage_estimated,
    body: end.body,
    response: end.response,
    instance_id: null,
    client_request_id: context.clientRequestId,
  };
}

/** Builds the one terminal record row of a request (R5: exactly one per request). */
export function buildRecord(settings: Config['gateway']['records'], context: RecordContext, end: RecordOutcome): NewRecord {
  // A plain body kept unparsed fills usage and response when the record is written (finish-records.ts).
  const isDeferred = end.tap?.unparsedBody !== undefined;
  const usage = isDeferred ? undefined : end.tap?.usage;
  // R4: without a usage block (a cut stream, a worker that sends none) the gateway's own count
  // of content deltas is recorded, flagged as an estimate.
  const estimated = usage === undefined && end.tap !== undefined && end.tap.contentEvents > 0 ? end.tap.contentEvents : undefined;
  return row(context, {
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
    response: settings.storeResponse && !isDeferred ? (end.tap?.text ?? '') : '',
  });
}

/**
 * The `pending` marker of a request that just started (RELIABILITY F20): written only if the
 * request outlives a flush, replaced by its terminal row. No body or text: those come at the end.
 */
export function buildPendingRecord(context: RecordContext): NewRecord {
  return row(context, PENDING);
}
