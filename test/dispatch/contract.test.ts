import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTopics, forEachBroker, uniqueModel } from '../support/brokers.js';
import { postChat, waitForRecord } from '../support/records.js';
import { chatCompletion, chunk } from '../support/scripted-upstream.js';
import { readSse } from '../support/sse-client.js';
import { AUTH, startApp, type TestApp } from '../support/start-app.js';
import { WorkerSim } from '../support/worker-sim.js';

const TIMEOUT_BODY = '{"error":{"message":"Request timeout","type":"request_timeout_error","param":null,"code":null}}';
const NOT_FOUND = { error: 'Request ID not found' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const withoutKeepAlive = (text: string) => text.replaceAll(': keep-alive\n\n', '');
let counter = 0;
const nextId = (name: string) => `${name}-${Date.now()}-${counter++}`;

forEachBroker((broker) => {
  describe('seed 000 contract (SEEDS-SPEC §1.3–1.5)', () => {
    const model = uniqueModel();
    const url = broker.url();
    let app: TestApp;
    let sim: WorkerSim;

    beforeAll(async () => {
      app = await startApp({
        overrides: {
          'dispatch.brokerUrl': url,
          'dispatch.models': [model],
          'dispatch.timeoutMs': 1_000,
          'dispatch.ackWaitMs': 1_000,
          'dispatch.keepAliveMs': 150,
          'dispatch.streamIdleMs': 700,
          'dispatch.maxReplyBytes': 64 * 1024,
          'gateway.records.flushIntervalMs': 20,
          // Shorter than TIMEOUT on purpose: a worker-served request is bounded by the seed's
          // TIMEOUT (its 408 body), never cut short by the gateway's total deadline (a 504).
          'gateway.timeouts.totalMs': 300,
        },
      });
      sim = await WorkerSim.start({ brokerUrl: url, model });
    });
    afterAll(async () => {
      await sim.close();
      await app.close();
      await cleanupTopics(broker.kind, [model]);
    });

    it('non-stream: publishes the seed task and answers with the worker data byte for byte', async () => {
      const dataText = '{"id": "chatcmpl-sim",  "object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi <&>"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}';
      sim.handler = async (task) => {
        await task.post({ dataText });
      };
      const requestId = nextId('ns');
      const response = await postChat(app, { model, messages: [{ role: 'user', content: 'hello' }] }, { requestId, headers: { cookie: 'session=secret', 'x-trace': 'abc' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.text()).toBe(dataText);

      const received = sim.received.find((entry) => entry.task.request_id === requestId)!;
      expect(Object.keys(JSON.parse(received.payload))).toEqual(['request_id', 'stream', 'data', 'endpoint', 'metadata', 'reply_token']);
      expect(received.task).toMatchObject({ stream: false, endpoint: `${app.url}/res`, data: { model, messages: [{ role: 'user', content: 'hello' }] } });
      expect(received.task.reply_token.length).toBeGreaterThanOrEqual(32);
      const headers = received.task.metadata.headers;
      expect(headers['Content-Type']).toEqual(['application/json']);
      expect(headers['X-Trace']).toEqual(['abc']);
      expect(JSON.stringify(headers).toLowerCase()).not.toMatch(/authorization|cookie|sk-test-gateway-key|session=secret/);

      const row = await waitForRecord(app, requestId);
      expect(row).toMatchObject({ status: 200, outcome: 'ok', target_id: `worker:model-${model}`, total_tokens: 7 });
    });

    it('stream: one `data:` event per frame, then [DONE]; the record names the worker target', async () => {
      sim.handler = undefined;
      const requestId = nextId('st');
      const response = await postChat(app, { model, stream: true, messages: [{ role: 'user', content: 'two words' }] }, { requestId });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const { text } = await readSse(response);
      const expected = [chunk('', { model, role: true }), chunk('sim: ', { model }), chunk('two ', { model }), chunk('words', { model }), chunk(undefined, { model, finish: 'stop' })];
      expect(withoutKeepAlive(text)).toBe(expected.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + 'data: [DONE]\n\n');
      const received = sim.received.find((entry) => entry.task.request_id === requestId)!;
      expect(received.task.endpoint).toBe(`${app.url.replace('http', 'ws')}/res/ws`);
      expect(received.task.stream).toBe(true);
      const row = await waitForRecord(app, requestId);
      expect(row).toMatchObject({ status: 200, outcome: 'ok', target_id: `worker:model-${model}` });
    });

    it('stream ending with data: the data is written before [DONE]', async () => {
      const error = { error: { message: 'quota', type: 'insufficient_quota', param: null, code: null } };
      sim.handler = async (task) => {
        await task.frame({ end: false, dataText: '{"a": 1}' });
        await task.frame({ end: true, data: error });
      };
      const { text } = await readSse(await postChat(app, { model, stream: true }));
      expect(withoutKeepAlive(text)).toBe(`data: {"a": 1}\n\ndata: ${JSON.stringify(error)}\n\ndata: [DONE]\n\n`);
    });

    it('a frame whose data spans several lines (pretty-printed JSON) reaches the client as one event', async () => {
      // OpenAI's own error bodies are pretty-printed; a worker forwarding one must not break the SSE framing.
      const prettyError = JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, null, 4);
      sim.handler = async (task) => {
        await task.frame({ end: false, dataText: '{\r\n  "a": [1,\n 2]\r}' });
        await task.frame({ end: true, dataText: prettyError });
      };
      const { events } = await readSse(await postChat(app, { model, stream: true }));
      const data = events.map((event) => event.data);
      expect(data).toHaveLength(3);
      expect(JSON.parse(data[0]!)).toEqual({ a: [1, 2] });
      expect(JSON.parse(data[1]!)).toEqual(JSON.parse(prettyError));
      expect(data[2]).toBe('[DONE]');
    });

    it('a client that reuses its x-request-id is answered every time', async () => {
      sim.handler = undefined;
      const requestId = nextId('again');
      for (const content of ['first', 'second']) {
        const response = await postChat(app, { model, messages: [{ role: 'user', content }] }, { requestId });
        expect(response.status).toBe(200);
        expect(((await response.json()) as any).choices[0].message.content).toBe(`sim: ${content}`);
      }
      const { text } = await readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: 'third' }] }, { requestId }));
      expect(text).toContain(JSON.stringify(chunk('third', { model })));
    });

    it('keeps a quiet stream alive with `: keep-alive` comments', async () => {
      sim.handler = async (task) => {
        await sleep(400);
        await task.streamAnswer('late');
      };
      const { text } = await readSse(await postChat(app, { model, stream: true }));
      expect(text.startsWith(': keep-alive\n\n')).toBe(true);
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    });

    it('non-stream: `"data": null` is answered `null`, a reply without data an empty body (SEEDS-SPEC §1.3)', async () => {
      for (const [fields, expected] of [[{ data: null }, 'null'], [{}, '']] as const) {
        sim.handler = async (task) => {
          await task.post(fields);
        };
        const response = await postChat(app, { model }, { requestId: nextId('nd') });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/json');
        expect(await response.text()).toBe(expected);
      }
    });

    it('non-stream with no reply: the seed 408 body, and the late reply then gets 404', async () => {
      let late: Promise<{ status: number; body: any }> | undefined;
      sim.handler = async (task) => {
        late = sleep(1_400).then(() => task.post({ data: chatCompletion('too late') }));
      };
      const requestId = nextId('to');
      const response = await postChat(app, { model }, { requestId });
      expect(response.status).toBe(408);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.text()).toBe(TIMEOUT_BODY);
      await expect.poll(() => late).toBeDefined();
      expect(await late).toEqual({ status: 404, body: NOT_FOUND });
      expect(await waitForRecord(app, requestId)).toMatchObject({ status: 408, target_id: `worker:model-${model}` });
    });

    it('a stream whose worker goes quiet ends with an in-band error and no [DONE]', async () => {
      sim.handler = async (task) => task.frame({ end: false, data: chunk('partial', { model }) });
      const requestId = nextId('idle');
      const { text, events } = await readSse(await postChat(app, { model, stream: true }, { requestId }));
      expect(text).toContain(`data: ${JSON.stringify(chunk('partial', { model }))}\n\n`);
      expect(text).not.toContain('[DONE]');
      expect(JSON.parse(events.at(-1)!.data).error).toMatchObject({ message: 'The worker stopped sending data.', code: 'upstream_idle_timeout' });
      expect(await waitForRecord(app, requestId)).toMatchObject({ outcome: 'upstream_idle_timeout' });
    });

    it('unknown request ids get 404 on /res and are ignored on /res/ws', async () => {
      const response = await fetch(`${app.url}/res`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request_id: 'never-issued', data: {} }) });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual(NOT_FOUND);
      const bad = await fetch(`${app.url}/res`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"request_id":' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
    });

    it('a /res body Go decodes to the id "" (null, no request_id, a null one) gets 404; a wrongly typed one 400', async () => {
      const post = async (body: string) => {
        const response = await fetch(`${app.url}/res`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return { status: response.status, body: await response.json() };
      };
      const invalid = { status: 400, body: { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } } };
      expect(await post('{}')).toEqual({ status: 404, body: NOT_FOUND });
      expect(await post('{"data":{}}')).toEqual({ status: 404, body: NOT_FOUND });
      expect(await post('null')).toEqual({ status: 404, body: NOT_FOUND });
      expect(await post('{"request_id":null,"data":1}')).toEqual({ status: 404, body: NOT_FOUND });
      expect(await post('{"request_id":5}')).toEqual(invalid);
      expect(await post('[]')).toEqual(invalid);
    });

    it('limits reply sizes: a /res body over dispatch.maxReplyBytes gets 413', async () => {
      const body = JSON.stringify({ request_id: 'x', data: 'a'.repeat(100 * 1024) });
      const response = await fetch(`${app.url}/res`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ error: 'Reply body is too large' });
    });

    it('ignores malformed frames and keeps the socket open', async () => {
      sim.handler = async (task) => {
        await task.sendRaw('not json');
        await task.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
        await task.sendRaw('{"request_id": 5, "end": true}');
        await task.sendRaw('{"request_id": "x", "end": "yes"}');
        await task.sendRaw('null');
        await task.sendRaw('{"end": true, "data": {"x": 1}}');
        await task.frame({ end: true, requestId: 'unknown-id', data: { x: 1 } });
        await task.streamAnswer('still here');
      };
      const { text } = await readSse(await postChat(app, { model, stream: true }));
      expect(withoutKeepAlive(text)).toContain(JSON.stringify(chunk('here', { model })));
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(text).not.toContain('"x":1');
    });

    it('first terminal reply wins: a duplicate gets 404', async () => {
      const verdicts: unknown[] = [];
      sim.handler = async (task) => {
        verdicts.push(await task.post({ data: chatCompletion('first') }));
        verdicts.push(await task.post({ data: chatCompletion('second') }));
      };
      const body: any = await (await postChat(app, { model })).json();
      expect(body.choices[0].message.content).toBe('first');
      await expect.poll(() => verdicts.length).toBe(2);
      expect(verdicts).toEqual([{ status: 200, body: { status: 'ok' } }, { status: 404, body: NOT_FOUND }]);
    });

    it('refuses replies without the token (401) or with a wrong one (403); a Bearer header works', async () => {
      const verdicts: unknown[] = [];
      sim.handler = async (task) => {
        verdicts.push(await task.post({ token: null, data: chatCompletion('no token') }));
        verdicts.push(await task.post({ token: 'forged-token', data: chatCompletion('forged') }));
        verdicts.push(await task.post({ token: null, bearer: task.task.reply_token, data: chatCompletion('genuine') }));
      };
      const body: any = await (await postChat(app, { model })).json();
      expect(body.choices[0].message.content).toBe('genuine');
      await expect.poll(() => verdicts.length).toBe(3);
      expect(verdicts).toEqual([
        { status: 401, body: { error: 'Reply token required' } },
        { status: 403, body: { error: 'Reply token does not match' } },
        { status: 200, body: { status: 'ok' } },
      ]);
    });

    it('forged or token-less frames never reach the stream', async () => {
      sim.handler = async (task) => {
        await task.frame({ end: false, token: 'forged', data: { injected: 1 } });
        await task.frame({ end: true, token: null, data: { injected: 2 } });
        await task.streamAnswer('real');
      };
      const { text } = await readSse(await postChat(app, { model, stream: true }));
      expect(text).not.toContain('injected');
      expect(text).toContain(JSON.stringify(chunk('real', { model })));
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    });

    it('a client that leaves frees its request: later replies get 404', async () => {
      let reply: Promise<{ status: number; body: any }> | undefined;
      const controller = new AbortController();
      sim.handler = async (task) => {
        controller.abort();
        reply = sleep(150).then(() => task.post({ data: chatCompletion('nobody listens') }));
      };
      await expect(postChat(app, { model }, { signal: controller.signal })).rejects.toThrow();
      await expect.poll(() => reply).toBeDefined();
      expect(await reply).toEqual({ status: 404, body: NOT_FOUND });
    });

    it('lists the fleet model on /v1/models', async () => {
      const response = await fetch(`${app.url}/v1/models`, { headers: AUTH });
      const body: any = await response.json();
      expect(body.data.map((entry: any) => entry.id)).toContain(model);
    });
  });
});
