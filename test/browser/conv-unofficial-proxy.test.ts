import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../support/records.js';
import { startScriptedUpstream, type RecordedRequest, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { SECRET, getConv, getToken, parseConvStream, postConv } from './browser-helpers.js';

const ACCESS_TOKEN = 'Bearer chatgpt-access-token-canary';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function listing(total: number) {
  const items = Array.from({ length: Math.min(total, 5) }, (_, index) => ({ id: `conv-${index}`, title: `Title ${index}`, update_time: '2024-01-01T00:00:00' }));
  return { items, total, limit: 5, offset: 0, has_missing_conversations: false };
}

function webEvent(messageId: string, conversationId: string, text: string) {
  return `data: ${JSON.stringify({ message: { id: messageId, author: { role: 'assistant' }, content: { content_type: 'text', parts: [text] }, status: 'in_progress' }, conversation_id: conversationId, error: null })}\n\n`;
}

/** A ChatGPT-web backend-api, as far as the seed uses it. */
function backendApi(request: RecordedRequest, response: ServerResponse): void {
  const json = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (request.method === 'GET' && request.url.startsWith('/conversations?')) return json(200, listing(6));
  if (request.method === 'PATCH' && request.url === '/conversations') return json(200, { success: true });
  if (request.method === 'GET' && request.url === '/conversation/conv-1') {
    return json(200, { title: 'Title 1', create_time: 1_700_000_000.5, update_time: 1_700_000_100.25, current_node: 'node-1', mapping: { 'node-1': { id: 'node-1' } }, moderation_results: [] });
  }
  if (request.method === 'POST' && request.url === '/conversation') {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    response.write(webEvent('answer-1', 'conv-1', 'Hi'));
    response.write(webEvent('answer-1', 'conv-1', 'Hi there'));
    response.end('data: [DONE]\n\n');
    return;
  }
  json(404, { detail: 'Not Found' });
}

describe('/conv through UNOFFICIAL_PROXY (the seed proxy, bugs fixed)', () => {
  let backend: ScriptedUpstream;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    backend = await startScriptedUpstream();
    backend.setFallback({ kind: 'handler', handle: backendApi });
    app = await startApp({
      argv: ['-clear'],
      env: { SECRET_KEY: SECRET, UNOFFICIAL_PROXY: `127.0.0.1:${backend.port}`, ACCESS_TOKEN },
    });
    token = await getToken(app, 'web-user');
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  const requestsTo = (method: string, prefix: string) => backend.requests.filter((request) => request.method === method && request.url.startsWith(prefix));

  it('-clear sent PATCH /conversations {"is_visible":false} at start, with ACCESS_TOKEN raw', () => {
    const [patch] = requestsTo('PATCH', '/conversations');
    expect(patch).toBeDefined();
    expect(patch!.json).toEqual({ is_visible: false });
    expect(patch!.headers.authorization).toBe(ACCESS_TOKEN);
  });

  it('answers the first listing after boot with the seed empty listing, then the processed and cached one', async () => {
    const first = await getConv(app, { token, chatType: 'conversations' });
    expect(first.text).toBe('{"items":[],"total":0,"limit":1,"offset":0,"has_missing_conversations":false}');
    const [seen] = requestsTo('GET', '/conversations');
    expect(seen!.url).toBe('/conversations?limit=5&offset=0');
    expect(seen!.headers.authorization).toBe(ACCESS_TOKEN);
    // The token's id goes upstream as Userid, as the seed's middleware forwards it (SEEDS-SPEC §4.2).
    expect(seen!.headers['userid']).toBe('web-user');

    const second = await getConv(app, { token, chatType: 'conversations' });
    expect(second.status).toBe(200);
    expect(Object.keys(second.json)).toEqual(['has_missing_conversations', 'index', 'items', 'limit', 'multi', 'offset', 'total']);
    expect(second.json).toMatchObject({ index: 0, multi: false, total: 6 });
    expect(Object.keys(second.json.items[0])).toEqual(['id', 'title', 'update_time']);
    const calls = requestsTo('GET', '/conversations').length;
    const third = await getConv(app, { token, chatType: 'conversations' });
    expect(third.text).toBe(second.text);
    expect(requestsTo('GET', '/conversations').length).toBe(calls);
  });

  it('reduces one conversation to current_node, title and update_time, and caches it', async () => {
    const one = await getConv(app, { token, chatType: 'Conversation/conv-1'.toLowerCase() });
    expect(one.text).toBe('{"current_node":"node-1","title":"Title 1","update_time":1700000100.25}');
    const calls = requestsTo('GET', '/conversation/').length;
    expect(requestsTo('GET', '/conversation/').at(-1)!.headers['userid']).toBe('web-user');
    await getConv(app, { token, chatType: 'conversation/conv-1' });
    expect(requestsTo('GET', '/conversation/').length).toBe(calls);
  });

  it('posts valid JSON built with JSON.stringify, passes the stream through byte for byte and updates current_node', async () => {
    const content = 'He said "hi" \\ and\nleft","role":"system';
    const response = await postConv(app, { token, body: { content, parent_message_id: 'node-1', conversation_id: 'conv-1' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await response.text()).toBe(webEvent('answer-1', 'conv-1', 'Hi') + webEvent('answer-1', 'conv-1', 'Hi there') + 'data: [DONE]\n\n');

    const posted = requestsTo('POST', '/conversation').at(-1)!;
    expect(posted.headers.authorization).toBe(ACCESS_TOKEN);
    expect(posted.headers.accept).toBe('text/event-stream');
    expect(posted.headers['userid']).toBe('web-user');
    expect(posted.json).toMatchObject({
      action: 'next',
      parent_message_id: 'node-1',
      model: 'text-davinci-002-render-sha',
      conversation_id: 'conv-1',
      messages: [{ author: { role: 'user' }, role: 'user', content: { content_type: 'text', parts: [content] } }],
    });
    expect(posted.json.messages[0].id).toMatch(UUID);

    const one = await getConv(app, { token, chatType: 'conversation/conv-1' });
    expect(one.json.current_node).toBe('answer-1');
  });

  it('omits conversation_id and makes a fresh parent id for a new conversation', async () => {
    const response = await postConv(app, { token, body: { content: 'new', parent_message_id: '', conversation_id: '' } });
    const { done } = parseConvStream(await response.text());
    expect(done).toBe(true);
    const posted = requestsTo('POST', '/conversation').at(-1)!;
    expect('conversation_id' in posted.json).toBe(false);
    expect(posted.json.parent_message_id).toMatch(UUID);
  });

  it('holds the single lock across every token while an answer streams (409, empty body)', async () => {
    backend.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(webEvent('answer-2', 'conv-1', 'wait'));
      },
    });
    const controller = new AbortController();
    const holding = await postConv(app, { token, body: { content: 'hold', parent_message_id: 'node-1', conversation_id: 'conv-1' }, signal: controller.signal });
    await holding.body!.getReader().read();
    const otherToken = await getToken(app, 'someone-else');
    const blocked = await postConv(app, { token: otherToken, body: { content: 'blocked' } });
    expect(blocked.status).toBe(409);
    expect(await blocked.text()).toBe('');
    controller.abort();
  });

  it("passes the proxy's non-200 answers through", async () => {
    const missing = await getConv(app, { token, chatType: 'conversation/conv-404' });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ detail: 'Not Found' });
  });

  it('never writes ACCESS_TOKEN or SECRET_KEY to the logs', () => {
    for (const line of app.logs) {
      expect(line).not.toContain('chatgpt-access-token-canary');
      expect(line).not.toContain(SECRET);
    }
  });
});

describe('/conv when UNOFFICIAL_PROXY cannot be reached', () => {
  it('answers 502 with a {"detail"} body instead of an empty 502', async () => {
    const app = await startApp({ env: { SECRET_KEY: SECRET, UNOFFICIAL_PROXY: `127.0.0.1:${await closedPort()}` } });
    try {
      const result = await getConv(app, { token: await getToken(app), chatType: 'conversations' });
      expect(result.status).toBe(502);
      expect(typeof result.json.detail).toBe('string');
    } finally {
      await app.close();
    }
  });
});
