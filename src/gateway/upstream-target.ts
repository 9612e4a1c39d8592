import { Pool, errors as undiciErrors } from 'undici';
import { SwitchboardError } from '../platform/errors.js';
import { HOP_BY_HOP, filterHeaders } from '../platform/http-headers.js';
import type { CancelSignal, ForwardCall, Target, TargetReply } from './target.js';
import { UpstreamCall } from './upstream-call.js';
import type { UpstreamProfile } from './upstream-profiles.js';
import { upstreamPath } from './upstream-url.js';

export interface UpstreamTimeouts {
  readonly connectMs: number;
  readonly firstByteMs: number;
  readonly idleMs: number;
}

export interface UpstreamTargetOptions {
  readonly id: string;
  readonly endpoint: string;
  readonly apiKey: string;
  readonly profile: UpstreamProfile;
  readonly timeouts: UpstreamTimeouts;
}

/** Headers we never pass upstream: credentials are replaced, encodings are ours to negotiate. */
const DROP_TO_UPSTREAM = new Set([...HOP_BY_HOP, 'authorization', 'cookie', 'x-api-key', 'api-key', 'accept-encoding', 'x-forwarded-for', 'x-real-ip']);

/**
 * One upstream behind an undici Pool built once at start. undici never follows redirects unless
 * asked (RELIABILITY S4), and its connect/headers/body timeouts are exactly our connect, first-byte
 * and idle deadlines.
 */
export class UpstreamTarget implements Target {
  readonly id: string;
  readonly kind = 'upstream' as const;
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: UpstreamTargetOptions) {
    this.id = options.id;
    const url = new URL(options.endpoint);
    this.basePath = url.pathname;
    this.pool = new Pool(url.origin, {
      connect: { timeout: options.timeouts.connectMs },
      headersTimeout: options.timeouts.firstByteMs,
      bodyTimeout: options.timeouts.idleMs,
      keepAliveTimeout: 10_000,
    });
  }

  send(call: ForwardCall, signal: CancelSignal): Promise<TargetReply> {
    const headers = filterHeaders(call.headers, DROP_TO_UPSTREAM);
    const key = call.apiKey ?? this.options.apiKey;
    if (key) headers['authorization'] = `Bearer ${key}`;
    // Bodies are read (usage, text, our key masked in error bodies): no coding, which no
    // Accept-Encoding at all would leave the upstream free to choose (RFC 9110 §12.5.3).
    headers['accept-encoding'] = 'identity';
    const body = this.bodyFor(call);
    headers['content-length'] = String(body.length);
    const upstreamCall = new UpstreamCall(signal, this.classify);
    try {
      this.pool.dispatch(
        {
          method: call.method,
          path: upstreamPath(this.basePath, call.path, call.search),
          headers,
          body: body.length > 0 || call.method !== 'GET' ? body : null,
        },
        upstreamCall,
      );
    } catch (error) {
      // undici reports bad options and a closed pool through the handler; this is for anything else.
      upstreamCall.onResponseError(undefined, error instanceof Error ? error : new Error(String(error)));
    }
    return upstreamCall.reply;
  }

  private readonly classify = (error: unknown): SwitchboardError => classifyTransportError(error, this.id);

  /** Applies this vendor's quirks to the body; re-serialises only when something changes. */
  private bodyFor(call: ForwardCall): Buffer {
    const { profile } = this.options;
    const useUsageBody = call.streamUsageBody !== undefined && profile.streamUsage === 'stream_options';
    const mapped = call.model !== undefined && profile.mapModel ? profile.mapModel(call.model) : call.model;
    if (mapped !== call.model && call.json) {
      const base: object = useUsageBody ? (JSON.parse(call.streamUsageBody.toString('utf8')) as object) : call.json;
      const json = { ...base, model: mapped };
      return Buffer.from(JSON.stringify(json));
    }
    return useUsageBody ? call.streamUsageBody : call.body;
  }

  /** The upstream's own key, for side calls such as listing its models. */
  get apiKey(): string {
    return this.options.apiKey;
  }

  /** No new calls; resolves once those running have finished and the connections are closed. */
  retire(): Promise<void> {
    return this.pool.close();
  }

  /** Ends everything at once, calls in flight included (shutdown). */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** Maps undici's error codes to ours; the message never includes our key or the full URL. */
export function classifyTransportError(error: unknown, targetId: string): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  const code = (error as { code?: string }).code ?? '';
  const details = { targetId, undiciCode: code };
  if (error instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new SwitchboardError('upstream_timeout', 'The upstream did not answer in time.', { cause: error, details: { ...details, reason: 'first_byte_timeout' } });
  }
  if (error instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new SwitchboardError('upstream_unavailable', 'Could not connect to the upstream in time.', { cause: error, details: { ...details, reason: 'connect_timeout' } });
  }
  if ((error as Error).name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    return new SwitchboardError('client_closed', 'The request was cancelled.', { cause: error, details: { ...details, reason: 'aborted' } });
  }
  return new SwitchboardError('upstream_unavailable', 'The upstream could not be reached.', { cause: error, details: { ...details, reason: code || 'connect_error' } });
}
