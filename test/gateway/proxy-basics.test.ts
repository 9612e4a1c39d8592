import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, startScriptedUpstream, usageChunk, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { AUTH, TEST_KEY, startApp, type TestApp } from '../support/start-app.js';
import { readSse } from '../support/sse-client.js';
import { forEachStore } from '../support/stores.js';
import { postChat, waitForRecord } from '../support/records.js';

forEachStore((store) => {
  describe('proxy basics', () => {
    let upstream: ScriptedUpstream;
    let app: TestApp;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startApp({
        store,
        overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-secret' }], 'gateway.records.flushIntervalMs': 20 },
      });
    });
    afterAll(async () => {
      await app.close();
      await upstream.close();
    });

    it('forwards a chat completion, swaps the key and records usage', async () => {
      const response = await fetch(`${app.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', 'x-request-id': 'req-basic-1' },
        body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi there' }] }),
      });
      expect(response.status).toBe(200);
      const body: any = await response.json();
      expect(body.choices[0].message.content).toBe('echo: hi there');
      const seen = upstream.requests.at(-1)!;
      expect(seen.url).toBe('/v1/chat/completions');
      expect(seen.headers.authorization).toBe('Bearer sk-upstream-secret');
      expect(JSON.stringify(seen.headers)).not.toContain(TEST_KEY);
      const row = await waitForRecord(app, 'req-basic-1');
      expect(row).toMatchObject({ status: 200, outcome: 'ok', prompt_tokens: 9, completion_tokens: 12, total_tokens: 21, model: 'gpt-test', target_id: 'upstream:config-1' });
      expect(row.response).toBe('echo: hi there');
    });

    it('keeps a record for every request when a client sends one x-request-id again', async () => {
      const send = () => postChat(app, { messages: [{ role: 'user', content: 'same id' }] }, { requestId: 'req-reused-1' });
      const responses = await Promise.all([send(), send()]);
      responses.push(await send());
      for (const response of responses) {
        expect(response.status).toBe(200);
        // The client's id is still the one it is answered with (and logged under).
        expect(response.headers.get('x-request-id')).toBe('req-reused-1');
        await response.text();
      }
      const terminalRows = () => app.app.store.db.selectFrom('records').selectAll().where('client_request_id', '=', 'req-reused-1').where('outcome', '!=', 'pending').execute();
      let rows = await terminalRows();
      for (let attempt = 0; attempt < 100 && rows.length < 3; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        rows = await terminalRows();
      }
      expect(rows).toHaveLength(3);
      expect(new Set(rows.map((row) => row.id)).size).toBe(3);
      expect(rows.map((row) => row.id)).not.toContain('req-reused-1');
      expect(rows.every((row) => row.outcome === 'ok' && row.total_tokens === 21)).toBe(true);
    });

    it("gives a request without x-request-id a record whose id is the one it was answered with", async () => {
      const response = await postChat(app, {});
      expect(response.status).toBe(200);
      await response.text();
      const id = response.headers.get('x-request-id')!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const row = await waitForRecord(app, id);
      expect(row).toMatchObject({ id, client_request_id: null, outcome: 'ok' });
    });

    it('passes a stream through byte for byte and strips the usage chunk it asked for', async () => {
      const events = [chunk('', { role: true }), chunk('Hel'), chunk('lo'), chunk(undefined, { finish: 'stop' }), usageChunk(5, 2)];
      upstream.enqueue({ kind: 'sse', events });
      const response = await fetch(`${app.url}/api/v1/chat/completions`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', 'x-request-id': 'req-stream-1' },
        body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const { text } = await readSse(response);
      const expected = events.slice(0, 4).map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + 'data: [DONE]\n\n';
      expect(text).toBe(expected);
      expect(upstream.requests.at(-1)!.json.stream_options).toEqual({ include_usage: true });
      const row = await waitForRecord(app, 'req-stream-1');
      expect(row).toMatchObject({ outcome: 'ok', prompt_tokens: 5, completion_tokens: 2, response: 'Hello' });
    });

    it('writes one log line per request with its model, target, attempts and tokens, plain and streamed', async () => {
      const lineFor = (requestId: string) =>
        app.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'request' && line['reqId'] === requestId);
      const headers = { ...AUTH, 'content-type': 'application/json' };
      await (await fetch(`${app.url}/v1/chat/completions?x=1`, { method: 'POST', headers: { ...headers, 'x-request-id': 'req-log-1' }, body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }) })).text();
      upstream.enqueue({ kind: 'sse', events: [chunk('Hi'), chunk(undefined, { finish: 'stop' }), usageChunk(4, 3)] });
      await readSse(await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, 'x-request-id': 'req-log-2' }, body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [] }) }));
      // The line is written when the response finishes, a moment after the client has it all.
      await expect.poll(() => lineFor('req-log-2').length).toBe(1);
      expect(lineFor('req-log-1')).toEqual([
        expect.objectContaining({ method: 'POST', url: '/v1/chat/completions?…', status: 200, model: 'gpt-test', target: 'upstream:config-1', attempts: 1, tokens: 21, ttfbMs: expect.any(Number), elapsedMs: expect.any(Number) }),
      ]);
      expect(lineFor('req-log-2')).toEqual([expect.objectContaining({ status: 200, model: 'gpt-test', attempts: 1, tokens: 7 })]);
    });

    it('passes an empty answer through: 204 without a body, 200 with a length of 0', async () => {
      upstream.enqueue({ kind: 'text', status: 204, body: '' });
      upstream.enqueue({ kind: 'text', status: 200, body: '' });
      for (const [status, requestId] of [[204, 'req-empty-204'], [200, 'req-empty-200']] as const) {
        const response = await fetch(`${app.url}/v1/files/file-1`, { method: 'DELETE', headers: { ...AUTH, 'x-request-id': requestId }, signal: AbortSignal.timeout(5_000) });
        expect(response.status).toBe(status);
        expect(await response.text()).toBe('');
        expect(await waitForRecord(app, requestId)).toMatchObject({ status, outcome: 'ok' });
      }
    });

    it('records an answer holding a NUL character (PostgreSQL refuses NUL in text), and the records after it', async () => {
      const response = await postChat(app, { messages: [{ role: 'user', content: 'a\u0000b' }] }, { requestId: 'req-nul-1' });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('echo: a\u0000b');
      expect(await waitForRecord(app, 'req-nul-1')).toMatchObject({ outcome: 'ok', response: 'echo: a\ufffdb' });
      expect((await postChat(app, {}, { requestId: 'req-nul-2' })).status).toBe(200);
      expect(await waitForRecord(app, 'req-nul-2')).toMatchObject({ outcome: 'ok', model: 'gpt-test' });
    });

    it('records an answer whose usage is not a token count PostgreSQL can store (12.5, -1, 1e12) without tokens, and the records after it', async () => {
      const answer = (usage: Record<string, unknown>) => ({ id: 'c', object: 'chat.completion', model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: 'odd usage' }, finish_reason: 'stop' }], usage });
      const odd = [{ prompt_tokens: 12.5, completion_tokens: 1, total_tokens: 13.5 }, { prompt_tokens: -1, completion_tokens: 2, total_tokens: 1 }, { prompt_tokens: 1e12, completion_tokens: 1, total_tokens: 1e12 + 1 }];
      for (const [index, usage] of odd.entries()) {
        upstream.enqueue({ kind: 'json', body: answer(usage) });
        const response = await postChat(app, {}, { requestId: `req-odd-usage-${index}` });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ usage });
        expect(await waitForRecord(app, `req-odd-usage-${index}`)).toMatchObject({ outcome: 'ok', prompt_tokens: null, completion_tokens: null, total_tokens: null, response: 'odd usage' });
      }
      expect((await postChat(app, {}, { requestId: 'req-odd-usage-after' })).status).toBe(200);
      expect(await waitForRecord(app, 'req-odd-usage-after')).toMatchObject({ outcome: 'ok', total_tokens: 21 });
    });

    it('records usage and text of answers kept whole for the records writer and of larger ones read at once: UTF-8 text, a 60 KB embeddings answer', async () => {
      const text = 'héllo — 你好 👋';
      upstream.enqueue({ kind: 'json', body: { id: 'c', object: 'chat.completion', model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } } });
      const chat = await postChat(app, {}, { requestId: 'req-utf8-answer' });
      expect(((await chat.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(text);
      expect(await waitForRecord(app, 'req-utf8-answer')).toMatchObject({ outcome: 'ok', prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, response: text });

      const embedding = Array.from({ length: 3072 }, (_, index) => Math.sin(index) / 3);
      upstream.enqueue({ kind: 'json', body: { object: 'list', model: 'emb-test', data: [{ object: 'embedding', index: 0, embedding }], usage: { prompt_tokens: 11, total_tokens: 11 } } });
      const response = await fetch(`${app.url}/v1/embeddings`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', 'x-request-id': 'req-large-answer' },
        body: JSON.stringify({ model: 'emb-test', input: 'hello' }),
      });
      const raw = await response.text();
      expect(raw.length).toBeGreaterThan(16 * 1024);
      expect((JSON.parse(raw) as { data: { embedding: number[] }[] }).data[0]?.embedding).toEqual(embedding);
      expect(await waitForRecord(app, 'req-large-answer')).toMatchObject({ outcome: 'ok', prompt_tokens: 11, completion_tokens: 0, total_tokens: 11, response: '' });
    });
  });
});
