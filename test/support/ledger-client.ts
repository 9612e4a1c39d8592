import { Agent, request, type Dispatcher } from 'undici';
import { SseParser } from '../../src/platform/sse.js';
import type { RequestClass } from './ledger.js';
import { TEST_KEY } from './test-key.js';

/** How the client's side of one request ended (RELIABILITY §3.2, client ledger). */
export type ClientEnd =
  /** The response ended normally (EOF after a complete HTTP message). */
  | 'complete'
  /** The connection broke (RST/EOF mid-message) without a complete HTTP message. */
  | 'reset'
  /** Nothing listened: the request never left the client. */
  | 'refused'
  /** No terminal outcome before the harness deadline. */
  | 'deadline'
  /** The client itself went away (aborted, or stopped reading on purpose). */
  | 'client-gone';

/** One request as the client saw it. */
export interface ClientEntry {
  readonly id: string;
  readonly path: string;
  readonly stream: boolean;
  status?: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Response text (first 1 MiB). */
  body: string;
  /** SSE data payloads in order (streams). */
  events: string[];
  end: ClientEnd;
  error?: string;
  /** Set by long runs that classify at once and drop the body (the checker then trusts it). */
  kind?: RequestClass;
}

export interface LedgerRequestOptions {
  /** Base URL of the gateway, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly id: string;
  /** @default '/v1/chat/completions' */
  readonly path?: string;
  /** JSON body; `user` is set to the id so the upstream ledger can match it (§3.2). */
  readonly body?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  /** The request counts as a hang after this long. @default 10 s */
  readonly deadlineMs?: number;
  readonly dispatcher?: Dispatcher;
  /** Abort after this many SSE events (client disconnect, F12). */
  readonly abortAfterEvents?: number;
  /** Abort while still waiting for headers, after this many ms (F12 non-stream). */
  readonly abortAfterMs?: number;
  /** Stop reading after N events and wait for this to resolve before closing (stalled client, F11). */
  readonly stallAfterEvents?: number;
  readonly stallUntil?: () => Promise<void>;
  /** Pause this long between body chunks (slow reader). */
  readonly readDelayMs?: number;
}

const MAX_BODY_CHARS = 1024 * 1024;
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED', 'ERR_STREAM_PREMATURE_CLOSE']);

const sharedAgent = new Agent({ keepAliveTimeout: 1_000, headersTimeout: 0, bodyTimeout: 0 });

function endOf(error: unknown, flags: { deadline: boolean; clientGone: boolean }): ClientEnd {
  if (flags.clientGone) return 'client-gone';
  if (flags.deadline) return 'deadline';
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code ?? '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (RESET_CODES.has(code)) return 'reset';
  return 'reset';
}

/**
 * Sends one request the way a client would and records everything the ledger needs: status,
 * headers, body, SSE events, and how it ended. Never throws; a broken request is an entry.
 */
export async function ledgerRequest(options: LedgerRequestOptions): Promise<ClientEntry> {
  const path = options.path ?? '/v1/chat/completions';
  const stream = options.body?.['stream'] === true;
  const entry: ClientEntry = { id: options.id, path, stream, headers: {}, body: '', events: [], end: 'complete' };
  const controller = new AbortController();
  const flags = { deadline: false, clientGone: false };
  const deadline = setTimeout(() => {
    flags.deadline = true;
    controller.abort();
  }, options.deadlineMs ?? 10_000);
  const early = options.abortAfterMs === undefined ? undefined : setTimeout(() => {
    flags.clientGone = true;
    controller.abort();
  }, options.abortAfterMs);
  try {
    const response = await request(`${options.url}${path}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'x-request-id': options.id, ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify({ user: options.id, ...options.body }),
      signal: controller.signal,
      dispatcher: options.dispatcher ?? sharedAgent,
    });
    entry.status = response.statusCode;
    entry.headers = response.headers;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (entry.body.length < MAX_BODY_CHARS) entry.body += decoder.decode(chunk, { stream: true });
      if (stream) entry.events.push(...parser.push(chunk).map((event) => event.data));
      if (options.abortAfterEvents !== undefined && entry.events.length >= options.abortAfterEvents) {
        flags.clientGone = true;
        controller.abort();
      }
      if (options.stallAfterEvents !== undefined && entry.events.length >= options.stallAfterEvents) {
        flags.clientGone = true;
        await options.stallUntil?.();
        controller.abort();
      }
      if (options.readDelayMs) await new Promise((resolve) => setTimeout(resolve, options.readDelayMs));
    }
    if (stream) entry.events.push(...parser.end().map((event) => event.data));
    if (flags.clientGone) entry.end = 'client-gone';
  } catch (error) {
    entry.end = endOf(error, flags);
    entry.error = `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    clearTimeout(deadline);
    clearTimeout(early);
  }
  return entry;
}
