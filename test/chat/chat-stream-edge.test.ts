import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { chat, newConversation, newUser, startChatApp, type ChatTestApp } from './chat-client.js';

const UPSTREAM_KEY = 'sk-upstream-own-key-123456';

describe('streaming chat: hostile upstream streams', () => {
  let upstream: ScriptedUpstream;
  let app: ChatTestApp;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startChatApp({
      store: 'sqlite',
      overrides: {
        'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: UPSTREAM_KEY, models: ['gpt-test'] }],
        'gateway.maxAttempts': 1,
      },
    });
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('masks keys an upstream echoes in an in-band stream error, as it does before the stream', async () => {
    const user = await newUser(app);
    const apiKey = 'sk-leaky-conversation-key-abcdef0123';
    const { conversation_id: id } = await newConversation(app, user.token, { api_key: apiKey });
    upstream.enqueue({
      kind: 'sse',
      events: [chunk('', { role: true }), chunk('partial '), { error: { message: `Incorrect API key provided: ${apiKey}; also saw Bearer ${UPSTREAM_KEY}`, type: 'invalid_request_error' } }],
      done: false,
    });
    const reply = await chat(app, { token: user.token, id, message: 'leak it' });
    expect(reply.status).toBe(200);
    const error = reply.blocks.at(-1);
    expect(error.event).toBe('error');
    expect(error.data).toMatch(/^upstream error: Incorrect API key provided: /);
    expect(reply.text).not.toContain(apiKey);
    expect(reply.text).not.toContain(UPSTREAM_KEY);
  });
});
