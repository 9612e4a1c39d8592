import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/dispatch/index.js';
import { forEachBroker, uniqueModel } from '../support/brokers.js';
import { postChat } from '../support/records.js';
import { chunk } from '../support/scripted-upstream.js';
import { readSse } from '../support/sse-client.js';
import type { TestApp } from '../support/start-app.js';
import type { WorkerSim } from '../support/worker-sim.js';
import { startFleetApp } from './fleet-app.js';
import { RawWorkerSocket } from './raw-worker-socket.js';

const FRAMES = 25;

forEachBroker(
  (broker) => {
    describe('cancel messages on /res/ws: at most one per request id (no reply amplification)', () => {
      const model = uniqueModel('cancel');
      let app: TestApp;
      let sim: WorkerSim;
      let socket: RawWorkerSocket | undefined;
      beforeAll(async () => {
        ({ app, sim } = await startFleetApp(broker, model, { 'dispatch.streamIdleMs': 8_000 }));
      });
      afterAll(async () => {
        socket?.close();
        await sim.close();
        await app.close();
      });

      it('many frames for an unknown or a finished request id get one cancel each', async () => {
        sim.handler = undefined;
        const requestId = `finished-${Date.now()}`;
        await readSse(await postChat(app, { model, stream: true }, { requestId }));
        const finished = sim.received.find((received) => received.task.request_id === requestId)!.task;
        socket = await RawWorkerSocket.open(RawWorkerSocket.endpointOf(app.url));
        for (let index = 0; index < FRAMES; index++) {
          await socket.frame({ requestId: 'never-issued', token: 'x', data: chunk('a') });
          await socket.frame({ requestId, token: finished.reply_token, data: chunk('b') });
        }
        await socket.settle('marker-1');
        expect(socket.cancelsFor('never-issued')).toBe(1);
        expect(socket.cancelsFor(requestId)).toBe(1);
      });

      it('a worker that keeps sending after its client left is told once', async () => {
        let taken: (task: Task) => void = () => undefined;
        const task = new Promise<Task>((resolve) => (taken = resolve));
        sim.handler = async (simTask) => taken(simTask.task);
        socket = await RawWorkerSocket.open(RawWorkerSocket.endpointOf(app.url));
        const controller = new AbortController();
        const response = await postChat(app, { model, stream: true }, { signal: controller.signal });
        const { request_id: requestId, reply_token: token } = await task;
        await socket.frame({ requestId, token, data: chunk('first') });
        const reader = response.body!.getReader();
        await reader.read();
        controller.abort();
        // The hub forgets the request when its client leaves and tells the bound socket to stop.
        await expect.poll(() => socket!.cancelsFor(requestId)).toBe(1);
        for (let index = 0; index < FRAMES; index++) await socket.frame({ requestId, token, data: chunk('more') });
        await socket.settle('marker-2');
        expect(socket.cancelsFor(requestId)).toBe(1);
      });
    });
  },
  ['in-process'],
);
