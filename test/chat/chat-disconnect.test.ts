import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { newConversation, newUser, startChatApp, type ChatTestApp } from './chat-client.js';

interface LogLine {
  level: number;
  msg: string;
  url?: string;
  status?: number;
  err?: { message?: string };
}

describe('streaming chat: a client that disconnects', () => {
  let upstream: ScriptedUpstream;
  let app: ChatTestApp;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startChatApp({ store: 'sqlite', overrides: { 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-own-key-123456', models: ['gpt-test'] }], 'gateway.maxAttempts': 1 } });
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  /** Log lines written from `from` on, once the request line of `url` is there (bounded wait). */
  async function linesUntilRequestLine(from: number, url: string): Promise<LogLine[]> {
    for (let attempt = 0; attempt < 150; attempt++) {
      const lines = app.logs.slice(from).map((line) => JSON.parse(line) as LogLine);
      if (lines.some((line) => line.msg === 'request' && line.url === url)) return lines;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no request line for ${url}: ${app.logs.slice(from).join('\n')}`);
  }

  async function openChat(id: number, token: string, message: string, signal: AbortSignal): Promise<Response> {
    return fetch(`${app.url}/api/chat/${id}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message }), signal });
  }

  function expectClientDisconnect(lines: LogLine[], url: string): void {
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    const requestLine = lines.find((line) => line.msg === 'request' && line.url === url);
    expect(requestLine).toMatchObject({ level: 30, status: 499 });
  }

  it('mid-answer is logged as a client disconnect (info, 499), not as a server error', async () => {
    const user = await newUser(app);
    const { conversation_id: id } = await newConversation(app, user.token);
    upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), ...Array.from({ length: 30 }, (_, index) => chunk(`part-${index + 1} `))], intervalMs: 30, done: false });
    const from = app.logs.length;
    const controller = new AbortController();
    const reader = (await openChat(id, user.token, 'leaving mid-answer', controller.signal)).body!.getReader();
    let seen = '';
    while (!seen.includes('part-2 ')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expectClientDisconnect(await linesUntilRequestLine(from, `/api/chat/${id}`), `/api/chat/${id}`);
  });

  it('before the answer starts is logged as a client disconnect (info, 499), not as a 500', async () => {
    const user = await newUser(app);
    const { conversation_id: id } = await newConversation(app, user.token);
    upstream.enqueue({ kind: 'sse', events: [chunk('late')], headersDelayMs: 1000 });
    const from = app.logs.length;
    const controller = new AbortController();
    const pending = openChat(id, user.token, 'leaving before the answer', controller.signal).catch(() => undefined);
    // Leave once the upstream has the call, while it holds back its headers.
    for (let attempt = 0; attempt < 100 && upstream.requests.at(-1)?.json?.messages?.at(-1)?.content !== 'leaving before the answer'; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await pending;
    expectClientDisconnect(await linesUntilRequestLine(from, `/api/chat/${id}`), `/api/chat/${id}`);
  });
});
