import OpenAI, { toFile, APIError, BadRequestError, InternalServerError, NotFoundError, PermissionDeniedError, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_MESSAGES } from '../../src/gateway/keys/authenticate.js';
import { waitForRecord } from '../support/records.js';
import { chatCompletion, chunk, startScriptedUpstream, usageChunk, type ScriptedUpstream, type Step } from '../support/scripted-upstream.js';
import { TEST_KEY, startApp, type TestApp } from '../support/start-app.js';

// A client written for OpenAI, pointed at Switchboard and nothing else changed: what its users
// read (content, usage, deltas, error classes and fields, retries) must come out as from OpenAI.

const MODELS = ['gpt-test', 'embed-test', 'org/model-x'];

/** What an upstream answers for a call `openai` makes with its defaults: base64 embeddings. */
function embeddingsAnswer(json: any): Step {
  const inputs: string[] = Array.isArray(json.input) ? json.input : [json.input];
  const vector = (index: number) => new Float32Array([index, 0.5, -0.25]);
  const encode = (floats: Float32Array) => (json.encoding_format === 'base64' ? Buffer.from(floats.buffer).toString('base64') : Array.from(floats));
  return {
    kind: 'json',
    body: { object: 'list', model: json.model, data: inputs.map((_input, index) => ({ object: 'embedding', index, embedding: encode(vector(index)) })), usage: { prompt_tokens: 4, total_tokens: 4 } },
  };
}

const openAiError = (status: number, error: { message: string; type: string; param: string | null; code: string | null }, headers: Record<string, string> = {}): Step => ({ kind: 'json', status, body: { error }, headers });

/** Runs `call` and returns what it threw; fails the test when it did not throw. */
async function rejectionOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('the official openai SDK against /v1', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({ overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-secret', models: MODELS }], 'gateway.modelAliases': { fast: 'gpt-test' } } });
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: TEST_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('creates a chat completion: content, usage and the request id', async () => {
    const { data: completion, response } = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi there' }] }).withResponse();
    expect(response.status).toBe(200);
    expect(completion.choices[0]?.message.content).toBe('echo: hi there');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toEqual({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 });
    const seen = upstream.requests.at(-1)!;
    expect(seen.url).toBe('/v1/chat/completions');
    expect(seen.headers.authorization).toBe('Bearer sk-upstream-secret');
  });

  it('streams with for await: the deltas join up, the last chunk finishes, and no usage chunk unless asked', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk('Hel'), chunk('lo'), chunk(undefined, { finish: 'stop' }), usageChunk(5, 2)] });
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const part of stream) chunks.push(part);
    expect(chunks.map((part) => part.choices[0]?.delta.content ?? '').join('')).toBe('Hello');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    // Switchboard asked the upstream for usage itself; the client, which did not, never sees that chunk.
    expect(upstream.requests.at(-1)!.json.stream_options).toEqual({ include_usage: true });
    expect(chunks.filter((part) => part.usage != null)).toEqual([]);
    expect(chunks.every((part) => part.choices.length === 1)).toBe(true);
  });

  it('streams the usage chunk when stream_options.include_usage is asked', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk('Hi'), chunk(undefined, { finish: 'stop' }), usageChunk(4, 1)] });
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const part of stream) chunks.push(part);
    expect(chunks.map((part) => part.choices[0]?.delta.content ?? '').join('')).toBe('Hi');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 } });
  });

  it('raises an APIError from for await when a stream fails after its first byte', async () => {
    upstream.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const event of [chunk('', { role: true }), chunk('Hel')]) response.write(`data: ${JSON.stringify(event)}\n\n`);
        setTimeout(() => response.socket?.destroy(), 50);
      },
    });
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const contents: string[] = [];
    const error = await rejectionOf(async () => {
      for await (const part of stream) contents.push(part.choices[0]?.delta.content ?? '');
    });
    expect(contents.join('')).toBe('Hel');
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ message: 'The upstream connection was lost.', type: 'upstream_error', code: 'upstream_reset' });
  });

  it('creates and streams a Responses API answer: named SSE events pass through for the SDK to type', async () => {
    const response = { id: 'resp_1', object: 'response', created_at: 1_700_000_000, status: 'completed', model: 'gpt-test', output: [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotations: [] }] }], usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 } };
    upstream.enqueue({ kind: 'json', body: response });
    const { data: created, request_id: createdId } = await client.responses.create({ model: 'gpt-test', input: 'hi' }).withResponse();
    expect(created.output_text).toBe('Hello');
    expect(created.usage).toMatchObject({ input_tokens: 3, output_tokens: 1 });
    // The record reads the Responses API's own usage names and output text.
    expect(await waitForRecord(app, createdId!)).toMatchObject({ path: '/v1/responses', prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, usage_estimated: 0, response: 'Hello' });
    const events = [
      { type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [] } },
      { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hel' },
      { type: 'response.output_text.delta', sequence_number: 2, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'lo' },
      { type: 'response.completed', sequence_number: 3, response },
    ];
    upstream.enqueue({ kind: 'sse', events: [], raw: events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`), done: false });
    const { data: stream, request_id: streamId } = await client.responses.create({ model: 'gpt-test', input: 'hi', stream: true }).withResponse();
    const seen: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) seen.push(event);
    expect(seen.map((event) => event.type)).toEqual(events.map((event) => event.type));
    expect(seen.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : [])).join('')).toBe('Hello');
    expect(upstream.requests.at(-1)!.json).toEqual({ model: 'gpt-test', input: 'hi', stream: true });
    // Streamed, the usage comes only in `response.completed`, and the text in the delta events.
    expect(await waitForRecord(app, streamId!)).toMatchObject({ outcome: 'ok', prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, usage_estimated: 0, response: 'Hello' });
  });

  it('stops the upstream call when the SDK user breaks out of for await', async () => {
    upstream.enqueue({ kind: 'sse', events: Array.from({ length: 50 }, (_unused, index) => chunk(`t${index} `)), intervalMs: 20 });
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const seen = upstream.requests.at(-1)!;
    let count = 0;
    for await (const _part of stream) if (++count === 2) break;
    await expect.poll(() => seen.abortedAt).toBeDefined();
    expect(seen.eventsSent).toBeLessThan(50);
  });

  it('uploads audio for a transcription: the multipart body is routed by its model field', async () => {
    upstream.enqueue({ kind: 'json', body: { text: 'hello from audio' } });
    const transcription = await client.audio.transcriptions.create({ model: 'gpt-test', file: await toFile(Buffer.from('RIFF....WAVEfmt '), 'a.wav', { type: 'audio/wav' }) });
    expect(transcription.text).toBe('hello from audio');
    const seen = upstream.requests.at(-1)!;
    expect(seen.url).toBe('/v1/audio/transcriptions');
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.body.includes('RIFF....WAVEfmt ')).toBe(true);
  });

  it('creates embeddings: the SDK asks for base64 and decodes the vectors Switchboard passed through', async () => {
    upstream.setFallback({ kind: 'choose', pick: (request) => embeddingsAnswer(request.json) });
    try {
      const result = await client.embeddings.create({ model: 'embed-test', input: ['alpha', 'beta'] });
      expect(upstream.requests.at(-1)!.json.encoding_format).toBe('base64');
      expect(result.data.map((item) => item.embedding)).toEqual([[0, 0.5, -0.25], [1, 0.5, -0.25]]);
      expect(result.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
      const floats = await client.embeddings.create({ model: 'embed-test', input: 'alpha', encoding_format: 'float' });
      expect(floats.data[0]?.embedding).toEqual([0, 0.5, -0.25]);
    } finally {
      upstream.setFallback(undefined);
    }
  });

  it('lists models, page by page as the SDK iterates them', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(MODELS));
    expect(new Set(ids).size).toBe(ids.length);
    const page = await client.models.list();
    expect(page.data[0]).toEqual({ id: expect.any(String), object: 'model', created: expect.any(Number), owned_by: expect.any(String) });
  });

  it('retrieves every listed model by id, and raises NotFoundError for one not listed', async () => {
    for (const id of [...MODELS, 'fast', 'local-glove-100d']) {
      expect(await client.models.retrieve(id)).toEqual({ id, object: 'model', created: 0, owned_by: 'switchboard' });
    }
    const error = await rejectionOf(() => client.models.retrieve('no-such-model'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
  });

  it('works the same with /api/v1 as its base URL', async () => {
    const apiClient = new OpenAI({ baseURL: `${app.url}/api/v1`, apiKey: TEST_KEY, maxRetries: 0 });
    const completion = await apiClient.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'via api' }] });
    expect(completion.choices[0]?.message.content).toBe('echo: via api');
    const stream = await apiClient.chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'a b' }] });
    let text = '';
    for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: a b');
    const ids: string[] = [];
    for await (const model of apiClient.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(MODELS));
    const error = await rejectionOf(() => apiClient.chat.completions.create({ model: 'no-such-model', messages: [] }));
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('raises NotFoundError for a model nothing serves, with code, type and param', async () => {
    const before = upstream.requests.length;
    const error = await rejectionOf(() => client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error', param: 'model' });
    expect((error as APIError).error).toMatchObject({ message: 'The model `no-such-model` does not exist or no upstream serves it.' });
    expect(upstream.requests.length).toBe(before);
  });

  it('raises PermissionDeniedError for a wrong gateway key: the seed status and text, OpenAI-shaped', async () => {
    const stranger = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'sk-not-a-gateway-key', maxRetries: 0 });
    for (const call of [() => stranger.chat.completions.create({ model: 'gpt-test', messages: [] }), () => stranger.models.list()]) {
      const error = await rejectionOf(call);
      expect(error).toBeInstanceOf(PermissionDeniedError);
      expect(error).toMatchObject({ status: 403, code: 'forbidden', type: 'permission_error', param: null });
      expect((error as APIError).error).toMatchObject({ message: AUTH_MESSAGES.wrongKey });
    }
  });

  it("passes an upstream's 429 through as RateLimitError with its fields and Retry-After", async () => {
    const body = { message: 'Rate limit reached for gpt-test.', type: 'requests', param: null, code: 'rate_limit_exceeded' };
    upstream.enqueue(openAiError(429, body, { 'retry-after': '0' }));
    const error = await rejectionOf(() => client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests', param: null });
    expect((error as APIError).error).toEqual(body);
    expect((error as APIError).headers?.get('retry-after')).toBe('0');
  });

  it("passes an upstream's 400 through as BadRequestError with its code, type, param and message", async () => {
    const body = { message: "Invalid value for 'temperature': must be at most 2.", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' };
    upstream.enqueue(openAiError(400, body));
    const error = await rejectionOf(() => client.chat.completions.create({ model: 'gpt-test', temperature: 9, messages: [{ role: 'user', content: 'x' }] }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_value', type: 'invalid_request_error', param: 'temperature' });
    expect((error as APIError).message).toContain(body.message);
    expect(upstream.requests.at(-1)!.json.temperature).toBe(9);
  });

  it('raises InternalServerError when the only upstream keeps failing and the SDK gives up', async () => {
    const body = { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null };
    upstream.enqueue(openAiError(500, body));
    const error = await rejectionOf(() => client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 500, type: 'server_error' });
  });
});

describe('the SDK retrying through Switchboard (maxRetries: 2, one upstream)', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({ overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-secret' }], 'gateway.timeouts.firstByteMs': 300 } });
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: TEST_KEY, maxRetries: 2 });
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('recovers from a 503 then a 429: Switchboard answers each with its status, the SDK retries and succeeds', async () => {
    upstream.enqueue(
      openAiError(503, { message: 'The engine is currently overloaded.', type: 'server_error', param: null, code: null }),
      openAiError(429, { message: 'Rate limit reached.', type: 'requests', param: null, code: 'rate_limit_exceeded' }, { 'retry-after-ms': '10' }),
      { kind: 'json', body: chatCompletion('third time lucky') },
    );
    const before = upstream.requests.length;
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]?.message.content).toBe('third time lucky');
    const seen = upstream.requests.slice(before);
    expect(seen).toHaveLength(3);
    expect(seen.map((request) => request.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
  });

  it('recovers a stream whose first attempt the upstream refused', async () => {
    upstream.enqueue(openAiError(502, { message: 'Bad gateway.', type: 'server_error', param: null, code: null }));
    const stream = await client.chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'again please' }] });
    let text = '';
    for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: again please');
  });

  it('recovers when the upstream connection is reset before it answers', async () => {
    upstream.enqueue({ kind: 'reset' });
    const refused = await rejectionOf(() => client.chat.completions.create({ model: 'gpt-test', messages: [] }, { maxRetries: 0 }));
    expect(refused).toBeInstanceOf(InternalServerError);
    expect(refused).toMatchObject({ status: 503, type: 'service_unavailable_error', code: 'upstream_unavailable' });
    upstream.enqueue({ kind: 'reset' });
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'after a reset' }] });
    expect(completion.choices[0]?.message.content).toBe('echo: after a reset');
  });

  it('recovers when the upstream does not answer in time: Switchboard says 504 and the SDK tries again', async () => {
    upstream.enqueue({ kind: 'silent' });
    const refused = await rejectionOf(() => client.chat.completions.create({ model: 'gpt-test', messages: [] }, { maxRetries: 0 }));
    expect(refused).toBeInstanceOf(InternalServerError);
    expect(refused).toMatchObject({ status: 504, type: 'timeout_error', code: 'upstream_timeout' });
    upstream.enqueue({ kind: 'silent' });
    const { data: completion, response } = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'slow' }] }).withResponse();
    expect(completion.choices[0]?.message.content).toBe('echo: slow');
    expect(response.status).toBe(200);
  });

  it("waits out an upstream 429's Retry-After, which also rests the only upstream, and succeeds", async () => {
    upstream.enqueue(openAiError(429, { message: 'Rate limit reached.', type: 'requests', param: null, code: 'rate_limit_exceeded' }, { 'retry-after': '1' }));
    const startedAt = Date.now();
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'patient' }] });
    expect(completion.choices[0]?.message.content).toBe('echo: patient');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
  });

  it('does not retry what OpenAI calls final: a 400 is raised after one call', async () => {
    upstream.enqueue(openAiError(400, { message: 'Bad.', type: 'invalid_request_error', param: null, code: null }));
    const before = upstream.requests.length;
    const error = await rejectionOf(() => client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(upstream.requests.length - before).toBe(1);
  });
});
