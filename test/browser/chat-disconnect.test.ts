import { mkdtempSync, promises as fsPromises, openSync, closeSync, constants, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { SECRET, getToken } from './browser-helpers.js';

interface LogLine {
  level: number;
  msg: string;
  url?: string;
  status?: number;
}

/** libuv's worker threads in this process (its default is 4). */
const POOL_THREADS = Number(process.env['UV_THREADPOOL_SIZE']) || 4;

function postChat(app: TestApp, options: { token: string; content: string; signal: AbortSignal }): Promise<Response> {
  return fetch(`${app.url}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: options.token },
    body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: options.content }] }),
    signal: options.signal,
  });
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const chatLines = (app: TestApp, from: number) => app.logs.slice(from).map((line) => JSON.parse(line) as LogLine);

async function expectClientDisconnect(app: TestApp, from: number): Promise<void> {
  await waitFor(() => chatLines(app, from).some((line) => line.msg === 'request' && line.url === '/chat'), 'the /chat request line');
  // Let a late second line show up, if the code writes one.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const lines = chatLines(app, from);
  expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  expect(lines.filter((line) => line.msg === 'request' && line.url === '/chat')).toEqual([expect.objectContaining({ level: 30, status: 499 })]);
}

/**
 * Takes every libuv worker thread with an open() of a FIFO that no writer has opened yet. The token
 * check (WebCrypto HMAC) runs on that pool, so /chat waits in it until `release` opens the writer.
 */
async function holdThreadPool(): Promise<{ release: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-fifo-'));
  const fifo = join(dir, 'hold');
  execFileSync('mkfifo', [fifo]);
  const readers = Array.from({ length: POOL_THREADS }, () => fsPromises.open(fifo, 'r'));
  // The opens are queued to the pool now; give the workers a moment to start blocking in them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return {
    async release() {
      // Non-blocking: it fails at once, instead of hanging the test, if no reader is waiting.
      const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      const handles = await Promise.all(readers);
      closeSync(writer);
      await Promise.all(handles.map((handle) => handle.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('/chat: a client that disconnects', () => {
  let upstream: ScriptedUpstream;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    upstream = await startScriptedUpstream();
    app = await startApp({ overrides: { 'browser.secretKey': SECRET, 'gateway.upstreams': [{ endpoint: `${upstream.url}/v1`, sk: 'sk-upstream-key' }], 'gateway.maxAttempts': 1 } });
    token = await getToken(app, 'chat-leaver');
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('while its token is checked causes no upstream call and is logged as one info request line with 499', async () => {
    const server = app.app.server.server;
    // Resolves once the whole body is in (the handler starts) and once the response has closed.
    let bodyRead!: () => void;
    const isBodyRead = new Promise<void>((resolve) => (bodyRead = resolve));
    const responseClosed = new Promise<void>((resolve) => {
      const onRequest = (request: IncomingMessage, response: ServerResponse) => {
        if (request.url !== '/chat') return;
        server.off('request', onRequest);
        request.once('end', () => bodyRead());
        response.once('close', () => resolve());
      };
      server.on('request', onRequest);
    });
    const requestsBefore = upstream.requests.length;
    const from = app.logs.length;
    const pool = await holdThreadPool();
    const controller = new AbortController();
    const pending = postChat(app, { token, content: 'gone during the token check', signal: controller.signal }).catch(() => undefined);
    try {
      await isBodyRead;
      // A macrotask later every microtask of the handler has run: it waits on the pool.
      await new Promise((resolve) => setTimeout(resolve, 50));
      controller.abort();
      await pending;
      await responseClosed;
    } finally {
      await pool.release();
    }
    await waitFor(() => chatLines(app, from).some((line) => line.msg === 'request' && line.url === '/chat') || upstream.requests.length > requestsBefore, 'the request to end');
    // Give a wrongly started upstream call time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.requests.length).toBe(requestsBefore);
    await expectClientDisconnect(app, from);
  });

  it('before the answer starts is logged as one info request line with 499', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('late')], headersDelayMs: 1000 });
    const from = app.logs.length;
    const controller = new AbortController();
    const pending = postChat(app, { token, content: 'leaving before the answer', signal: controller.signal }).catch(() => undefined);
    await waitFor(() => upstream.requests.at(-1)?.json?.messages?.at(-1)?.content === 'leaving before the answer', 'the upstream call');
    controller.abort();
    await pending;
    await expectClientDisconnect(app, from);
  });

  it('mid-answer is logged as one info request line with 499', async () => {
    upstream.enqueue({ kind: 'sse', events: [chunk('', { role: true }), ...Array.from({ length: 30 }, (_, index) => chunk(`part-${index + 1} `))], intervalMs: 30, done: false });
    const from = app.logs.length;
    const controller = new AbortController();
    const reader = (await postChat(app, { token, content: 'leaving mid-answer', signal: controller.signal })).body!.getReader();
    let seen = '';
    while (!seen.includes('part-2 ')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await expectClientDisconnect(app, from);
  });
});
