/**
 * The bench's scripted upstream: a bare node:http server answering OpenAI chat completions at
 * once (non-stream) or as SSE with `--chunks` events `--interval-ms` apart (first one right after
 * the headers), plus the usage chunk when `stream_options.include_usage` asks for it, then
 * `[DONE]`. Asked for usage, every other chunk carries `"usage": null`, as OpenAI's do. Every byte is prepared up front so the upstream costs as little CPU as possible
 * (it shares the machine with the load generator and the proxy under test).
 *
 * Usage: node --import tsx bench/servers/upstream.ts --port 9001 [--chunks 20] [--interval-ms 50]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    chunks: { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '50' },
  },
});
const port = Number(values.port);
const chunkCount = Number(values.chunks);
const intervalMs = Number(values['interval-ms']);
if (!Number.isInteger(port) || port <= 0 || !Number.isInteger(chunkCount) || chunkCount < 1 || !(intervalMs >= 0)) {
  throw new Error('usage: upstream.ts --port N [--chunks N] [--interval-ms N]');
}

/** Largest request body read; the bench sends ~100 bytes. */
const MAX_BODY_BYTES = 64 * 1024;
const MODEL = 'gpt-bench';
const created = 1_700_000_000;
const usage = { prompt_tokens: 9, completion_tokens: chunkCount, total_tokens: 9 + chunkCount };

const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(chunkCount).trim() }, finish_reason: 'stop' }],
    usage,
  }),
);
const sseEvent = (payload: unknown) => Buffer.from(`data: ${JSON.stringify(payload)}\n\n`);
const chunkPayloads = Array.from({ length: chunkCount }, (_, index) => ({
  id: 'chatcmpl-bench',
  object: 'chat.completion.chunk',
  created,
  model: MODEL,
  choices: [{ index: 0, delta: index === 0 ? { role: 'assistant', content: 'word ' } : { content: 'word ' }, finish_reason: index === chunkCount - 1 ? 'stop' : null }],
}));
const chunkEvents = chunkPayloads.map(sseEvent);
const chunkEventsWithUsage = chunkPayloads.map((payload) => sseEvent({ ...payload, usage: null }));
const usageEvent = sseEvent({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: MODEL, choices: [], usage });
const doneEvent = Buffer.from('data: [DONE]\n\n');
const models = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', owned_by: 'bench' }] }));

function sendJson(response: ServerResponse, status: number, body: Buffer): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
}

function stream(response: ServerResponse, withUsage: boolean): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let index = 0;
  let timer: NodeJS.Timeout | undefined;
  response.on('close', () => clearTimeout(timer));
  const events = withUsage ? chunkEventsWithUsage : chunkEvents;
  const next = () => {
    if (response.destroyed) return;
    response.write(events[index]);
    index++;
    if (index < chunkCount) {
      timer = setTimeout(next, intervalMs);
      return;
    }
    if (withUsage) response.write(usageEvent);
    response.end(doneEvent);
  };
  next();
}

function answer(request: IncomingMessage, response: ServerResponse, body: string): void {
  const path = (request.url ?? '/').split('?')[0] ?? '/';
  if (request.method === 'GET' && path.endsWith('/models')) return sendJson(response, 200, models);
  if (request.method !== 'POST' || !path.endsWith('/chat/completions')) return sendJson(response, 404, Buffer.from('{"error":{"message":"not found"}}'));
  // A regex instead of JSON.parse: the bench controls the bodies and the upstream should stay cheap.
  if (/"stream"\s*:\s*true/.test(body)) return stream(response, /"include_usage"\s*:\s*true/.test(body));
  sendJson(response, 200, completion);
}

const server = createServer((request, response) => {
  const parts: Buffer[] = [];
  let size = 0;
  request.on('data', (part: Buffer) => {
    size += part.length;
    if (size <= MAX_BODY_BYTES) parts.push(part);
  });
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) return sendJson(response, 413, Buffer.from('{"error":{"message":"too large"}}'));
    answer(request, response, Buffer.concat(parts).toString('utf8'));
  });
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
