import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { forEachStore } from '../support/stores.js';
import { SECRET, getConv, getToken, parseConvStream, postConv } from './browser-helpers.js';

async function converse(app: TestApp, token: string, body: Record<string, unknown>) {
  const response = await postConv(app, { token, body });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const text = await response.text();
  const { events, done } = parseConvStream(text);
  expect(done).toBe(true);
  const last = events.at(-1);
  return { text, events, last, conversationId: last.conversation_id as string, messageId: last.message.id as string, answer: last.message.content.parts[0] as string };
}

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

forEachStore((store) => {
  describe('/conv on the local conversation store', () => {
    let upstream: ScriptedUpstream;
    let app: TestApp;
    let token: string;
    let otherToken: string;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startApp({
        store,
        overrides: {
          'browser.secretKey': SECRET,
          'browser.defaultModel': 'gpt-web-default',
          'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream' }],
        },
      });
      token = await getToken(app, 'alice');
      otherToken = await getToken(app, 'mallory');
    });
    afterAll(async () => {
      await app.close();
      await upstream.close();
    });

    it('lists no conversations at first, in the seed shape with sorted keys', async () => {
      const { status, text } = await getConv(app, { token, chatType: 'conversations' });
      expect(status).toBe(200);
      expect(text).toBe('{"has_missing_conversations":false,"index":0,"items":[],"limit":5,"multi":false,"offset":0,"total":0}');
    });

    it('starts a conversation and streams ChatGPT-web events with cumulative parts', async () => {
      const events = [chunk('', { role: true }), chunk('Hello'), chunk(', "wor'), chunk('ld"\n!'), chunk(undefined, { finish: 'stop' })];
      upstream.enqueue({ kind: 'sse', events });
      const turn = await converse(app, token, { content: 'Say "hello"\nplease', parent_message_id: '', conversation_id: '' });
      const parts = turn.events.map((event) => event.message.content.parts[0]);
      expect(parts).toEqual(['Hello', 'Hello, "wor', 'Hello, "world"\n!', 'Hello, "world"\n!']);
      for (const event of turn.events) {
        expect(Object.keys(event)).toEqual(['message', 'conversation_id', 'error']);
        expect(event.message.author).toEqual({ role: 'assistant' });
        expect(event.message.content.content_type).toBe('text');
        expect(event.conversation_id).toBe(turn.conversationId);
        expect(event.error).toBeNull();
      }
      expect(turn.conversationId).toMatch(/^\d+$/);
      expect(turn.text.endsWith('data: [DONE]\n\n')).toBe(true);
      const seen = upstream.requests.at(-1)!;
      expect(seen.json.model).toBe('gpt-web-default');
      expect(seen.json.stream).toBe(true);
      expect(seen.json.messages).toEqual([{ role: 'user', content: 'Say "hello"\nplease' }]);
      expect(seen.headers.authorization).toBe('Bearer sk-upstream');
      expect(seen.headers['userid']).toBe('alice');
    });

    it('lists, shows and continues a conversation by parent_message_id, sending the branch in order', async () => {
      const first = await converse(app, token, { content: 'first question' });
      expect(first.answer).toBe('echo: first question');
      const list = await getConv(app, { token, chatType: 'conversations' });
      expect(list.json.items[0]).toMatchObject({ id: first.conversationId, title: 'first question' });
      expect(list.json.total).toBe(2);

      const one = await getConv(app, { token, chatType: `conversation/${first.conversationId}` });
      expect(one.status).toBe(200);
      expect(Object.keys(one.json)).toEqual(['current_node', 'title', 'update_time']);
      expect(one.json.current_node).toBe(first.messageId);
      expect(one.json.title).toBe('first question');
      expect(one.json.update_time).toBeGreaterThan(1_600_000_000);
      expect(one.json.update_time).toBeLessThan(Date.now() / 1000 + 1);

      const second = await converse(app, token, { content: 'second question', parent_message_id: one.json.current_node, conversation_id: first.conversationId });
      expect(second.conversationId).toBe(first.conversationId);
      expect(upstream.requests.at(-1)!.json.messages).toEqual([
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'echo: first question' },
        { role: 'user', content: 'second question' },
      ]);
      const after = await getConv(app, { token, chatType: `conversation/${first.conversationId}` });
      expect(after.json.current_node).toBe(second.messageId);
    });

    it('branches when a turn names an older parent, and keeps both branches in the tree', async () => {
      const root = await converse(app, token, { content: 'root question' });
      const left = await converse(app, token, { content: 'left', parent_message_id: root.messageId, conversation_id: root.conversationId });
      const right = await converse(app, token, { content: 'right', parent_message_id: root.messageId, conversation_id: root.conversationId });
      expect(upstream.requests.at(-1)!.json.messages).toEqual([
        { role: 'user', content: 'root question' },
        { role: 'assistant', content: 'echo: root question' },
        { role: 'user', content: 'right' },
      ]);
      const branch = await getConv(app, { token, chatType: `conversation/${root.conversationId}`, query: '?include=messages' });
      expect(branch.json.current_node).toBe(right.messageId);
      expect(branch.json.messages.map((message: any) => message.content)).toEqual(['root question', 'echo: root question', 'right', 'echo: right']);
      const rows = await app.app.store.db.selectFrom('messages').selectAll().where('conversation_id', '=', Number(root.conversationId)).orderBy('seq').execute();
      expect(rows.map((row) => row.content)).toEqual(['root question', 'echo: root question', 'left', 'echo: left', 'right', 'echo: right']);
      const byContent = new Map(rows.map((row) => [row.content, row]));
      expect(byContent.get('left')!.parent_id).toBe(root.messageId);
      expect(byContent.get('right')!.parent_id).toBe(root.messageId);
      expect(byContent.get('echo: left')!.id).toBe(left.messageId);
      const conversation = await app.app.store.db.selectFrom('conversations').selectAll().where('id', '=', Number(root.conversationId)).executeTakeFirstOrThrow();
      expect(conversation).toMatchObject({ owner: 'browser:alice', model: 'gpt-web-default', user_id: null });
    });

    it("hides one token id's conversations from another (404, empty body, not listed)", async () => {
      const mine = await converse(app, token, { content: 'private' });
      expect((await getConv(app, { token: otherToken, chatType: `conversation/${mine.conversationId}` })).status).toBe(404);
      const list = await getConv(app, { token: otherToken, chatType: 'conversations' });
      expect(list.json.total).toBe(0);
      const before = upstream.requests.length;
      const response = await postConv(app, { token: otherToken, body: { content: 'x', parent_message_id: mine.messageId, conversation_id: mine.conversationId } });
      expect(response.status).toBe(404);
      expect(await response.text()).toBe('');
      expect(upstream.requests.length).toBe(before);
    });

    it('answers 409 with an empty body while an answer streams, and frees the lock when the response ends', async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('slow')], stallAfter: 1 });
      const controller = new AbortController();
      const first = await postConv(app, { token, body: { content: 'hold the lock' }, signal: controller.signal });
      const reader = first.body!.getReader();
      await reader.read();
      const blocked = await postConv(app, { token, body: { content: 'second' } });
      expect(blocked.status).toBe(409);
      expect(await blocked.text()).toBe('');
      // Another token id is not blocked by alice's answer.
      const other = await postConv(app, { token: otherToken, body: { content: 'not blocked' } });
      expect(other.status).toBe(200);
      await other.text();
      controller.abort();
      await waitUntil(async () => {
        const response = await postConv(app, { token, body: { content: 'after release' } });
        const text = await response.text();
        return response.status === 200 && text.endsWith('data: [DONE]\n\n');
      }, 'the lock to be released');
    });

    it('keeps the part of an answer that arrived before the reader stopped it', async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('partial '), chunk('answer')], stallAfter: 1 });
      const controller = new AbortController();
      const response = await postConv(app, { token, body: { content: 'stop me' }, signal: controller.signal });
      const reader = response.body!.getReader();
      const { value } = await reader.read();
      const { events } = parseConvStream(new TextDecoder().decode(value));
      const conversationId = Number(events[0].conversation_id);
      controller.abort();
      await waitUntil(async () => {
        const rows = await app.app.store.db.selectFrom('messages').select('content').where('conversation_id', '=', conversationId).execute();
        return rows.some((row) => row.content === 'partial ');
      }, 'the partial answer to be stored');
    });

    it('names an answer by one message.id in every event, the id current_node then reports', async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('one '), chunk('two'), chunk(undefined, { finish: 'stop' })] });
      const turn = await converse(app, token, { content: 'count' });
      expect(new Set(turn.events.map((event) => event.message.id))).toEqual(new Set([turn.messageId]));
      const one = await getConv(app, { token, chatType: `conversation/${turn.conversationId}` });
      expect(one.json.current_node).toBe(turn.messageId);
    });

    it('continues from the message.id of an answer the reader stopped', async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('cut '), chunk('short')], stallAfter: 1 });
      const controller = new AbortController();
      const response = await postConv(app, { token, body: { content: 'stop early' }, signal: controller.signal });
      const reader = response.body!.getReader();
      const { value } = await reader.read();
      const [event] = parseConvStream(new TextDecoder().decode(value)).events;
      controller.abort();
      const conversationId = event.conversation_id as string;
      await waitUntil(async () => {
        const rows = await app.app.store.db.selectFrom('messages').select('content').where('conversation_id', '=', Number(conversationId)).execute();
        return rows.some((row) => row.content === 'cut ');
      }, 'the partial answer to be stored');
      const next = await converse(app, token, { content: 'go on', parent_message_id: event.message.id, conversation_id: conversationId });
      expect(next.conversationId).toBe(conversationId);
      expect(upstream.requests.at(-1)!.json.messages).toEqual([
        { role: 'user', content: 'stop early' },
        { role: 'assistant', content: 'cut ' },
        { role: 'user', content: 'go on' },
      ]);
    });

    it("passes the upstream's error status through without a stream", async () => {
      upstream.enqueue({ kind: 'json', status: 429, body: { error: { message: 'slow down' } } });
      const response = await postConv(app, { token, body: { content: 'limited' } });
      expect(response.status).toBe(429);
      expect(await response.json()).toEqual({ error: { message: 'slow down' } });
    });

    it('ends with an error event and no [DONE] when the upstream stream breaks', async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('cut '), chunk('off')], closeAfter: 1 });
      const response = await postConv(app, { token, body: { content: 'break' } });
      const { events, done } = parseConvStream(await response.text());
      expect(done).toBe(false);
      expect(events.at(-1).error).toEqual(expect.any(String));
      expect(events.at(-1).message).toBeNull();
    });

    it.each([
      ['no Chat-Type', {}, 'GET', undefined],
      ['an unknown Chat-Type', { 'chat-type': 'accounts/check' }, 'GET', undefined],
      ['a path in the id', { 'chat-type': 'conversation/../accounts' }, 'GET', undefined],
      ['POST with another Chat-Type', { 'chat-type': 'conversations' }, 'POST', '{}'],
      ['invalid JSON', { 'chat-type': 'conversation' }, 'POST', '{"content":'],
      ['no content', { 'chat-type': 'conversation' }, 'POST', '{"parent_message_id":""}'],
      ['content not a string', { 'chat-type': 'conversation' }, 'POST', '{"content":["x"]}'],
      ['a limit that is not a number', { 'chat-type': 'conversations' }, 'GET', undefined, '?limit=abc'],
      ['a limit above 100', { 'chat-type': 'conversations' }, 'GET', undefined, '?limit=101'],
    ] as [string, Record<string, string>, string, string | undefined, string?][])('answers 400 with an empty body for %s', async (_name, headers, method, body, query) => {
      const response = await fetch(`${app.url}/conv${query ?? ''}`, { method, headers: { authorization: token, ...headers }, ...(body === undefined ? {} : { body }) });
      expect(response.status).toBe(400);
      expect(await response.text()).toBe('');
    });

    it('answers 404 for an unknown conversation or parent message', async () => {
      expect((await getConv(app, { token, chatType: 'conversation/12345' })).status).toBe(404);
      const known = await converse(app, token, { content: 'known' });
      const response = await postConv(app, { token, body: { content: 'x', parent_message_id: 'no-such-message', conversation_id: known.conversationId } });
      expect(response.status).toBe(404);
    });

    it('pages the listing with limit and offset, newest first', async () => {
      const all = await getConv(app, { token, chatType: 'conversations', query: '?limit=100' });
      const page = await getConv(app, { token, chatType: 'conversations', query: '?limit=2&offset=1' });
      expect(page.json).toMatchObject({ limit: 2, offset: 1, total: all.json.total });
      expect(page.json.items.map((item: any) => item.id)).toEqual(all.json.items.slice(1, 3).map((item: any) => item.id));
    });

    it('lists conversations started in the same millisecond newest first, in the order they were started', async () => {
      const sameMs = await getToken(app, 'same-millisecond');
      // The clock stands still: every row below is written in the same millisecond.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      try {
        const started: string[] = [];
        for (let index = 0; index < 6; index++) started.push((await converse(app, sameMs, { content: `started ${index}` })).conversationId);
        const list = await getConv(app, { token: sameMs, chatType: 'conversations', query: '?limit=100' });
        expect(list.json.items.map((item: any) => item.id)).toEqual([...started].reverse());
      } finally {
        vi.useRealTimers();
      }
    });

    it('answers OPTIONS with 204 and CORS, and refuses a request without a token', async () => {
      const options = await fetch(`${app.url}/conv`, { method: 'OPTIONS' });
      expect(options.status).toBe(204);
      expect(options.headers.get('access-control-allow-origin')).toBe('*');
      const refused = await fetch(`${app.url}/conv`, { headers: { 'chat-type': 'conversations' } });
      expect(refused.status).toBe(403);
      expect(await refused.text()).toBe('');
    });

    it('stores an answer holding a NUL character with U+FFFD in its place (PostgreSQL refuses NUL in text), and refuses NUL in a question', async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk('a\u0000'), chunk('b'), chunk(undefined, { finish: 'stop' })] });
      const first = await converse(app, token, { content: 'nul answer please' });
      expect(first.answer).toBe('a\u0000b');
      await converse(app, token, { content: 'and again', parent_message_id: first.messageId, conversation_id: first.conversationId });
      expect(upstream.requests.at(-1)!.json.messages).toEqual([
        { role: 'user', content: 'nul answer please' },
        { role: 'assistant', content: 'a\ufffdb' },
        { role: 'user', content: 'and again' },
      ]);
      const refused = await postConv(app, { token, body: { content: 'a\u0000b' } });
      expect(refused.status).toBe(400);
    });
  });
});

describe('/conv with -multi', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({ argv: ['-multi'], overrides: { 'browser.secretKey': SECRET, 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream' }] } });
    token = await getToken(app, 'multi-user');
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('locks per conversation and points index at a conversation that is not busy', async () => {
    const a = await converse(app, token, { content: 'conversation a' });
    const b = await converse(app, token, { content: 'conversation b' });
    upstream.enqueue({ kind: 'sse', events: [chunk('busy')], stallAfter: 1 });
    const controller = new AbortController();
    const holding = await postConv(app, { token, body: { content: 'more', parent_message_id: a.messageId, conversation_id: a.conversationId }, signal: controller.signal });
    await holding.body!.getReader().read();

    const sameConversation = await postConv(app, { token, body: { content: 'again', parent_message_id: a.messageId, conversation_id: a.conversationId } });
    expect(sameConversation.status).toBe(409);
    const otherConversation = await converse(app, token, { content: 'b continues', parent_message_id: b.messageId, conversation_id: b.conversationId });
    expect(otherConversation.conversationId).toBe(b.conversationId);

    const list = await getConv(app, { token, chatType: 'conversations' });
    expect(list.json.multi).toBe(true);
    expect(list.json.items[list.json.index].id).toBe(b.conversationId);
    controller.abort();
  });

  it('names a conversation by one id string only: "07" is not conversation 7, for the lock, the turn and the lookup alike', async () => {
    // Our ids are random below 2^53; a short one (as ids of other stores look) makes "07" parse.
    const now = Date.now();
    await app.app.store.db.insertInto('conversations').values({ id: 7, owner: 'browser:multi-user', user_id: null, title: 'seven', model: 'gpt-test', api_key_enc: null, created_at: now, updated_at: now }).execute();
    await app.app.store.db.insertInto('messages').values({ id: 'seven-question', conversation_id: 7, parent_id: null, seq: 0, role: 'user', content: 'seven?', created_at: now }).execute();
    const a = { conversationId: '7', messageId: 'seven-question' };
    const padded = '07';
    upstream.enqueue({ kind: 'sse', events: [chunk('busy')], stallAfter: 1 });
    const controller = new AbortController();
    const holding = await postConv(app, { token, body: { content: 'more', parent_message_id: a.messageId, conversation_id: a.conversationId }, signal: controller.signal });
    await holding.body!.getReader().read();
    const before = upstream.requests.length;
    // A second answer into the same conversation under another spelling of its id, past its lock.
    const aliased = await postConv(app, { token, body: { content: 'sneak in', parent_message_id: a.messageId, conversation_id: padded } });
    expect(aliased.status).toBe(404);
    expect(await aliased.text()).toBe('');
    expect(upstream.requests.length).toBe(before);
    expect((await getConv(app, { token, chatType: `conversation/${padded}` })).status).toBe(404);
    controller.abort();
  });
});

describe('/conv when the router cannot serve the default model', () => {
  it('answers with the router status and a {"detail"} body, and stores the question', async () => {
    const app = await startApp({ overrides: { 'browser.secretKey': SECRET } });
    try {
      const token = await getToken(app, 'no-upstream');
      const response = await postConv(app, { token, body: { content: 'anyone there?' } });
      expect(response.status).toBeGreaterThanOrEqual(400);
      const body: any = await response.json();
      expect(typeof body.detail).toBe('string');
      const list = await getConv(app, { token, chatType: 'conversations' });
      expect(list.json.items[0].title).toBe('anyone there?');
    } finally {
      await app.close();
    }
  });
});
