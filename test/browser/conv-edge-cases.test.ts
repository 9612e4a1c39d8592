import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletion, chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { rawHttp } from '../support/raw-http.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { forEachStore } from '../support/stores.js';
import { SECRET, getConv, getToken, parseConvStream, postConv } from './browser-helpers.js';

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The operator's key for the upstream: a token holder must never see it. */
const UPSTREAM_KEY = 'sk-operator-upstream-key-0123456789';

/** One POST /conv turn read to the end: its events, whether [DONE] ended it, and the ids the client keeps. */
async function converse(app: TestApp, token: string, body: Record<string, unknown>) {
  const response = await postConv(app, { token, body });
  const text = await response.text();
  const { events, done } = parseConvStream(text);
  const last = events.at(-1);
  return { status: response.status, done, last, conversationId: last?.conversation_id as string, messageId: last?.message?.id as string };
}

forEachStore((store) => {
  describe('/conv edge cases on the local conversation store', () => {
    let upstream: ScriptedUpstream;
    let app: TestApp;
    let token: string;

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startApp({
        store,
        overrides: {
          'browser.secretKey': SECRET,
          'browser.defaultModel': 'gpt-web-default',
          'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: UPSTREAM_KEY }],
        },
      });
      token = await getToken(app, 'edge');
    });
    afterAll(async () => {
      await app.close();
      await upstream.close();
    });

    it('lets the client continue after a complete but empty answer (content filter), from the message id it was given', async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk(undefined, { finish: 'content_filter' })] });
      const empty = await converse(app, token, { content: 'say nothing' });
      expect(empty.status).toBe(200);
      expect(empty.done).toBe(true);
      expect(empty.last.message.content.parts).toEqual(['']);
      // The chat page keeps message.id as the next parent_message_id (web/app.js readAnswer).
      const next = await converse(app, token, { content: 'and now?', parent_message_id: empty.messageId, conversation_id: empty.conversationId });
      expect(next.status).toBe(200);
      expect(next.done).toBe(true);
      expect(upstream.requests.at(-1)!.json.messages).toEqual([
        { role: 'user', content: 'say nothing' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'and now?' },
      ]);
      const one = await getConv(app, { token, chatType: `conversation/${empty.conversationId}` });
      expect(one.json.current_node).toBe(next.messageId);
    });

    it('never cuts an emoji in half when it makes a title from a long first question', async () => {
      const content = `${'a'.repeat(58)}🚀🚀 and more`;
      const turn = await converse(app, token, { content });
      expect(turn.status).toBe(200);
      const list = await getConv(app, { token, chatType: 'conversations', query: '?limit=100' });
      const title: string = list.json.items.find((item: any) => item.id === turn.conversationId).title;
      // A lone surrogate is stored as U+FFFD: the listing would show "a…a�…".
      expect(title).not.toContain('\ufffd');
      expect(title).toBe(`${'a'.repeat(58)}…`);
    });

    it('frees the lock when the client leaves before the answer starts (request sent, connection closed at once)', async () => {
      const leaver = await getToken(app, 'leaves-early');
      const body = JSON.stringify({ content: 'I am gone', parent_message_id: '', conversation_id: '' });
      const request = [
        'POST /conv HTTP/1.1',
        `host: 127.0.0.1:${new URL(app.url).port}`,
        `authorization: ${leaver}`,
        'chat-type: conversation',
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n');
      await rawHttp(Number(new URL(app.url).port), request, { endAfterWrite: true, timeoutMs: 500 });
      await waitUntil(async () => {
        const response = await postConv(app, { token: leaver, body: { content: 'still there?' } });
        const text = await response.text();
        return response.status === 200 && text.endsWith('data: [DONE]\n\n');
      }, 'the lock of the request whose client left to be released');
    });

    it('answers in the ChatGPT-web format and stores the answer when the upstream ignores stream:true and sends one JSON completion', async () => {
      upstream.enqueue({ kind: 'json', body: chatCompletion('whole "answer"\nin one body') });
      const turn = await converse(app, token, { content: 'no stream for me' });
      expect(turn.status).toBe(200);
      expect(turn.done).toBe(true);
      expect(turn.last).toMatchObject({ message: { author: { role: 'assistant' }, content: { content_type: 'text', parts: ['whole "answer"\nin one body'] } }, error: null });
      const one = await getConv(app, { token, chatType: `conversation/${turn.conversationId}`, query: '?include=messages' });
      expect(one.json.current_node).toBe(turn.messageId);
      expect(one.json.messages.map((message: any) => [message.role, message.content])).toEqual([
        ['user', 'no stream for me'],
        ['assistant', 'whole "answer"\nin one body'],
      ]);
    });

    it('ends with an error event, storing no answer, when a JSON completion holds no message content', async () => {
      upstream.enqueue({ kind: 'json', body: { object: 'chat.completion', choices: [] } });
      const turn = await converse(app, token, { content: 'empty json' });
      expect(turn.status).toBe(200);
      expect(turn.done).toBe(false);
      expect(turn.last).toMatchObject({ message: null, error: expect.any(String) });
      const rows = await app.app.store.db.selectFrom('messages').select('role').where('conversation_id', '=', Number(turn.conversationId)).execute();
      expect(rows.map((row) => row.role)).toEqual(['user']);
    });

    it("never shows the upstream's key when the upstream reports an error inside the stream", async () => {
      upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), chunk('half '), { error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}` } }], done: false });
      const response = await postConv(app, { token, body: { content: 'leak the key' } });
      const text = await response.text();
      const { events, done } = parseConvStream(text);
      expect(done).toBe(false);
      expect(events.at(-1).error).toMatch(/^Incorrect API key provided: /);
      expect(text).not.toContain(UPSTREAM_KEY);
    });
  });
});
