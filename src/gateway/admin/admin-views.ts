import { maskSecret } from '../keys/gateway-keys.js';
import type { RecordRow } from '../records/records-repository.js';
import { displayEndpoint } from './upstream-fields.js';
import type { UpstreamRow } from './upstreams-repository.js';

/** Go's zero time, which seed 001 shows for "never". */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

function goTime(ms: number | null): string | null {
  if (ms === null) return null;
  return ms === 0 ? GO_ZERO_TIME : new Date(ms).toISOString();
}

function parseModels(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return [];
  }
}

/** Seed 001's upstream object (Go field names), with the key masked (RELIABILITY S3). */
export function upstreamView(row: UpstreamRow) {
  return {
    ID: row.id,
    CreatedAt: goTime(row.created_at),
    UpdatedAt: goTime(row.updated_at),
    DeletedAt: goTime(row.deleted_at),
    SK: maskSecret(row.sk),
    Endpoint: displayEndpoint(row.endpoint),
    SuccessCount: row.success_count,
    FailedCount: row.failed_count,
    LastCallSuccessTime: goTime(row.last_call_success_time),
    Name: row.name,
    Profile: row.profile,
    Weight: row.weight,
    Models: parseModels(row.models),
  };
}

/** Seed 001's record object; ElapsedTime in nanoseconds as the seed stores it, plus usage. */
export function recordView(row: RecordRow) {
  return {
    ID: row.id,
    CreatedAt: goTime(row.created_at),
    IP: row.ip,
    Body: row.body,
    Response: row.response,
    ElapsedTime: row.elapsed_ms * 1_000_000,
    Model: row.model,
    Path: row.path,
    Stream: row.stream === 1,
    Upstream: row.target_id,
    KeyID: row.key_id,
    ClientRequestID: row.client_request_id,
    Status: row.status,
    Outcome: row.outcome,
    ErrorClass: row.error_class,
    Attempts: row.attempts,
    TimeToFirstByteMs: row.ttfb_ms,
    PromptTokens: row.prompt_tokens,
    CompletionTokens: row.completion_tokens,
    TotalTokens: row.total_tokens,
  };
}
