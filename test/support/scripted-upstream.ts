import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The one allowed test double: a real OpenAI-compatible HTTP server on 127.0.0.1:0 whose every
 * answer a test can script (undici's retry-handler test pattern). Unscripted calls get a default
 * OpenAI-like answer (echo of the last user message, usage included, streaming when asked).
 */
export type Step =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string>; delayMs?: number }
  | { kind: 'text'; status?: number; body: string | Buffer; headers?: Record<string, string>; delayMs?: number }
  | {
      kind: 'sse';
      /** Raw event payloads; each is written as `data: <payload>\n\n` unless `raw` is set. */
      events: (string | object)[];
      intervalMs?: number;
      /** Append `data: [DONE]\n\n`. @default true */
      done?: boolean;
      /** Stop writing after N events but keep the socket open. */
      stallAfter?: number;
      /** Destroy the socket (RST) after N events. */
      resetAfter?: number;
      /** End the response cleanly (FIN) after N events, without [DONE]. */
      closeAfter?: number;
      /** Write these exact byte chunks instead of events. */
      raw?: (string | Buffer)[];
      headers?: Record<string, string>;
      /** Wait this long before sending the response headers. */
      headersDelayMs?: number;
      /** Insert a malformed piece before event N (RELIABILITY F9). */
      malformedAt?: { index: number; kind: MalformedKind };
      /** Wait for 'drain' when a write is refused, so `eventsSent` counts what the gateway took. */
      respectBackpressure?: boolean;
    }
  /** 302 to another URL (SSRF: the gateway must not follow it). */
  | { kind: 'redirect'; location: string; status?: number }
  /** Accept the request and never answer (first-byte timeout). */
  | { kind: 'silent' }
  /** Destroy the socket before any response. */
  | { kind: 'reset' }
  | { kind: 'handler'; handle: (request: RecordedRequest, response: ServerResponse) => void }
  /** Pick the step from the request itself (concurrent scenarios where arrival order is not fixed). */
  | { kind: 'choose'; pick: (request: RecordedRequest) => Step };

/** Broken SSE pieces the gateway must survive: bad JSON, a missing blank line, a 10 MiB line, invalid UTF-8. */
export type MalformedKind = 'bad-json' | 'no-blank-line' | 'huge-line' | 'invalid-utf8';

const HUGE_LINE_BYTES = 10 * 1024 * 1024;

function malformedPiece(kind: MalformedKind): string | Buffer {
  switch (kind) {
    case 'bad-json':
      return 'data: {"choices":[{"index":0,"delta":{"content":"x"}\n\n';
    case 'no-blank-line':
      return `data: ${JSON.stringify(chunk('glued'))}\n`;
    case 'huge-line':
      return `data: ${'x'.repeat(HUGE_LINE_BYTES)}\n\n`;
    case 'invalid-utf8':
      return Buffer.concat([Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"},"finish_reason":null}]}\n\n')]);
  }
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  readonly json: any;
  readonly receivedAt: number;
  /** Set when the client (the gateway) closed the connection before the answer finished. */
  abortedAt?: number;
  /** Events written before the end or abort. */
  eventsSent: number;
  /** The ledger id: `x-request-id`, else the body's `user` (RELIABILITY §3.2). */
  readonly requestId: string | undefined;
  /** Which scripted server saw it (`name` given at start). */
  readonly upstream: string;
  /** When the response headers went out. */
  firstByteAt?: number;
  /** Events with non-empty `delta.content` actually written: the tokens produced (R4). */
  contentSent: number;
  /** `completion_tokens` of the usage block sent, if one was. */
  tokensBilled?: number;
  /** Whether the answer was complete (stream with [DONE], or a whole JSON body). */
  completed: boolean;
}

export interface ScriptedUpstream {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Queue steps for the next calls, in order. */
  enqueue(...steps: Step[]): void;
  /** Step used for every call once the queue is empty (replaces the default echo). */
  setFallback(step: Step | undefined): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function chatCompletion(content: string, model = 'gpt-test', usage = { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 }) {
  return {
    id: 'chatcmpl-scripted',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage,
  };
}

export function chunk(content: string | undefined, options: { model?: string; finish?: string; role?: boolean } = {}) {
  const delta: Record<string, string> = {};
  if (options.role) delta['role'] = 'assistant';
  if (content !== undefined) delta['content'] = content;
  return {
    id: 'chatcmpl-scripted',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: options.model ?? 'gpt-test',
    choices: [{ index: 0, delta, finish_reason: options.finish ?? null }],
  };
}

export function usageChunk(prompt: number, completion: number, model = 'gpt-test') {
  return { id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } };
}

/** Deterministic embedding so tests can check vectors passed through. */
export function fakeEmbedding(text: string, dimensions = 8): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (let index = 0; index < text.length; index++) vector[index % dimensions]! += text.charCodeAt(index) / 1000;
  return vector;
}

function lastUserText(json: any): string {
  const messages = Array.isArray(json?.messages) ? json.messages : [];
  const last = messages.filter((message: any) => message?.role === 'user').at(-1);
  return typeof last?.content === 'string' ? last.content : '';
}

/** The default answer: what a well-behaved OpenAI-compatible server would send. */
export function defaultStep(request: RecordedRequest): Step {
  const json = request.json;
  const model = typeof json?.model === 'string' ? json.model : 'gpt-test';
  if (request.url.endsWith('/models')) {
    return { kind: 'json', body: { object: 'list', data: [{ id: 'gpt-test', object: 'model', owned_by: 'scripted' }] } };
  }
  if (request.url.endsWith('/embeddings')) {
    const inputs: string[] = (Array.isArray(json?.input) ? json.input : [json?.input ?? '']).map((input: unknown) => (typeof input === 'string' ? input : JSON.stringify(input)));
    return {
      kind: 'json',
      body: { object: 'list', model, data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(input) })), usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } },
    };
  }
  const answer = `echo: ${lastUserText(json)}`;
  if (json?.stream !== true) return { kind: 'json', body: chatCompletion(answer, model) };
  const words = answer.split(/(?<= )/);
  const events: object[] = [chunk('', { model, role: true }), ...words.map((word) => chunk(word, { model })), chunk(undefined, { model, finish: 'stop' })];
  if (json?.stream_options?.include_usage === true) events.push(usageChunk(9, words.length, model));
  return { kind: 'sse', events };
}

/** Ledger bookkeeping for one written SSE event payload. */
function noteEvent(request: RecordedRequest, payload: string | object): void {
  const json = typeof payload === 'string' ? undefined : (payload as any);
  if (typeof json?.choices?.[0]?.delta?.content === 'string' && json.choices[0].delta.content !== '') request.contentSent++;
  if (typeof json?.usage?.completion_tokens === 'number') request.tokensBilled = json.usage.completion_tokens;
}

async function play(step: Step, request: RecordedRequest, response: ServerResponse): Promise<void> {
  switch (step.kind) {
    case 'json':
    case 'text': {
      if (step.delayMs) await sleep(step.delayMs);
      if (isAborted(request)) return;
      const body = step.kind === 'json' ? JSON.stringify(step.body) : step.body;
      response.writeHead(step.status ?? 200, { 'content-type': step.kind === 'json' ? 'application/json' : 'text/plain', ...step.headers });
      request.firstByteAt = Date.now();
      const usage = step.kind === 'json' ? (step.body as any)?.usage : undefined;
      if (typeof usage?.completion_tokens === 'number') request.tokensBilled = usage.completion_tokens;
      response.end(body, () => { request.completed = true; });
      return;
    }
    case 'silent':
      return;
    case 'reset':
      response.socket?.destroy();
      return;
    case 'redirect':
      response.writeHead(step.status ?? 302, { location: step.location });
      response.end();
      return;
    case 'handler':
      step.handle(request, response);
      return;
    case 'sse':
      await playSse(step, request, response);
      return;
    case 'choose':
      await play(step.pick(request), request, response);
  }
}

// Read through a function: the flag is set by a 'close' listener while we await.
const isAborted = (request: RecordedRequest) => request.abortedAt !== undefined;

function writeWithBackpressure(response: ServerResponse, piece: string | Buffer, wait: boolean): Promise<void> | undefined {
  if (response.write(piece) || !wait) return undefined;
  return new Promise((resolve) => {
    const done = () => { response.off('drain', done); response.off('close', done); resolve(); };
    response.on('drain', done);
    response.on('close', done);
  });
}

async function playSse(step: Extract<Step, { kind: 'sse' }>, request: RecordedRequest, response: ServerResponse): Promise<void> {
  if (step.headersDelayMs) {
    await sleep(step.headersDelayMs);
    if (isAborted(request)) return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...step.headers });
  response.flushHeaders();
  request.firstByteAt = Date.now();
  const payloads: (string | object | undefined)[] = step.raw ? step.raw.map(() => undefined) : step.events;
  const pieces: (string | Buffer)[] = step.raw ?? step.events.map((event) => `data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`);
  if (step.malformedAt) {
    pieces.splice(step.malformedAt.index, 0, malformedPiece(step.malformedAt.kind));
    payloads.splice(step.malformedAt.index, 0, undefined);
  }
  for (let index = 0; index < pieces.length; index++) {
    if (isAborted(request)) return;
    if (step.stallAfter === index) return;
    if (step.resetAfter === index) { response.socket?.destroy(); return; }
    if (step.closeAfter === index) { response.end(); return; }
    if (index > 0 && step.intervalMs) {
      await sleep(step.intervalMs);
      if (isAborted(request)) return;
    }
    const pending = writeWithBackpressure(response, pieces[index]!, step.respectBackpressure === true);
    request.eventsSent++;
    const payload = payloads[index];
    if (payload !== undefined) noteEvent(request, payload);
    if (pending) await pending;
  }
  if (step.stallAfter !== undefined && step.stallAfter >= pieces.length) return;
  if (isAborted(request)) return;
  if (step.done ?? true) response.write('data: [DONE]\n\n');
  response.end(() => { request.completed = step.done ?? true; });
}

/** The ledger id of a request: the client's x-request-id, else the OpenAI `user` field. */
function ledgerId(headers: IncomingMessage['headers'], json: any): string | undefined {
  const header = headers['x-request-id'];
  if (typeof header === 'string' && header !== '') return header;
  return typeof json?.user === 'string' ? json.user : undefined;
}

export interface ScriptedUpstreamOptions {
  /** Ledger name of this server. @default "upstream" */
  readonly name?: string;
  /** Drop each request's body once answered (long soak runs keep only the ledger fields). */
  readonly slim?: boolean;
  /** @default 127.0.0.1 */
  readonly host?: string;
}

export async function startScriptedUpstream(options: ScriptedUpstreamOptions = {}): Promise<ScriptedUpstream> {
  const name = options.name ?? 'upstream';
  const queue: Step[] = [];
  const requests: RecordedRequest[] = [];
  let fallback: Step | undefined;
  const server = createServer((incoming, response) => {
    const parts: Buffer[] = [];
    incoming.on('data', (part: Buffer) => parts.push(part));
    incoming.on('end', () => {
      const body = Buffer.concat(parts);
      let json: any;
      try { json = JSON.parse(body.toString('utf8')); } catch { json = undefined; }
      const request: RecordedRequest = {
        method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, body, json, receivedAt: Date.now(), eventsSent: 0,
        requestId: ledgerId(incoming.headers, json), upstream: name, contentSent: 0, completed: false,
      };
      requests.push(request);
      response.on('close', () => { if (!response.writableFinished) request.abortedAt = Date.now(); });
      const step = queue.shift() ?? fallback ?? defaultStep(request);
      play(step, request, response)
        .catch(() => response.destroy())
        .finally(() => {
          if (!options.slim) return;
          const slim = request as { body: Buffer; json: unknown };
          slim.body = Buffer.alloc(0);
          slim.json = undefined;
        });
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    enqueue: (...steps) => queue.push(...steps),
    setFallback: (step) => { fallback = step; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
