import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationsRepository } from '../../src/chat/index.js';
import { chunk, startScriptedUpstream, usageChunk, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { forEachStore } from '../support/stores.js';
import { api, chat, forEachCacheMode, newConversation, newUser, startChatApp, type ChatTestApp } from './chat-client.js';

const SYSTEM_PROMPT = 'You are a terse test assistant.';
const TRICKY = ['He said "hi"', '\nline two\\', ' tab\there', ' {"event":"done"}', ' émoji 🚀\n\n'];

function tokenStream(pieces: readonly string[], options: { usage?: boolean } = {}) {
  return [chunk('', { role: true }), ...pieces.map((piece) => chunk(piece)), chunk(undefined, { finish: 'stop' }), ...(options.usage ? [usageChunk(11, 7)] : [])];
}

forEachStore((store) => {
  forEachCacheMode((redis) => {
    describe('streaming chat', () => {
      let upstream: ScriptedUpstream;
      let app: ChatTestApp;

      beforeAll(async () => {
        upstream = await startScriptedUpstream();
        app = await startChatApp({
          store,
          redis,
          overrides: {
            'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-own-key-123456', models: ['gpt-test', 'gpt-json'] }],
            'gateway.maxAttempts': 1,
            'chat.systemPrompt': SYSTEM_PROMPT,
            'chat.maxMessageChars': 1000,
          },
        });
      });
      afterAll(async () => {
        await app.close();
        await upstream.close();
      });

      const rowsOf = (id: number) => app.app.store.db.selectFrom('messages').selectAll().where('conversation_id', '=', id).orderBy('seq').execute();

      async function waitFor<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
        for (let attempt = 0; attempt < 150; attempt++) {
          const value = await read();
          if (value !== undefined) return value;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`timed out waiting for ${what}`);
      }

      it('streams seed 002 blocks with JSON escaping, stores the answer once and records usage', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        upstream.enqueue({ kind: 'sse', events: tokenStream(TRICKY, { usage: true }) });
        const reply = await chat(app, { token: user.token, id, message: 'quote " and \\ and\nnewline' });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('content-type')).toBe('text/event-stream');
        expect(reply.headers.get('cache-control')).toBe('no-cache');
        // Bare JSON blocks, keys in the README order: event, then data.
        for (const block of reply.text.split('\n\n').filter(Boolean)) expect(block.startsWith('{"event":')).toBe(true);
        const expected = TRICKY.join('');
        const events = reply.blocks.map((block) => block.event);
        expect(events.filter((event) => event === 'done')).toHaveLength(1);
        expect(events.slice(-2)).toEqual(['done', 'full_response']);
        expect(events.slice(0, -2).every((event) => event === 'message')).toBe(true);
        expect(reply.blocks.at(-2)).toEqual({ event: 'done', data: 'Stream finished' });
        expect(reply.blocks.at(-1)).toEqual({ event: 'full_response', data: expected });
        expect(reply.blocks.filter((block) => block.event === 'message').map((block) => block.data).join('')).toBe(expected);

        const rows = await rowsOf(id);
        expect(rows.map((row) => [row.seq, row.role, row.content])).toEqual([
          [0, 'system', SYSTEM_PROMPT],
          [1, 'user', 'quote " and \\ and\nnewline'],
          [2, 'assistant', expected],
        ]);
        expect(rows[1]!.parent_id).toBe(rows[0]!.id);
        expect(rows[2]!.parent_id).toBe(rows[1]!.id);
        const history = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
        expect(history.body.messages).toEqual([
          { role: 'user', content: 'quote " and \\ and\nnewline', message_id: 1 },
          { role: 'assistant', content: expected, message_id: 2 },
        ]);

        const sent = upstream.requests.at(-1)!;
        expect(sent.url).toBe('/v1/chat/completions');
        expect(sent.headers.authorization).toBe('Bearer sk-upstream-own-key-123456');
        expect(sent.json).toMatchObject({ model: 'gpt-test', stream: true });
        expect(sent.json.messages).toEqual([
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: 'quote " and \\ and\nnewline' },
        ]);
        const record = await waitFor(
          () => app.app.store.db.selectFrom('records').selectAll().where('key_id', '=', `user:${user.userId}`).executeTakeFirst(),
          'the usage record',
        );
        expect(record).toMatchObject({ path: '/v1/chat/completions', model: 'gpt-test', stream: 1, status: 200, outcome: 'ok', prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
      });

      it('serves /api/chat/:id/ too, and sends the whole history without message_id', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        expect((await chat(app, { token: user.token, id, message: 'first' })).status).toBe(200);
        await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
        const second = await chat(app, { token: user.token, id, message: 'second', slash: true });
        expect(second.status).toBe(200);
        expect(second.blocks.at(-1)).toEqual({ event: 'full_response', data: 'echo: second' });
        expect(upstream.requests.at(-1)!.json.messages).toEqual([
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'echo: first' },
          { role: 'user', content: 'second' },
        ]);
        const history = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
        expect(history.body.messages.map((message: any) => message.message_id)).toEqual([1, 2, 3, 4]);
      });

      it('continues the newest branch of a branched conversation (parent_id tree)', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        await chat(app, { token: user.token, id, message: 'main line' });
        const [system] = await rowsOf(id);
        const repository = new ConversationsRepository(app.app.store.db);
        const question = await repository.appendMessage({ conversationId: id, parentId: system!.id, role: 'user', content: 'branch question' });
        const answer = await repository.appendMessage({ conversationId: id, parentId: question.id, role: 'assistant', content: 'branch answer' });
        expect([question.seq, answer.seq]).toEqual([3, 4]);
        await chat(app, { token: user.token, id, message: 'next' });
        expect(upstream.requests.at(-1)!.json.messages).toEqual([
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: 'branch question' },
          { role: 'assistant', content: 'branch answer' },
          { role: 'user', content: 'next' },
        ]);
        expect((await rowsOf(id)).at(-2)!.parent_id).toBe(answer.id);
      });

      it("uses the conversation's own api_key upstream", async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token, { api_key: 'sk-conversation-own-0123456789' });
        expect((await chat(app, { token: user.token, id, message: 'hi' })).status).toBe(200);
        expect(upstream.requests.at(-1)!.headers.authorization).toBe('Bearer sk-conversation-own-0123456789');
        expect(app.logs.join('\n')).not.toContain('sk-conversation-own-0123456789');
      });

      it('answers 500 with a clear message when nothing serves the model, storing nothing', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token, { model: 'no-such-model' });
        const calls = upstream.requests.length;
        const reply = await chat(app, { token: user.token, id, message: 'hi' });
        expect(reply).toMatchObject({ status: 500, body: { error: 'unsupported model: no-such-model (no upstream or worker serves it)' } });
        expect(upstream.requests.length).toBe(calls);
        expect((await rowsOf(id)).map((row) => row.role)).toEqual(['system']);
      });

      it('answers an upstream error before the stream with 500 and its body, secrets masked, storing nothing', async () => {
        const user = await newUser(app);
        const apiKey = 'sk-leaky-conversation-key-abcdef0123';
        const { conversation_id: id } = await newConversation(app, user.token, { api_key: apiKey });
        upstream.enqueue({ kind: 'json', status: 401, body: { error: { message: `Incorrect API key provided: ${apiKey}; also saw Bearer sk-upstream-own-key-123456`, type: 'invalid_request_error' } } });
        const reply = await chat(app, { token: user.token, id, message: 'will fail' });
        expect(reply.status).toBe(500);
        expect(reply.body.error).toMatch(/^unexpected response status: \{"error":\{"message":"Incorrect API key provided: /);
        expect(reply.text).not.toContain(apiKey);
        expect(reply.text).not.toContain('sk-upstream-own-key-123456');
        expect((await rowsOf(id)).map((row) => row.role)).toEqual(['system']);
        const history = await api(app, { path: `/api/conversations/history/${id}`, token: user.token });
        expect(history.body.messages).toEqual([]);
      });

      it('ends a stream that fails mid-way with one error block, no done, and stores nothing', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        upstream.enqueue({ kind: 'sse', events: tokenStream(['one ', 'two ', 'three']), resetAfter: 3, intervalMs: 30 });
        const reset = await chat(app, { token: user.token, id, message: 'reset me' });
        expect(reset.status).toBe(200);
        // What arrived before the reset is relayed (the last event may be lost with the socket).
        const events = reset.blocks.map((block) => block.event);
        expect(events.slice(0, 2)).toEqual(['message', 'message']);
        expect(events.slice(0, -1).every((event) => event === 'message')).toBe(true);
        expect(reset.blocks.at(-1)).toEqual({ event: 'error', data: 'the upstream connection failed mid-stream' });
        upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk('cut '), chunk('short')], done: false });
        const cut = await chat(app, { token: user.token, id, message: 'cut me' });
        expect(cut.blocks.at(-1)).toEqual({ event: 'error', data: 'the upstream closed the stream before it was complete' });
        expect(cut.blocks.some((block) => block.event === 'done')).toBe(false);
        expect((await rowsOf(id)).map((row) => row.role)).toEqual(['system']);
      });

      it('reports an unparsable chunk in-band (seed) and keeps streaming', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk('good '), '{not json', chunk('end'), chunk(undefined, { finish: 'stop' })] });
        const reply = await chat(app, { token: user.token, id, message: 'x' });
        const error = reply.blocks.find((block) => block.event === 'error');
        expect(error.data).toMatch(/^Failed to unmarshal SSE data: /);
        expect(reply.blocks.at(-1)).toEqual({ event: 'full_response', data: 'good end' });
        expect((await rowsOf(id)).at(-1)!.content).toBe('good end');
      });

      it('relays an upstream that ignores stream:true as one message', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token, { model: 'gpt-json' });
        upstream.enqueue({ kind: 'json', body: { choices: [{ index: 0, message: { role: 'assistant', content: 'whole "answer"' }, finish_reason: 'stop' }] } });
        const reply = await chat(app, { token: user.token, id, message: 'x' });
        expect(reply.blocks).toEqual([
          { event: 'message', data: 'whole "answer"' },
          { event: 'done', data: 'Stream finished' },
          { event: 'full_response', data: 'whole "answer"' },
        ]);
      });

      it('keeps the question and the partial answer when the client disconnects mid-stream', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        const pieces = Array.from({ length: 30 }, (_, index) => `part-${index + 1} `);
        upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), ...pieces.map((piece) => chunk(piece))], intervalMs: 30, done: false });
        const controller = new AbortController();
        const response = await fetch(`${app.url}/api/chat/${id}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ message: 'I will leave early' }),
          signal: controller.signal,
        });
        const reader = response.body!.getReader();
        let seen = '';
        while (!seen.includes('part-2 ')) seen += new TextDecoder().decode((await reader.read()).value);
        controller.abort();
        const request = upstream.requests.at(-1)!;
        await waitFor(async () => request.abortedAt, 'the upstream call to be cancelled');
        const rows = await waitFor(async () => ((await rowsOf(id)).length === 3 ? rowsOf(id) : undefined), 'the partial exchange');
        expect(rows.map((row) => row.role)).toEqual(['system', 'user', 'assistant']);
        expect(rows[1]!.content).toBe('I will leave early');
        const partial = rows[2]!.content;
        expect(partial.startsWith('part-1 part-2 ')).toBe(true);
        expect(pieces.join('').startsWith(partial)).toBe(true);
        expect(partial.length).toBeLessThan(pieces.join('').length);
        expect(request.eventsSent).toBeLessThan(pieces.length + 1);
      });

      it('stores concurrent exchanges on one conversation as whole, ordered pairs', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        const replies = await Promise.all(['a', 'b', 'c'].map((message) => chat(app, { token: user.token, id, message })));
        expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200]);
        const rows = await rowsOf(id);
        expect(rows.map((row) => row.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        for (const seq of [1, 3, 5]) {
          const question = rows[seq]!;
          const answer = rows[seq + 1]!;
          expect([question.role, answer.role]).toEqual(['user', 'assistant']);
          expect(answer.content).toBe(`echo: ${question.content}`);
          expect(answer.parent_id).toBe(question.id);
          expect(question.parent_id).toBe(rows[seq - 1]!.id);
        }
      });

      it('stores an answer holding a NUL character (PostgreSQL refuses NUL in text) with U+FFFD in its place', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        upstream.enqueue({ kind: 'sse', events: tokenStream(['a\u0000', 'b']) });
        const reply = await chat(app, { token: user.token, id, message: 'question' });
        expect(reply.blocks.at(-1)).toEqual({ event: 'full_response', data: 'a\u0000b' });
        const rows = await waitFor(async () => {
          const stored = await rowsOf(id);
          return stored.length === 3 ? stored : undefined;
        }, 'the answer row');
        expect(rows.map((row) => row.content)).toEqual([SYSTEM_PROMPT, 'question', 'a\ufffdb']);
      });

      it('refuses a question, a title, a user name or a password holding a NUL character with 400, storing nothing', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        const reply = await api(app, { method: 'POST', path: `/api/chat/${id}`, token: user.token, body: { message: 'a\u0000b' } });
        expect(reply).toMatchObject({ status: 400, body: { error: 'message must not contain NUL characters' } });
        const created = await api(app, { path: '/api/conversations/create', token: user.token, body: { title: 't\u0000', model: 'gpt-test' } });
        expect(created).toMatchObject({ status: 400, body: { error: 'Invalid request' } });
        for (const credentials of [{ username: 'nul\u0000name', password: 'a-password' }, { username: `nul-${id}`, password: 'pass\u0000word' }]) {
          expect(await api(app, { path: '/api/users/register', body: credentials })).toMatchObject({ status: 400, body: { error: 'Invalid input' } });
        }
        expect((await rowsOf(id)).map((row) => row.role)).toEqual(['system']);
      });

      it('validates the id before the body, then the body (seed order and texts)', async () => {
        const user = await newUser(app);
        const { conversation_id: id } = await newConversation(app, user.token);
        const post = (path: string, request: { body?: unknown; rawBody?: string }) =>
          api(app, { method: 'POST', path, token: user.token, ...request, ...(request.rawBody ? { headers: { 'content-type': 'application/json' } } : {}) });
        expect(await post('/api/chat/abc', {})).toMatchObject({ status: 400, body: { error: 'Invalid conversation ID' } });
        expect(await post('/api/chat/abc/', { body: { message: 'hi' } })).toMatchObject({ status: 400, body: { error: 'Invalid conversation ID' } });
        for (const body of [{}, { message: '' }, { message: 5 }, { msg: 'hi' }, ['hi']]) {
          expect(await post(`/api/chat/${id}`, { body })).toMatchObject({ status: 400, body: { error: 'Invalid request body' } });
        }
        expect(await post(`/api/chat/${id}`, { rawBody: '{"message":' })).toMatchObject({ status: 400, body: { error: 'Invalid request body' } });
        expect(await post(`/api/chat/${id}`, { body: { message: 'x'.repeat(1001) } })).toMatchObject({ status: 400, body: { error: 'message is too long (at most 1000 characters)' } });
        expect(await post('/api/chat/12345', { body: { message: 'hi' } })).toMatchObject({ status: 404, body: { error: 'Conversation not found' } });
        expect(await api(app, { path: `/api/chat/${id}`, body: { message: 'hi' } })).toMatchObject({ status: 401, body: { error: 'Authorization header missing' } });
        expect((await rowsOf(id)).map((row) => row.role)).toEqual(['system']);
      });
    });
  });
});
