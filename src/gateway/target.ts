import type { Readable } from 'node:stream';

/** One request as it is sent to a target. Built once by the proxy, never mutated. */
export interface ForwardCall {
  /** Also the record id and the worker task's `request_id`. */
  readonly requestId: string;
  readonly method: string;
  /** OpenAI path including `/v1`, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Raw query string including `?`, or ''. */
  readonly search: string;
  /** Client headers, lower-case, with credentials and hop-by-hop headers already removed. */
  readonly headers: Readonly<Record<string, string>>;
  /** Exact bytes to send upstream. */
  readonly body: Buffer;
  /** The parsed JSON body, when the body is JSON (the worker task embeds it). */
  readonly json: Readonly<Record<string, unknown>> | undefined;
  /** The model name after aliasing, as the target should see it. */
  readonly model: string | undefined;
  readonly stream: boolean;
  /** Per-call upstream key that replaces the upstream's own (a chat conversation's api_key). */
  readonly apiKey?: string | undefined;
  /**
   * The body with `stream_options.include_usage` added, for upstreams whose profile allows it;
   * set only for streams whose client did not ask for usage itself.
   */
  readonly streamUsageBody?: Buffer | undefined;
}

/**
 * The part of a Node Readable the exchange reads a target's body through: flowing `data` once a
 * listener is attached, `end`, `error`, pause/resume for back-pressure, destroy to drop the rest.
 * A Readable is one; the upstream target's `UpstreamCall` is a lighter one (upstream-call.ts).
 */
export interface BodySource {
  readonly destroyed: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  once(event: 'end', listener: () => void): this;
  pause(): this;
  resume(): this;
  destroy(error?: Error): this;
}

/** What `Target.send` resolves with: status, headers (lower-case, hop-by-hop removed) and the body. */
export interface TargetReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: BodySource;
}

/** A reply whose body is a Node Readable: what in-process callers of the gateway read. */
export interface TargetResponse extends TargetReply {
  readonly body: Readable;
}

/**
 * What `Target.send` listens to for cancellation: the part of AbortSignal targets use, so an
 * AbortSignal fits and the exchange can pass something lighter (`CancelSource`).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  /** Why it aborted (an `AbortError` DOMException, as AbortController gives). */
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Something a request can be sent to: one upstream, or the worker queue of one model. */
export interface Target {
  /** Stable id used in records and logs: `upstream:3`, `worker:model-llama3`. */
  readonly id: string;
  readonly kind: 'upstream' | 'worker';
  /**
   * True when the target answers a non-stream call within a deadline of its own (the worker
   * fleet's TIMEOUT, with seed 000's 408 body): the exchange then sets no total deadline that
   * would cut it short with a 504.
   */
  readonly boundsItsOwnTime?: boolean;
  /**
   * Sends the call. Resolves once response headers are in; rejects with a SwitchboardError for
   * transport failures. Aborting `signal` cancels the call and destroys the body.
   */
  send(call: ForwardCall, signal: CancelSignal): Promise<TargetReply>;
}

/** Who is calling; decorated on the request by each surface's authentication. */
export interface Principal {
  readonly kind: 'gateway-key' | 'user' | 'browser' | 'anonymous' | 'admin';
  /** `key:3`, `cfg:ab12cd34`, `user:17`, `browser:<jti>` — what records store as key_id. */
  readonly id: string;
}
