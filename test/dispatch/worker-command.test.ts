import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTopics, forEachBroker, uniqueModel } from '../support/brokers.js';
import { runCli, spawnSwitchboard } from '../support/process.js';
import { postChat } from '../support/records.js';
import { chatCompletion, chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { SseParser } from '../../src/platform/sse.js';
import { readSse } from '../support/sse-client.js';
import { startApp, type TestApp } from '../support/start-app.js';

/** Reads SSE events from a live response until `count` data events arrived. */
async function readEvents(response: Response, count: number): Promise<{ data: string[]; rest: Promise<string> }> {
  const reader = response.body!.getReader();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const data: string[] = [];
  let text = '';
  while (data.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    data.push(...parser.push(value).map((event) => event.data));
  }
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { data, rest };
}

forEachBroker((broker) => {
  describe('switchboard worker (SEEDS-SPEC §1.6)', () => {
    const model = uniqueModel('cmd');
    const cwd = mkdtempSync(join(tmpdir(), 'switchboard-worker-'));
    const workers = new Set<ChildProcess>();
    let upstream: ScriptedUpstream;
    let app: TestApp;

    async function startWorker(): Promise<ChildProcess> {
      const child = spawnSwitchboard(['worker'], {
        cwd,
        env: { BROKER_URL: broker.url(), MODEL_NAME: model, API_URL: `${upstream.url}/v1`, API_KEY: 'sk-worker-key', MAX_PROCESS_NUM: '4', ACK_WAIT: '800ms', MAX_DELIVER: '3' },
      });
      workers.add(child);
      child.once('exit', () => workers.delete(child));
      let output = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (text: Buffer) => {
          output += text.toString();
          if (output.includes('"msg":"worker started"')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)}: ${output}`)));
      });
      return child;
    }

    async function kill(child: ChildProcess): Promise<void> {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startApp({
        overrides: { 'dispatch.brokerUrl': broker.url(), 'dispatch.models': [model], 'dispatch.timeoutMs': 8_000, 'dispatch.streamIdleMs': 8_000, 'dispatch.ackWaitMs': 800 },
      });
      await startWorker();
    });
    afterAll(async () => {
      await Promise.all([...workers].map((child) => kill(child)));
      await app.close();
      await upstream.close();
      await cleanupTopics(broker.kind, [model]);
      rmSync(cwd, { recursive: true, force: true });
    });

    it('answers a non-stream request through the model server with its own key', async () => {
      const response = await postChat(app, { model, messages: [{ role: 'user', content: 'hello worker' }] });
      expect(response.status).toBe(200);
      expect(((await response.json()) as any).choices[0].message.content).toBe('echo: hello worker');
      const seen = upstream.requests.at(-1)!;
      expect(seen.url).toBe('/v1/chat/completions');
      expect(seen.headers.authorization).toBe('Bearer sk-worker-key');
      expect(seen.json).toEqual({ model, messages: [{ role: 'user', content: 'hello worker' }] });
    });

    it('relays stream chunks as they arrive, before the model server has finished', async () => {
      const events = [chunk('', { model, role: true }), chunk('first', { model }), chunk('never', { model })];
      upstream.enqueue({ kind: 'sse', events, stallAfter: 2 });
      const controller = new AbortController();
      const response = await postChat(app, { model, stream: true }, { signal: controller.signal });
      const { data, rest } = await readEvents(response, 2);
      expect(data).toEqual([JSON.stringify(events[0]), JSON.stringify(events[1])]);
      controller.abort();
      await rest.catch(() => undefined);
      // The gateway tells the worker nobody reads the stream; the worker cancels its model call.
      const call = upstream.requests.at(-1)!;
      await expect.poll(() => call.abortedAt).toBeDefined();
    });

    it('answers a stream in stream format when the model server answers JSON', async () => {
      upstream.enqueue({ kind: 'json', body: chatCompletion('whole answer', model) });
      const { events } = await readSse(await postChat(app, { model, stream: true }));
      expect(events.map((event) => event.data).at(-1)).toBe('[DONE]');
      const only = JSON.parse(events[0]!.data);
      expect(only).toMatchObject({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'whole answer' }, finish_reason: 'stop' }] });
      expect(events).toHaveLength(2);
    });

    it('passes model server errors on as OpenAI error objects, and the next request is fine', async () => {
      const rateLimit = { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } };
      upstream.enqueue({ kind: 'json', status: 429, body: rateLimit }, { kind: 'text', status: 500, body: 'boom' });
      const first = await postChat(app, { model });
      expect(await first.json()).toEqual(rateLimit);
      const { events } = await readSse(await postChat(app, { model, stream: true }));
      expect(JSON.parse(events[0]!.data).error).toMatchObject({ type: 'upstream_error', code: 'upstream_http_500' });
      expect(events.at(-1)!.data).toBe('[DONE]');
      const next = await postChat(app, { model, messages: [{ role: 'user', content: 'still fine' }] });
      expect(((await next.json()) as any).choices[0].message.content).toBe('echo: still fine');
    });

    it('a worker killed before its first reply: another worker process answers the redelivered task', async () => {
      upstream.enqueue({ kind: 'silent' });
      const before = upstream.requests.length;
      const answer = postChat(app, { model, messages: [{ role: 'user', content: 'survive' }] });
      await expect.poll(() => upstream.requests.length).toBe(before + 1);
      await kill([...workers][0]!);
      await startWorker();
      const response = await answer;
      expect(response.status).toBe(200);
      expect(((await response.json()) as any).choices[0].message.content).toBe('echo: survive');
    }, 60_000);

    it('a worker killed mid-stream: an error event, no [DONE], and the redelivered copy is not relayed', async () => {
      const events = [chunk('', { model, role: true }), chunk('part', { model }), chunk('rest', { model })];
      upstream.enqueue({ kind: 'sse', events, stallAfter: 2 });
      const before = upstream.requests.length;
      const response = await postChat(app, { model, stream: true });
      const { data, rest } = await readEvents(response, 2);
      expect(data).toEqual([JSON.stringify(events[0]), JSON.stringify(events[1])]);
      await kill([...workers][0]!);
      const text = await rest;
      expect(text).not.toContain('[DONE]');
      expect(text).toContain('"error"');
      await startWorker();
      // The new worker takes the redelivered task and calls the model again; its answer goes nowhere.
      await expect.poll(() => upstream.requests.length, { timeout: 10_000 }).toBe(before + 2);
    }, 60_000);
  });
}, ['nats', 'redis']);

describe('switchboard worker settings', () => {
  it('refuses to start without a broker, with one line per missing setting', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'switchboard-worker-'));
    try {
      const result = await runCli(['worker'], { cwd, env: { MODEL_NAME: 'm' } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/worker brokerUrl is required: set BROKER_URL/);
      expect(result.stderr).toMatch(/worker apiKey is required: set API_KEY/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
