import type { ServerResponse } from 'node:http';
import { SwitchboardError } from '../platform/errors.js';
import type { BodyFailure, StartedExchange } from './exchange.js';
import { openAiErrorBody, sseErrorEvent } from './openai-errors.js';

export interface RelayLimits {
  /** Bytes queued for a slow client before the target read pauses; also the most of a plain body held back (R7). */
  readonly maxBufferedBytes: number;
  /** A client that takes nothing off its queue for this long is stalled (F11). */
  readonly clientStallMs: number;
}

type Headers = Record<string, string | number | string[]>;
/** Headers already set on the response (Fastify's `getHeaders()` may hold undefined values). */
export type SetHeaders = Readonly<Record<string, string | number | string[] | undefined>>;

/** The error a plain (non-SSE) body that failed before we sent anything becomes. */
function plainFailure(failure: BodyFailure): SwitchboardError {
  return new SwitchboardError(failure.code, failure.message, failure.code === 'overloaded' ? { headers: { 'retry-after': '1' } } : {});
}

/**
 * Back-pressure with a stall guard: once `maxBufferedBytes` wait for a slow reader the target read
 * pauses (undici then stops reading its socket, so the upstream is slowed, not buffered); a client
 * that makes no progress for `clientStallMs` gets the target cancelled and its socket closed.
 */
function pump(raw: ServerResponse, exchange: StartedExchange, limits: RelayLimits): (chunk: Buffer) => void {
  const body = exchange.body;
  let stallTimer: NodeJS.Timeout | undefined;
  let queuedAtCheck = 0;
  // Progress, not emptiness, is what counts: a slow reader still takes bytes off the queue.
  const checkStall = () => {
    const queued = raw.writableLength;
    if (queued < queuedAtCheck) {
      queuedAtCheck = queued;
      stallTimer = setTimeout(checkStall, limits.clientStallMs);
      return;
    }
    stallTimer = undefined;
    exchange.stall();
    raw.destroy();
  };
  raw.on('drain', () => {
    clearTimeout(stallTimer);
    stallTimer = undefined;
    body.resume();
  });
  raw.on('close', () => clearTimeout(stallTimer));
  return (chunk) => {
    // write() says false past the socket's own 16 KiB mark; we let the queue grow to our cap.
    if (raw.write(chunk) || raw.writableLength < limits.maxBufferedBytes) return;
    body.pause();
    // 0 turns the stall rule off, as 0 does for every gateway timeout: the read just stays paused.
    if (stallTimer || limits.clientStallMs === 0) return;
    queuedAtCheck = raw.writableLength;
    stallTimer = setTimeout(checkStall, limits.clientStallMs);
  };
}

/** The client's response and the headers already set on it. */
export interface RelayClient {
  readonly raw: ServerResponse;
  readonly setHeaders: SetHeaders;
  /** Called once the response has closed, finished or not (a callback, not a promise to await: one promise and two microtasks fewer per request). */
  readonly onClose: () => void;
}

/**
 * Sends the target's status, headers and body to the client; a client that leaves cancels the
 * target at once. SSE goes out as it arrives; a stream that fails after its first byte ends with
 * one in-band error event and no [DONE]. A plain body is held back up to `maxBufferedBytes`, so a
 * target that fails mid-body still gets the client a whole OpenAI error instead of a cut
 * response (R1); only a larger body is streamed, and cut if it fails.
 */
export function relayToClient(client: RelayClient, exchange: StartedExchange, limits: RelayLimits): void {
  const { raw, setHeaders, onClose } = client;
  const headers = responseHeaders(setHeaders, exchange);
  const body = exchange.body;
  // Set up only when bytes are streamed (SSE, or a body past the hold): most plain bodies never are.
  let pumpWrite: ((chunk: Buffer) => void) | undefined;
  const write = (chunk: Buffer) => (pumpWrite ??= pump(raw, exchange, limits))(chunk);
  let held: Buffer[] | undefined;
  let heldBytes = 0;
  const startBody = () => {
    raw.writeHead(exchange.status, headers);
    for (const part of held ?? []) write(part);
    held = undefined;
  };
  if (exchange.isSse) {
    headers['x-accel-buffering'] = 'no';
    raw.writeHead(exchange.status, headers);
    // The head leaves with the first event when that came with the upstream's headers, as it
    // usually does: one write instead of two (BENCHMARKS.md, gateway section, session 10).
    // Otherwise on its own, one turn later, so the client learns the status at once.
    setImmediate(() => {
      if (pumpWrite === undefined && !raw.writableEnded && !raw.destroyed) raw.flushHeaders();
    });
  } else {
    // Sent with the length of what we actually hold, or chunked once the body outgrows the hold.
    held = [];
  }

  raw.on('close', () => {
    if (!raw.writableFinished) exchange.abort();
    onClose();
  });
  body.on('data', (chunk: Buffer) => {
    if (!held) return write(chunk);
    held.push(chunk);
    heldBytes += chunk.length;
    if (heldBytes > limits.maxBufferedBytes) startBody();
  });
  body.on('end', () => {
    if (held) {
      // RFC 9110 §8.6: no Content-Length on 204/304.
      if (exchange.status !== 204 && exchange.status !== 304) headers['content-length'] = heldBytes;
      raw.writeHead(exchange.status, headers);
      // The tap's own string of these bytes when it kept one (PlainTap, for the record), else made here.
      const latin1 = body.passedOnLatin1;
      if (latin1?.length === heldBytes) raw.end(latin1, 'latin1');
      else endWithHeld(raw, held, heldBytes);
    } else if (body.endedEarly && !body.sawErrorEvent) raw.end(sseErrorEvent('The upstream closed the stream before it was complete.', 'upstream_incomplete'));
    else raw.end();
  });
  body.on('error', (error) => {
    if (raw.destroyed) return;
    const failure = exchange.describeFailure(error);
    if (exchange.isSse) raw.end(sseErrorEvent(failure.message, failure.outcome));
    else if (held) sendPlainError(raw, plainFailure(failure), baseHeaders(setHeaders, exchange.requestId));
    else raw.destroy();
  });
}

/**
 * A small body leaves as a latin1 string (byte for byte the same): Node then joins it to the head
 * in one socket write, where a Buffer goes through a corked two-chunk writev and its bookkeeping.
 */
const SINGLE_WRITE_MAX_BYTES = 16 * 1024;

function endWithHeld(raw: ServerResponse, held: readonly Buffer[], heldBytes: number): void {
  const whole = held.length === 1 && held[0] ? held[0] : Buffer.concat(held);
  if (heldBytes <= SINGLE_WRITE_MAX_BYTES) raw.end(whole.toString('latin1'), 'latin1');
  else raw.end(whole);
}

/** What was set on the response before the relay took it over (CORS), after our request id. */
function baseHeaders(setHeaders: SetHeaders, requestId: string): Headers {
  const base: Headers = { 'x-request-id': requestId };
  for (const name in setHeaders) {
    const value = setHeaders[name];
    if (value !== undefined) base[name] = value;
  }
  return base;
}

/**
 * The base headers, the target's headers, and our request id last, built in one object (the base
 * alone is built again only for an error). A plain body's Content-Length is left out here rather
 * than deleted later: `delete` turns the object into a slow dictionary.
 */
function responseHeaders(setHeaders: SetHeaders, exchange: StartedExchange): Headers {
  const headers = baseHeaders(setHeaders, exchange.requestId);
  for (const name in exchange.headers) {
    if (!exchange.isSse && name === 'content-length') continue;
    const value = exchange.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  headers['x-request-id'] = exchange.requestId;
  return headers;
}

function sendPlainError(raw: ServerResponse, error: SwitchboardError, base: Headers): void {
  const text = JSON.stringify(openAiErrorBody(error));
  raw.writeHead(error.status, { ...base, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...error.headers });
  raw.end(text);
}
