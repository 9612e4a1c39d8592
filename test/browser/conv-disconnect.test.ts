import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { SECRET, getToken, postConv } from './browser-helpers.js';

interface LogLine {
  level: number;
  msg: string;
  url?: string;
  status?: number;
}

/** Log lines written from `from` on, once a /conv request line is there (bounded wait). */
async function linesUntilRequestLine(app: TestApp, from: number): Promise<LogLine[]> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const lines = app.logs.slice(from).map((line) => JSON.parse(line) as LogLine);
    if (lines.some((line) => line.msg === 'request' && line.url === '/conv')) return lines;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no request line for /conv: ${app.logs.slice(from).join('\n')}`);
}

async function expectClientDisconnect(app: TestApp, from: number): Promise<void> {
  const lines = await linesUntilRequestLine(app, from);
  // Let a late second line show up, if the code writes one.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const all = app.logs.slice(from).map((line) => JSON.parse(line) as LogLine);
  expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  expect(all.filter((line) => line.level >= 50)).toEqual([]);
  expect(all.filter((line) => line.msg === 'request' && line.url === '/conv')).toEqual([expect.objectContaining({ level: 30, status: 499 })]);
}

describe('/conv: a client that disconnects', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({ overrides: { 'browser.secretKey': SECRET, 'browser.defaultModel': 'gpt-web-default', 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream' }], 'gateway.maxAttempts': 1 } });
    token = await getToken(app, 'leaver');
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('mid-answer is logged as one info request line with 499', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), ...Array.from({ length: 30 }, (_, index) => chunk(`part-${index + 1} `))], intervalMs: 30, done: false });
    const from = app.logs.length;
    const controller = new AbortController();
    const reader = (await postConv(app, { token, body: { content: 'leaving mid-answer', parent_message_id: '', conversation_id: '' }, signal: controller.signal })).body!.getReader();
    let seen = '';
    while (!seen.includes('part-2 ')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await expectClientDisconnect(app, from);
  });

  it('before the answer starts is logged as one info request line with 499', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('late')], headersDelayMs: 1000 });
    const from = app.logs.length;
    const controller = new AbortController();
    const pending = postConv(app, { token, body: { content: 'leaving before the answer', parent_message_id: '', conversation_id: '' }, signal: controller.signal }).catch(() => undefined);
    // Leave once the upstream has the call, while it holds back its headers.
    for (let attempt = 0; attempt < 100 && upstream.requests.at(-1)?.json?.messages?.at(-1)?.content !== 'leaving before the answer'; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await pending;
    await expectClientDisconnect(app, from);
  });
});

describe('/conv through UNOFFICIAL_PROXY: a client that disconnects', () => {
  let backend: ScriptedUpstream;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    backend = await startScriptedUpstream();
    app = await startApp({ env: { SECRET_KEY: SECRET, UNOFFICIAL_PROXY: `127.0.0.1:${backend.port}`, ACCESS_TOKEN: 'Bearer chatgpt-access-token' } });
    token = await getToken(app, 'web-leaver');
  });
  afterAll(async () => {
    await app.close();
    await backend.close();
  });

  const webEvent = (text: string) => `data: ${JSON.stringify({ message: { id: 'answer-1', author: { role: 'assistant' }, content: { content_type: 'text', parts: [text] } }, conversation_id: 'conv-1', error: null })}\n\n`;

  it('mid-answer is logged as one info request line with 499', async () => {
    backend.enqueue({
      kind: 'handler',
      handle: (_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(webEvent('Hi'));
      },
    });
    const from = app.logs.length;
    const controller = new AbortController();
    const reader = (await postConv(app, { token, body: { content: 'leaving mid-answer', parent_message_id: 'node-1', conversation_id: 'conv-1' }, signal: controller.signal })).body!.getReader();
    await reader.read();
    controller.abort();
    await expectClientDisconnect(app, from);
  });

  it('before the answer starts is logged as one info request line with 499', async () => {
    backend.enqueue({ kind: 'silent' });
    const before = backend.requests.length;
    const from = app.logs.length;
    const controller = new AbortController();
    const pending = postConv(app, { token, body: { content: 'leaving early', parent_message_id: 'node-1', conversation_id: 'conv-1' }, signal: controller.signal }).catch(() => undefined);
    for (let attempt = 0; attempt < 100 && backend.requests.length === before; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await pending;
    await expectClientDisconnect(app, from);
  });
});
