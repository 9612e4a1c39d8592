import type { Generated } from 'kysely';

/** Key/value settings (seed 001 `config_kvs`), also holds generated secrets. */
export interface ConfigKvTable {
  key: string;
  value: string;
  created_at: number;
  updated_at: number;
}

/** Upstreams managed through /admin and the CLI (seed 001 `openai_upstreams`). Times in epoch ms. */
export interface UpstreamTable {
  id: Generated<number>;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  name: string;
  sk: string;
  endpoint: string;
  profile: string;
  weight: number;
  /** JSON array of model names; empty array = any model. */
  models: string;
  success_count: number;
  failed_count: number;
  /** 0 = never (seed: Go's zero time). */
  last_call_success_time: number;
}

/** Gateway keys created at runtime (the generated first key); only a hash is stored. */
export interface GatewayKeyTable {
  id: Generated<number>;
  name: string;
  key_hash: string;
  key_prefix: string;
  created_at: number;
  revoked_at: number | null;
}

/** One row per request that reached the router (seed 001 `records`, plus usage). */
export interface RecordTable {
  /** The gateway's own request id: unique per request, whatever the client sent. */
  id: string;
  /** The client's x-request-id, when it sent one (it is also the id its response and log line carry). */
  client_request_id: string | null;
  created_at: number;
  ip: string;
  key_id: string | null;
  method: string;
  path: string;
  model: string | null;
  stream: number;
  /** `upstream:3`, `worker:model-x`, or null when no target was reached. */
  target_id: string | null;
  attempts: number;
  status: number;
  /** ok, client_closed, upstream_error, upstream_timeout, upstream_idle_timeout, no_target, … */
  outcome: string;
  error_class: string | null;
  ttfb_ms: number | null;
  elapsed_ms: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  body: string;
  response: string;
  /** The instance that wrote a `pending` row (RELIABILITY F20). */
  instance_id: Generated<string | null>;
  /** 1 when the tokens were counted by the gateway because the upstream sent no usage (R4). */
  usage_estimated: Generated<number>;
}

/** Live gateway instances; one silent for 3 heartbeats is considered dead. Times from the database clock. */
export interface GatewayInstanceTable {
  id: string;
  started_at: number;
  heartbeat_at: number;
}

export interface GatewayTables {
  config_kvs: ConfigKvTable;
  openai_upstreams: UpstreamTable;
  gateway_keys: GatewayKeyTable;
  records: RecordTable;
  gateway_instances: GatewayInstanceTable;
}
