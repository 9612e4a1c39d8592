import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTopics, forEachBroker, uniqueModel } from '../support/brokers.js';
import { closedPort, postChat, waitForRecord } from '../support/records.js';
import { chatCompletion, chunk } from '../support/scripted-upstream.js';
import { readSse } from '../support/sse-client.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { WorkerSim, type ReceivedTask } from '../support/worker-sim.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ACK_WAIT_MS = 600;

function dispatchOverrides(url: string, models: string[], extra: Record<string, unknown> = {}) {
  return {
    'dispatch.brokerUrl': url,
    'dispatch.models': models,
    'dispatch.timeoutMs': 4_000,
    'dispatch.streamIdleMs': 4_000,
    'dispatch.ackWaitMs': ACK_WAIT_MS,
    'dispatch.maxDeliver': 2,
    'gateway.records.flushIntervalMs': 20,
    ...extra,
  };
}

forEachBroker((broker) => {
  describe('worker faults (RELIABILITY F17, F18, F20)', () => {
    const url = broker.url();
    const models: string[] = [];
    const sims: WorkerSim[] = [];
    let app: TestApp;
    const model = () => models.at(-1)!;
    const startSim = async (name: string, ledger?: ReceivedTask[]) => {
      const sim = await WorkerSim.start({ brokerUrl: url, model: model(), name, ackWaitMs: ACK_WAIT_MS, maxDeliver: 2, ...(ledger ? { ledger } : {}) });
      sims.push(sim);
      return sim;
    };

    beforeAll(async () => {
      models.push(uniqueModel('fault'));
    });
    afterEach(async () => {
      await Promise.all(sims.splice(0).map((sim) => sim.close()));
      await app.close();
      await cleanupTopics(broker.kind, models.splice(0));
      models.push(uniqueModel('fault'));
    });

    it('a worker that dies before its first reply: the task is redelivered and answered once', async () => {
      app = await startApp({ overrides: dispatchOverrides(url, [model()]) });
      const ledger: ReceivedTask[] = [];
      const first = await startSim('first', ledger);
      first.handler = () => first.crash();
      const answer = postChat(app, { model: model(), stream: true, messages: [{ role: 'user', content: 'again' }] });
      await expect.poll(() => ledger.length).toBe(1);
      await startSim('second', ledger);
      const { text } = await readSse(await answer);
      expect(text).toContain(JSON.stringify(chunk('again', { model: model() })));
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(ledger.map((entry) => [entry.worker, entry.deliveryCount])).toEqual([['first', 1], ['second', 2]]);
    });

    it('a worker that dies mid-stream: the client gets an error event, never a second answer', async () => {
      app = await startApp({ overrides: dispatchOverrides(url, [model()]) });
      const ledger: ReceivedTask[] = [];
      const first = await startSim('first', ledger);
      first.handler = async (task) => {
        await task.frame({ end: false, data: chunk('one ', { model: model() }) });
        await task.frame({ end: false, data: chunk('two ', { model: model() }) });
        await sleep(50);
        await first.crash();
      };
      const requestId = `mid-${Date.now()}`;
      const { text, events } = await readSse(await postChat(app, { model: model(), stream: true }, { requestId }));
      expect(text.startsWith(`data: ${JSON.stringify(chunk('one ', { model: model() }))}\n\ndata: ${JSON.stringify(chunk('two ', { model: model() }))}\n\n`)).toBe(true);
      expect(text).not.toContain('[DONE]');
      expect(JSON.parse(events.at(-1)!.data).error).toBeDefined();
      expect(await waitForRecord(app, requestId)).toMatchObject({ outcome: 'upstream_reset', target_id: `worker:model-${model()}` });
      // The redelivered copy reaches a second worker, whose frames are refused.
      const second = await startSim('second', ledger);
      const refused: string[] = [];
      second.handler = async (task) => {
        await task.streamAnswer('second answer');
        refused.push(task.task.request_id);
      };
      await expect.poll(() => refused, { timeout: 5_000 }).toEqual([requestId]);
      expect(ledger.map((entry) => entry.deliveryCount)).toEqual([1, 2]);
    });

    it('deliveries are bounded by maxDeliver: a task whose workers keep dying ends in 408', async () => {
      app = await startApp({ overrides: dispatchOverrides(url, [model()], { 'dispatch.timeoutMs': 3 * ACK_WAIT_MS + 1_000 }) });
      const ledger: ReceivedTask[] = [];
      const crashing = async (name: string) => {
        const sim = await startSim(name, ledger);
        sim.handler = () => sim.crash();
      };
      await crashing('a');
      const answer = postChat(app, { model: model() });
      await expect.poll(() => ledger.length).toBe(1);
      await crashing('b');
      await expect.poll(() => ledger.length, { timeout: 5_000 }).toBe(2);
      await startSim('c', ledger);
      const response = await answer;
      expect(response.status).toBe(408);
      expect(ledger.map((entry) => entry.worker)).toEqual(['a', 'b']);
    });

    it('clients that leave at any moment never take the gateway down', async () => {
      app = await startApp({ overrides: dispatchOverrides(url, [model()]) });
      const sim = await startSim('steady');
      sim.handler = async (task) => {
        await sleep(5);
        if (task.task.stream) await task.streamAnswer('x');
        else await task.post({ data: { ok: true } });
      };
      await Promise.all(
        Array.from({ length: 40 }, async (_, index) => {
          const controller = new AbortController();
          setTimeout(() => controller.abort(), index % 8);
          await postChat(app, { model: model(), stream: index % 2 === 0 }, { signal: controller.signal })
            .then((response) => response.text())
            .catch(() => undefined);
        }),
      );
      const after = await postChat(app, { model: model() });
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ ok: true });
    });

    it('three workers on one model split the load', async () => {
      app = await startApp({ overrides: dispatchOverrides(url, [model()]) });
      const ledger: ReceivedTask[] = [];
      for (const name of ['w1', 'w2', 'w3']) {
        const sim = await WorkerSim.start({ brokerUrl: url, model: model(), name, concurrency: 2, ackWaitMs: ACK_WAIT_MS, ledger });
        sims.push(sim);
        const answer = sim.handler;
        sim.handler = async (task) => {
          await sleep(40);
          await (answer ?? (await import('../support/worker-sim.js')).defaultHandler)(task);
        };
      }
      const responses = await Promise.all(Array.from({ length: 24 }, (_, index) => postChat(app, { model: model(), messages: [{ role: 'user', content: `n${index}` }] })));
      const bodies = await Promise.all(responses.map(async (response) => ((await response.json()) as any).choices[0].message.content));
      expect(bodies).toEqual(Array.from({ length: 24 }, (_, index) => `sim: n${index}`));
      const perWorker = ['w1', 'w2', 'w3'].map((name) => ledger.filter((entry) => entry.worker === name).length);
      expect(perWorker.every((count) => count > 0)).toBe(true);
      expect(new Set(ledger.map((entry) => entry.task.request_id)).size).toBe(24);
      expect(ledger.length).toBe(24);
    });

    it('a graceful stop (SIGTERM) lets worker-fleet requests in flight finish: their replies still reach /res and /res/ws; new requests get 503', async () => {
      app = await startApp({ overrides: dispatchOverrides(url, [model()], { 'server.drainTimeoutMs': 5_000 }) });
      const sim = await startSim('draining');
      let release!: () => void;
      const stopping = new Promise<void>((resolve) => (release = resolve));
      sim.handler = async (task) => {
        const answerModel = model();
        if (!task.task.stream) {
          await stopping;
          await task.post({ data: chatCompletion('answered while draining', answerModel) });
          return;
        }
        // The stream's socket is open before the stop begins; its frames go on after it.
        await task.frame({ end: false, data: chunk('', { model: answerModel, role: true }) });
        await stopping;
        await task.frame({ end: false, data: chunk('draining', { model: answerModel }) });
        await task.frame({ end: false, data: chunk(undefined, { model: answerModel, finish: 'stop' }) });
        await task.frame({ end: true });
      };
      const plain = postChat(app, { model: model(), messages: [{ role: 'user', content: 'plain' }] });
      const streamed = postChat(app, { model: model(), stream: true, messages: [{ role: 'user', content: 'streamed' }] });
      await expect.poll(() => sim.received.length).toBe(2);
      const closing = app.close();
      try {
        // Draining: the process still answers, and refuses new work with 503 + Retry-After.
        await expect.poll(async () => (await fetch(`${app.url}/health`)).status).toBe(503);
        const late = await postChat(app, { model: model() });
        expect(late.status).toBe(503);
        expect(late.headers.get('retry-after')).toBe('1');
      } finally {
        release();
      }
      const answer = await plain;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as any).choices[0].message.content).toBe('answered while draining');
      const { text } = await readSse(await streamed);
      expect(text).toContain(JSON.stringify(chunk('draining', { model: model() })));
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      await closing;
    });

    it('two gateway instances share one broker: each client is answered by the instance it called', async () => {
      app = await startApp({ overrides: dispatchOverrides(url, [model()]) });
      const other = await startApp({ overrides: dispatchOverrides(url, [model()]) });
      try {
        const sim = await startSim('shared');
        const calls = [app, other, app, other].map((target, index) =>
          postChat(target, { model: model(), stream: index % 2 === 0, messages: [{ role: 'user', content: `to-${index}` }] }),
        );
        const [first, second, third, fourth] = await Promise.all(calls);
        expect((await readSse(first!)).text).toContain(JSON.stringify(chunk('to-0', { model: model() })));
        expect(((await second!.json()) as any).choices[0].message.content).toBe('sim: to-1');
        expect((await readSse(third!)).text).toContain(JSON.stringify(chunk('to-2', { model: model() })));
        expect(((await fourth!.json()) as any).choices[0].message.content).toBe('sim: to-3');
        const endpoints = sim.received.map((entry) => new URL(entry.task.endpoint).port);
        expect(endpoints).toEqual(expect.arrayContaining([new URL(app.url).port, new URL(other.url).port]));
      } finally {
        await other.close();
      }
    });
  });
});

forEachBroker((broker) => {
  describe('broker unreachable (RELIABILITY R8)', () => {
    let app: TestApp;
    const model = uniqueModel('down');
    beforeAll(async () => {
      const port = await closedPort();
      app = await startApp({ overrides: { 'dispatch.brokerUrl': `${broker.kind}://127.0.0.1:${port}`, 'dispatch.models': [model], 'gateway.records.flushIntervalMs': 20 } });
    });
    afterAll(() => app.close());

    it('answers 503 at once instead of queueing the task in memory', async () => {
      for (const stream of [false, true]) {
        const requestId = `down-${stream}-${Date.now()}`;
        const response = await postChat(app, { model, stream }, { requestId });
        expect(response.status).toBe(503);
        expect(((await response.json()) as any).error.type).toBe('service_unavailable_error');
        expect(await waitForRecord(app, requestId)).toMatchObject({ status: 503 });
      }
    });
  });
}, ['nats', 'redis']);

forEachBroker((broker) => {
  describe('broker that lost its topics (RELIABILITY R8: restarted without its store, stream deleted)', () => {
    const model = uniqueModel('lost');
    let app: TestApp;
    let sim: WorkerSim;
    beforeAll(async () => {
      app = await startApp({ overrides: dispatchOverrides(broker.url(), [model], { 'dispatch.timeoutMs': 2_000 }) });
      sim = await WorkerSim.start({ brokerUrl: broker.url(), model, ackWaitMs: ACK_WAIT_MS, maxDeliver: 2 });
    });
    afterAll(async () => {
      await sim.close();
      await app.close();
      await cleanupTopics(broker.kind, [model]);
    });

    it('the next request makes the topic again and is answered', async () => {
      expect((await postChat(app, { model })).status).toBe(200);
      await cleanupTopics(broker.kind, [model]);
      const response = await postChat(app, { model, messages: [{ role: 'user', content: 'back' }] });
      expect(response.status).toBe(200);
      expect(((await response.json()) as any).choices[0].message.content).toBe('sim: back');
      const { text } = await readSse(await postChat(app, { model, stream: true, messages: [{ role: 'user', content: 'again' }] }));
      expect(text).toContain(JSON.stringify(chunk('again', { model })));
    });
  });
}, ['nats', 'redis']);

forEachBroker((broker) => {
  describe('model names no broker can name a topic after', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ overrides: dispatchOverrides(broker.url(), ['*'], { 'dispatch.timeoutMs': 1_000 }) });
    });
    afterAll(() => app.close());

    it('a name that is short but long once escaped for the broker gets 400, not a retry-later 503', async () => {
      // 104 characters; each `.` takes three once escaped (topics.ts): 310, past NATS's 255 for stream names.
      const model = `long${'.'.repeat(100)}`;
      const response = await postChat(app, { model });
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).error).toMatchObject({ type: 'invalid_request_error', message: 'The model name is too long for a worker topic.', param: 'model' });
    });
  });
});

describe('unsupported brokers', () => {
  it('a pulsar:// URL fails at start with one line', async () => {
    await expect(startApp({ env: { PULSAR_URL: 'pulsar://localhost:6650' } })).rejects.toThrow(/^pulsar:\/\/ brokers are not supported by this build[^\n]*$/);
  });
});
