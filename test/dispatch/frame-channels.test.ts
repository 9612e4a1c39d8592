import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupFor, openBroker, topicFor, type Broker } from '../../src/dispatch/index.js';
import { FrameChannels } from '../../src/dispatch/worker/frame-channels.js';
import { ModelClient } from '../../src/dispatch/worker/model-client.js';
import { Worker } from '../../src/dispatch/worker/worker.js';
import { SseParser } from '../../src/platform/sse.js';
import { cleanupTopics, forEachBroker, uniqueModel } from '../support/brokers.js';
import { postChat } from '../support/records.js';
import { chunk, startScriptedUpstream, type ScriptedUpstream } from '../support/scripted-upstream.js';
import { readSse } from '../support/sse-client.js';
import { startApp, type TestApp } from '../support/start-app.js';

/** Reads SSE data payloads from a live response until `count` arrived; `rest` drains the remainder. */
async function readEvents(response: Response, count: number): Promise<{ data: string[]; rest: Promise<void> }> {
  const reader = response.body!.getReader();
  const parser = new SseParser();
  const data: string[] = [];
  while (data.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    data.push(...parser.push(value).map((event) => event.data));
  }
  const rest = (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  return { data, rest };
}

/** The words of the scripted upstream's default stream answer, joined. */
function streamedText(events: readonly { data: string }[]): string {
  return events
    .filter((event) => event.data !== '[DONE]')
    .map((event) => (JSON.parse(event.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
    .join('');
}

forEachBroker((broker) => {
  describe('worker stream replies share one /res/ws socket per gateway', () => {
    const model = uniqueModel('chan');
    const url = broker.url();
    let upstream: ScriptedUpstream;
    let app: TestApp;
    let port: number;
    let workerBroker: Broker;
    let worker: Worker;
    let upgrades = 0;

    async function startGateway(listenPort: number): Promise<TestApp> {
      const started = await startApp({ overrides: { 'dispatch.brokerUrl': url, 'dispatch.models': [model], 'dispatch.streamIdleMs': 8_000, 'server.port': listenPort } });
      // Counts WebSocket handshakes next to the websocket plugin's own listener.
      started.app.server.server.on('upgrade', () => upgrades++);
      return started;
    }

    beforeAll(async () => {
      upstream = await startScriptedUpstream();
      app = await startGateway(0);
      port = Number(new URL(app.url).port);
      workerBroker = openBroker({ url, maxDeliver: 3, ackWaitMs: 5_000 });
      const topic = topicFor(model);
      worker = new Worker({
        broker: workerBroker,
        model: new ModelClient({ apiUrl: `${upstream.url}/v1`, apiKey: 'sk-worker', timeoutMs: 5_000, idleMs: 5_000 }),
        topic,
        subscription: groupFor(topic),
        concurrency: 8,
        maxDeliver: 3,
        ackWaitMs: 5_000,
        heartbeatMs: 30_000,
        log: pino({ level: 'silent' }),
      });
      await worker.start();
    });
    afterAll(async () => {
      await worker.stop();
      await workerBroker.close();
      await app.close();
      await upstream.close();
      await cleanupTopics(broker.kind, [model]);
    });

    it('answers sequential and concurrent streams over a single connection', async () => {
      const before = upgrades;
      for (const text of ['one', 'two', 'three']) {
        const { events } = await readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: text }] }));
        expect(streamedText(events)).toBe(`echo: ${text}`);
        expect(events.at(-1)!.data).toBe('[DONE]');
      }
      const texts = ['a b', 'c d', 'e f', 'g h', 'i j'];
      const answers = await Promise.all(texts.map(async (text) => readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: text }] }))));
      expect(answers.map(({ events }) => streamedText(events))).toEqual(texts.map((text) => `echo: ${text}`));
      expect(upgrades - before).toBe(1);
    });

    it('a cancelled stream stops only its own model call; the shared socket keeps serving', async () => {
      const events = [chunk('', { model, role: true }), chunk('first', { model }), chunk('never', { model })];
      upstream.enqueue({ kind: 'sse', events, stallAfter: 2 });
      const before = upgrades;
      const controller = new AbortController();
      const cancelled = await postChat(app, { model, stream: true }, { signal: controller.signal });
      const { data, rest } = await readEvents(cancelled, 2);
      expect(data).toEqual([JSON.stringify(events[0]), JSON.stringify(events[1])]);
      const stalledCall = upstream.requests.at(-1)!;

      const other = await readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: 'meanwhile' }] }));
      expect(streamedText(other.events)).toBe('echo: meanwhile');
      expect(stalledCall.abortedAt).toBeUndefined();

      controller.abort();
      await rest.catch(() => undefined);
      // The gateway's cancel message reaches the worker on the shared socket; it aborts that call.
      await expect.poll(() => stalledCall.abortedAt).toBeDefined();
      const after = await readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: 'after' }] }));
      expect(streamedText(after.events)).toBe('echo: after');
      expect(upgrades - before).toBe(0);
    });

    it('frames for an unknown request id are ignored and cancelled; the socket stays open', async () => {
      const channels = new FrameChannels({ heartbeatMs: 30_000 });
      const endpoint = `${app.url.replace('http', 'ws')}/res/ws`;
      try {
        const first = channels.open(endpoint, 'never-issued-1');
        first.send('{"request_id":"never-issued-1","reply_token":"x","end":false,"data":{"a":1}}');
        await expect.poll(() => first.signal.aborted).toBe(true);
        const second = channels.open(endpoint, 'never-issued-2');
        second.send('{"request_id":"never-issued-2","reply_token":"x","end":false,"data":{"b":2}}');
        await expect.poll(() => second.signal.aborted).toBe(true);
        expect(channels.size).toBe(1);
        await Promise.all([first.release(), second.release()]);
      } finally {
        await channels.closeAll();
      }
    });

    it('reconnects after the gateway restarts on the same address', async () => {
      const before = await readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: 'before' }] }));
      expect(streamedText(before.events)).toBe('echo: before');
      await app.close();
      app = await startGateway(port);
      const upgradesBefore = upgrades;
      const after = await readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: 'after restart' }] }));
      expect(streamedText(after.events)).toBe('echo: after restart');
      expect(after.events.at(-1)!.data).toBe('[DONE]');
      expect(upgrades - upgradesBefore).toBe(1);
    });
  });
}, ['in-process', 'nats']);
