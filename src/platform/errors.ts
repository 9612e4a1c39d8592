import { isStoreUnavailable } from '../db/driver-errors.js';

/**
 * Our stable error codes, each with its HTTP status and the `type` string an OpenAI client sees.
 * Seed 000 defines three of the types (SEEDS-SPEC §1.3); the rest match what OpenAI returns.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  gone: { status: 410, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'request_timeout_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  unprocessable: { status: 422, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  client_closed: { status: 499, type: 'invalid_request_error' },
  internal: { status: 500, type: 'internal_server_error' },
  upstream_error: { status: 502, type: 'upstream_error' },
  upstream_unavailable: { status: 503, type: 'service_unavailable_error' },
  overloaded: { status: 503, type: 'service_unavailable_error' },
  store_unavailable: { status: 503, type: 'service_unavailable_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SwitchboardErrorOptions {
  /** Whether `message` may reach the client; otherwise a generic text is sent. @default false only for `internal` */
  readonly expose?: boolean;
  readonly cause?: unknown;
  /** Extra fields for the log line, never sent. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Override the code's status (e.g. an upstream's own 4xx). */
  readonly status?: number;
  /** Response headers to add, e.g. Retry-After. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The OpenAI `param` field. */
  readonly param?: string;
}

/** The one error class. Rendered per surface (OpenAI shape on /v1, seed shapes elsewhere). */
export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, options: SwitchboardErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'SwitchboardError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.expose = options.expose ?? code !== 'internal';
    this.details = options.details;
    this.headers = options.headers;
    this.param = options.param;
  }

  get type(): string {
    return ERROR_CODES[this.code].type;
  }
}

export function isSwitchboardError(error: unknown): error is SwitchboardError {
  return error instanceof SwitchboardError;
}

/** Errors Fastify raises itself (body limit, bad JSON, …) carry `statusCode` and an FST_ code. */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message: string;
}

/** Turns anything thrown into a SwitchboardError; unknown errors become `internal`. */
export function toSwitchboardError(error: unknown): SwitchboardError {
  if (isSwitchboardError(error)) return error;
  // A database that is down or busy is a 503 to retry, not a server fault (RELIABILITY F22).
  if (isStoreUnavailable(error)) return new SwitchboardError('store_unavailable', 'The database is unavailable; retry shortly.', { cause: error, headers: { 'retry-after': '1' } });
  const framework = error as FrameworkError;
  const status = typeof framework.statusCode === 'number' ? framework.statusCode : 500;
  if (status === 413) return new SwitchboardError('payload_too_large', 'Request body is too large.', { cause: error });
  if (status === 415) return new SwitchboardError('unsupported_media_type', framework.message, { cause: error });
  if (status === 408) return new SwitchboardError('request_timeout', 'Request timeout', { cause: error });
  if (status >= 400 && status < 500) {
    const code = framework.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || framework.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'invalid_json' : 'bad_request';
    return new SwitchboardError(code, framework.message, { cause: error, status });
  }
  return new SwitchboardError('internal', 'Internal server error', { cause: error, expose: false });
}

/** The message a client may see for this error. */
export function publicMessage(error: SwitchboardError): string {
  return error.expose ? error.message : 'Internal server error';
}
