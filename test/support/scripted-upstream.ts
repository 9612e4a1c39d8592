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
    }
  /** Accept the request and never answer (first-byte timeout). */
  | { kind: 'silent' }
  /** Destroy the socket before any response. */
  | { kind: 'reset' }
  | { kind: 'handler'; handle: (request: RecordedRequest, response: ServerResponse) => void };

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
}

export interface ScriptedUpstream {
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
    const inputs: string[] = Array.isArray(json?.input) ? json.input : [String(json?.input ?? '')];
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

async function play(step: Step, request: RecordedRequest, response: ServerResponse): Promise<void> {
  switch (step.kind) {
    case 'json':
    case 'text': {
      if (step.delayMs) await sleep(step.delayMs);
      const body = step.kind === 'json' ? JSON.stringify(step.body) : step.body;
      response.writeHead(step.status ?? 200, { 'content-type': step.kind === 'json' ? 'application/json' : 'text/plain', ...step.headers });
      response.end(body);
      return;
    }
    case 'silent':
      return;
    case 'reset':
      response.socket?.destroy();
      return;
    case 'handler':
      step.handle(request, response);
      return;
    case 'sse':
      await playSse(step, request, response);
  }
}

// Read through a function: the flag is set by a 'close' listener while we await.
const isAborted = (request: RecordedRequest) => request.abortedAt !== undefined;

async function playSse(step: Extract<Step, { kind: 'sse' }>, request: RecordedRequest, response: ServerResponse): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...step.headers });
  response.flushHeaders();
  const pieces = step.raw ?? step.events.map((event) => `data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`);
  for (let index = 0; index < pieces.length; index++) {
    if (request.abortedAt !== undefined) return;
    if (step.stallAfter === index) return;
    if (step.resetAfter === index) { response.socket?.destroy(); return; }
    if (step.closeAfter === index) { response.end(); return; }
    if (index > 0 && step.intervalMs) {
      await sleep(step.intervalMs);
      if (isAborted(request)) return;
    }
    response.write(pieces[index]);
    request.eventsSent++;
  }
  if (step.stallAfter !== undefined && step.stallAfter >= pieces.length) return;
  if (step.done ?? true) response.write('data: [DONE]\n\n');
  response.end();
}

export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
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
      const request: RecordedRequest = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, body, json, receivedAt: Date.now(), eventsSent: 0 };
      requests.push(request);
      response.on('close', () => { if (!response.writableFinished) request.abortedAt = Date.now(); });
      const step = queue.shift() ?? fallback ?? defaultStep(request);
      play(step, request, response).catch(() => response.destroy());
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    enqueue: (...steps) => queue.push(...steps),
    setFallback: (step) => { fallback = step; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
