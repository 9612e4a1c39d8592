import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { type RawData } from 'ws';
import { wsFrameText } from '../../src/dispatch/ws-frame-text.js';
import { forEachBroker, uniqueModel } from '../support/brokers.js';
import { chunk } from '../support/scripted-upstream.js';
import { TEST_KEY, type TestApp } from '../support/start-app.js';
import type { SimTask, WorkerSim } from '../support/worker-sim.js';
import { startFleetApp } from './fleet-app.js';

const FRAME_TEXT = 'x'.repeat(32 * 1024);
/** Far more than loopback socket buffers hold: without a bound, all of it would wait in memory. */
const WORKER_TOTAL_BYTES = 64 * 1024 * 1024;
const BUFFER_CAP = 64 * 1024;

/** What a fast worker saw while streaming into a client that reads nothing. */
interface FloodResult {
  sentBytes: number;
  cancelledAfterBytes: number | undefined;
}

/** Streams big frames on its own socket until the gateway says `cancel` or the total is sent. */
async function flood(task: SimTask, model: string, result: FloodResult): Promise<void> {
  const socket = new WebSocket(task.task.endpoint);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.on('message', (data: RawData) => {
    const message = JSON.parse(wsFrameText(data)) as { request_id: string; cancel?: boolean };
    if (message.cancel === true && message.request_id === task.task.request_id) result.cancelledAfterBytes ??= result.sentBytes;
  });
  const frame = JSON.stringify({ request_id: task.task.request_id, reply_token: task.task.reply_token, end: false, data: chunk(FRAME_TEXT, { model }) });
  while (result.cancelledAfterBytes === undefined && result.sentBytes < WORKER_TOTAL_BYTES && socket.readyState === socket.OPEN) {
    await new Promise<void>((resolve, reject) => socket.send(frame, (error) => (error ? reject(error) : resolve())));
    result.sentBytes += frame.length;
  }
}

/** A client that sends a stream request and then never reads a byte of the answer. */
function stalledClient(app: TestApp, model: string, requestId: string): Socket {
  const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'flood me' }] });
  const { port } = new URL(app.url);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  socket.on('error', () => undefined);
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TEST_KEY}\r\ncontent-type: application/json\r\n` +
      `x-request-id: ${requestId}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.pause();
  return socket;
}

/** The request's terminal record; the stall rule needs longer than waitForRecord's 3 s. */
async function finalRecord(app: TestApp, id: string): Promise<unknown> {
  const read = () => app.app.store.db.selectFrom('records').selectAll().where('client_request_id', '=', id).where('outcome', '!=', 'pending').executeTakeFirst();
  await expect.poll(read, { timeout: 10_000, interval: 50 }).toBeDefined();
  return read();
}

forEachBroker(
  (broker) => {
    describe('a slow client of a worker stream (RELIABILITY R7, F11)', () => {
      let app: TestApp | undefined;
      let sim: WorkerSim | undefined;
      let client: Socket | undefined;
      afterEach(async () => {
        client?.destroy();
        await sim?.close();
        await app?.close();
      });

      it('stops the worker once the gateway holds maxBufferedBytes for it, and cuts the client as stalled', async () => {
        const model = uniqueModel('slow');
        ({ app, sim } = await startFleetApp(broker, model, { 'dispatch.streamIdleMs': 20_000, 'gateway.maxBufferedBytes': BUFFER_CAP, 'gateway.timeouts.clientStallMs': 4_000 }));
        const result: FloodResult = { sentBytes: 0, cancelledAfterBytes: undefined };
        let flooding: Promise<void> | undefined;
        sim.handler = async (task) => {
          flooding = flood(task, model, result);
          await flooding;
        };
        const requestId = `slow-${Date.now()}`;
        client = stalledClient(app, model, requestId);
        await expect.poll(() => flooding !== undefined, { timeout: 5_000 }).toBe(true);
        await flooding;
        // Told to stop long before the whole flood: what waits for the client is bounded.
        expect(result.cancelledAfterBytes).toBeDefined();
        expect(result.cancelledAfterBytes!).toBeLessThan(WORKER_TOTAL_BYTES / 2);
        expect(await finalRecord(app, requestId)).toMatchObject({ outcome: 'client_stalled', status: 499, target_id: `worker:model-${model}` });
      }, 30_000);

      // clientStallMs 0 turns the stall rule off: the reader is never cut for pausing, and catches up the same way.
      it.each([10_000, 0])('a client that catches up after the worker was stopped gets what was held, then an error and no [DONE] (clientStallMs %i)', async (clientStallMs) => {
        const model = uniqueModel('slow');
        ({ app, sim } = await startFleetApp(broker, model, { 'dispatch.streamIdleMs': 20_000, 'gateway.maxBufferedBytes': BUFFER_CAP, 'gateway.timeouts.clientStallMs': clientStallMs }));
        const result: FloodResult = { sentBytes: 0, cancelledAfterBytes: undefined };
        sim.handler = (task) => flood(task, model, result);
        const requestId = `catch-up-${Date.now()}`;
        const stalled = stalledClient(app, model, requestId);
        client = stalled;
        await expect.poll(() => result.cancelledAfterBytes !== undefined, { timeout: 10_000 }).toBe(true);
        const parts: Buffer[] = [];
        stalled.on('data', (data: Buffer) => parts.push(data));
        stalled.resume();
        // The response ends (the last chunk of its chunked body); the connection stays open.
        await expect.poll(() => Buffer.concat(parts).toString('latin1').endsWith('\r\n0\r\n\r\n'), { timeout: 10_000 }).toBe(true);
        const text = Buffer.concat(parts).toString('latin1');
        const frames = text.split(`data: ${JSON.stringify(chunk(FRAME_TEXT, { model }))}`).length - 1;
        expect(frames).toBeGreaterThan(0);
        expect(text).not.toContain('[DONE]');
        expect(text.slice(text.lastIndexOf('data: '))).toMatch(/^data: \{"error":/);
        // The client, not the worker, fell behind: said so in-band and in the record.
        expect(text.slice(text.lastIndexOf('data: '))).toContain('did not read the response fast enough');
        expect(await finalRecord(app, requestId)).toMatchObject({ outcome: 'client_stalled', status: 499 });
      }, 30_000);
    });
  },
  ['in-process'],
);
