import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { forEachStore } from '../support/stores.js';
import { api, chat, forEachCacheMode, newConversation, newUser, startChatApp, type ChatTestApp } from './chat-client.js';

forEachStore((store) => {
  forEachCacheMode((redis) => {
    describe('conversations', () => {
      let upstream: ScriptedUpstream;
      let app: ChatTestApp;

      beforeAll(async () => {
        upstream = await startScriptedUpstream();
        app = await startChatApp({ store, redis, upstream });
      });
      afterAll(async () => {
        await app.close();
        await upstream.close();
      });

      const messageCount = async (id: number) =>
        Number((await app.app.store.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('conversation_id', '=', id).executeTakeFirstOrThrow()).n);

      it('creates a conversation: seed fields, integer id, optional api_key echoed as ""', async () => {
        const user = await newUser(app);
        const before = Math.floor(Date.now() / 1000);
        const response = await api(app, { path: '/api/conversations/create', token: user.token, body: { title: 'My chat', model: 'gpt-test' } });
        expect(response.status).toBe(200);
        expect(Object.keys(response.body)).toEqual(['conversation_id', 'title', 'model', 'api_key', 'created_time']);
        expect(response.body).toMatchObject({ title: 'My chat', model: 'gpt-test', api_key: '' });
        expect(Number.isSafeInteger(response.body.conversation_id)).toBe(true);
        expect(response.body.conversation_id).toBeGreaterThan(0);
        expect(response.body.created_time).toBeGreaterThanOrEqual(before);
        const row = await app.app.store.db.selectFrom('conversations').selectAll().where('id', '=', response.body.conversation_id).executeTakeFirstOrThrow();
        expect(row).toMatchObject({ owner: `user:${user.userId}`, user_id: user.userId, api_key_enc: null });
        // The conversation starts with the system message, message_id 0.
        const messages = await app.app.store.db.selectFrom('messages').selectAll().where('conversation_id', '=', row.id).execute();
        expect(messages).toEqual([expect.objectContaining({ seq: 0, role: 'system', content: '你是一个乐于回答各种问题的小助手', parent_id: null })]);
      });

      it('gives random, distinct, non-sequential ids below 2^53', async () => {
        const user = await newUser(app);
        const ids: number[] = [];
        for (let index = 0; index < 20; index++) ids.push((await newConversation(app, user.token)).conversation_id);
        expect(new Set(ids).size).toBe(20);
        for (const id of ids) expect(id > 0 && id <= Number.MAX_SAFE_INTEGER).toBe(true);
        // 20 ids from 2^53 values all falling within a window of 10^9 would be a 1-in-10^100 event.
        expect(Math.max(...ids) - Math.min(...ids)).toBeGreaterThan(1e9);
      });

      it('answers bad create input with 400 Invalid request', async () => {
        const user = await newUser(app);
        const bodies: unknown[] = [
          {},
          { title: 'x' },
          { model: 'gpt-test' },
          { title: '', model: 'gpt-test' },
          { title: 'x', model: '' },
          { title: 1, model: 'gpt-test' },
          { title: 'x', model: 'gpt test' },
          { title: 'x', model: 'gpt\r\nx' },
          { title: 'x', model: 'm'.repeat(129) },
          { title: 't'.repeat(1001), model: 'gpt-test' },
          { title: 'x', model: 'gpt-test', api_key: 5 },
          { title: 'x', model: 'gpt-test', api_key: 'k'.repeat(1025) },
          [],
        ];
        for (const body of bodies) {
          const response = await api(app, { path: '/api/conversations/create', token: user.token, body });
          expect({ body, status: response.status, error: response.body }).toEqual({ body, status: 400, error: { error: 'Invalid request' } });
        }
        const badJson = await api(app, { method: 'POST', path: '/api/conversations/create', token: user.token, rawBody: '{"title":', headers: { 'content-type': 'application/json' } });
        expect(badJson).toMatchObject({ status: 400, body: { error: 'Invalid request' } });
        expect((await api(app, { path: '/api/conversations/list', token: user.token })).text).toBe('[]');
      });

      it('lists the user\'s conversations newest first, and [] when there are none', async () => {
        const user = await newUser(app);
        const empty = await api(app, { path: '/api/conversations/list', token: user.token });
        expect(empty.status).toBe(200);
        expect(empty.text).toBe('[]');
        const first = await newConversation(app, user.token, { title: 'first' });
        await new Promise((resolve) => setTimeout(resolve, 5));
        const second = await newConversation(app, user.token, { title: 'second' });
        const list = await api(app, { path: '/api/conversations/list', token: user.token });
        expect(list.body).toEqual([
          { conversation_id: second.conversation_id, title: 'second', created_time: second.created_time },
          { conversation_id: first.conversation_id, title: 'first', created_time: first.created_time },
        ]);
      });

      it('shows history without the system message, with created_time, [] when empty', async () => {
        const user = await newUser(app);
        const created = await newConversation(app, user.token, { title: 'h' });
        const empty = await api(app, { path: `/api/conversations/history/${created.conversation_id}`, token: user.token });
        expect(empty.status).toBe(200);
        expect(empty.body).toEqual({ conversation_id: created.conversation_id, title: 'h', model: 'gpt-test', messages: [], created_time: created.created_time });
        expect(empty.text).toContain('"messages":[]');
        await chat(app, { token: user.token, id: created.conversation_id, message: 'hello there' });
        const full = await api(app, { path: `/api/conversations/history/${created.conversation_id}`, token: user.token });
        expect(full.body.messages).toEqual([
          { role: 'user', content: 'hello there', message_id: 1 },
          { role: 'assistant', content: 'echo: hello there', message_id: 2 },
        ]);
      });

      it('answers bad and unknown ids: 400 Invalid conversation ID, 404 Conversation not found', async () => {
        const user = await newUser(app);
        for (const id of ['abc', '1.5', '1e3', '0x10', '99999999999999999999', '%20']) {
          expect(await api(app, { path: `/api/conversations/history/${id}`, token: user.token })).toMatchObject({ status: 400, body: { error: 'Invalid conversation ID' } });
          expect(await api(app, { method: 'POST', path: `/api/conversations/del/${id}`, token: user.token })).toMatchObject({ status: 400, body: { error: 'Invalid conversation ID' } });
        }
        for (const id of ['1', '-5', '0', '+7', '9007199254740993', String(Number.MAX_SAFE_INTEGER)]) {
          expect(await api(app, { path: `/api/conversations/history/${id}`, token: user.token })).toMatchObject({ status: 404, body: { error: 'Conversation not found' } });
          expect(await api(app, { method: 'POST', path: `/api/conversations/del/${id}`, token: user.token })).toMatchObject({ status: 404, body: { error: 'Conversation not found' } });
        }
      });

      it('deletes a conversation with its messages; a second delete is 404', async () => {
        const user = await newUser(app);
        const created = await newConversation(app, user.token);
        await chat(app, { token: user.token, id: created.conversation_id, message: 'to be deleted' });
        await api(app, { path: `/api/conversations/history/${created.conversation_id}`, token: user.token });
        expect(await messageCount(created.conversation_id)).toBe(3);
        const deleted = await api(app, { method: 'POST', path: `/api/conversations/del/${created.conversation_id}`, token: user.token });
        expect(deleted).toMatchObject({ status: 200, body: { message: 'Conversation deleted successfully' } });
        expect(await messageCount(created.conversation_id)).toBe(0);
        expect((await api(app, { method: 'POST', path: `/api/conversations/del/${created.conversation_id}`, token: user.token })).status).toBe(404);
        expect((await api(app, { path: `/api/conversations/history/${created.conversation_id}`, token: user.token })).status).toBe(404);
        expect((await chat(app, { token: user.token, id: created.conversation_id, message: 'x' })).status).toBe(404);
      });

      it('never lets one user read, chat on or delete another user\'s conversation (BOLA matrix)', async () => {
        const alice = await newUser(app);
        const bob = await newUser(app);
        const owned = await newConversation(app, alice.token, { title: 'alice only', api_key: 'sk-alice-private-key-0123456789' });
        const id = owned.conversation_id;
        await chat(app, { token: alice.token, id, message: 'alice secret question' });
        const historyBefore = (await api(app, { path: `/api/conversations/history/${id}`, token: alice.token })).text;
        const rowsBefore = await app.app.store.db.selectFrom('messages').selectAll().where('conversation_id', '=', id).orderBy('seq').execute();
        const upstreamCalls = upstream.requests.length;

        const attempts = [
          () => api(app, { path: `/api/conversations/history/${id}`, token: bob.token }),
          () => chat(app, { token: bob.token, id, message: 'bob writes here' }),
          () => chat(app, { token: bob.token, id, message: 'bob writes here', slash: true }),
          () => api(app, { method: 'POST', path: `/api/conversations/del/${id}`, token: bob.token }),
        ];
        for (const attempt of attempts) {
          const response = await attempt();
          expect(response.status).toBe(404);
          expect(response.body).toEqual({ error: 'Conversation not found' });
          expect(response.text).not.toContain('alice');
        }
        // A missing id and someone else's id look exactly alike.
        const missing = await api(app, { path: `/api/conversations/history/${Number(id) + 1}`, token: bob.token });
        expect(missing.text).toBe((await api(app, { path: `/api/conversations/history/${id}`, token: bob.token })).text);
        expect((await api(app, { path: '/api/conversations/list', token: bob.token })).text).toBe('[]');
        // Nothing reached the upstream for Bob, and Alice's conversation is unchanged.
        expect(upstream.requests.length).toBe(upstreamCalls);
        expect(await app.app.store.db.selectFrom('messages').selectAll().where('conversation_id', '=', id).orderBy('seq').execute()).toEqual(rowsBefore);
        expect((await api(app, { path: `/api/conversations/history/${id}`, token: alice.token })).text).toBe(historyBefore);
        const list = await api(app, { path: '/api/conversations/list', token: alice.token });
        expect(list.body.map((entry: any) => entry.conversation_id)).toEqual([id]);
      });

      it('answers unknown /api paths with a JSON 404 and oversized bodies with 413', async () => {
        const user = await newUser(app);
        expect(await api(app, { path: '/api/nothing/here' })).toMatchObject({ status: 404, body: { error: '404 page not found' } });
        expect(await api(app, { path: '/api/conversations/history', token: user.token })).toMatchObject({ status: 404, body: { error: '404 page not found' } });
        expect(await api(app, { method: 'DELETE', path: '/api/users/login' })).toMatchObject({ status: 404, body: { error: '404 page not found' } });
        const huge = await api(app, { path: '/api/conversations/create', token: user.token, body: { title: 'x'.repeat(2 * 1024 * 1024), model: 'gpt-test' } });
        expect(huge.status).toBe(413);
        expect(typeof huge.body.error).toBe('string');
        const preflight = await api(app, { method: 'OPTIONS', path: '/api/conversations/list', headers: { origin: 'http://example.test', 'access-control-request-method': 'GET' } });
        expect(preflight.status).toBe(204);
      });
    });
  });
});
