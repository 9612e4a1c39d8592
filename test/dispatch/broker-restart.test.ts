import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueModel } from '../support/brokers.js';
import { findBinary, OwnedServer } from '../support/owned-server.js';
import { postChat } from '../support/records.js';
import { chatCompletion } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { WorkerSim } from '../support/worker-sim.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Posts until the answer has the wanted status (bounded), returning the last response's status. */
async function statusEventually(app: TestApp, model: string, wanted: number): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < 40 && status !== wanted; attempt++) {
    status = (await postChat(app, { model })).status;
    if (status !== wanted) await sleep(200);
  }
  return status;
}

for (const kind of ['nats', 'redis'] as const) {
  const available = findBinary(kind) !== undefined;
  // Like requireService: under CI a missing server binary fails loudly instead of skipping.
  if (!available && process.env['CI'] === 'true') throw new Error(`CI requires the ${kind} server binary (apt-get install ${kind === 'nats' ? 'nats-server' : 'redis-server'})`);
  describe.skipIf(!available)(`${kind} server restart (RELIABILITY ${kind === 'nats' ? 'F15' : 'F16'})`, () => {
    const model = uniqueModel('restart');
    let server: OwnedServer;
    let app: TestApp;
    let sim: WorkerSim;

    beforeAll(async () => {
      server = await OwnedServer.start(kind);
      app = await startApp({ overrides: { 'dispatch.brokerUrl': server.url, 'dispatch.models': [model], 'dispatch.timeoutMs': 3_000, 'dispatch.ackWaitMs': 600 } });
      sim = await WorkerSim.start({ brokerUrl: server.url, model, ackWaitMs: 600 });
    });
    afterAll(async () => {
      await sim.close();
      await app.close();
      await server.close();
    });

    it('fails fast while the broker is down, recovers when it returns, and never answers twice', async () => {
      expect((await postChat(app, { model })).status).toBe(200);

      // A task a worker already holds is answered even though the broker dies meanwhile.
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const verdicts: number[] = [];
      sim.handler = async (task) => {
        if (task.deliveryCount === 1) await held;
        verdicts.push((await task.post({ data: chatCompletion(`answer ${task.deliveryCount}`) })).status);
      };
      const inFlight = postChat(app, { model });
      await expect.poll(() => sim.received.length).toBe(2);
      await server.kill();
      release();
      const answered = await inFlight;
      expect(answered.status).toBe(200);
      expect(((await answered.json()) as any).choices[0].message.content).toBe('answer 1');

      // Publishes during the outage get 503 instead of waiting in memory.
      expect(await statusEventually(app, model, 503)).toBe(503);

      await server.resume();
      sim.handler = undefined;
      expect(await statusEventually(app, model, 200)).toBe(200);
      // Whatever the worker received again after the restart was refused, never relayed twice.
      expect(verdicts[0]).toBe(200);
      expect(verdicts.slice(1).every((status) => status === 404)).toBe(true);
    });
  });
}
