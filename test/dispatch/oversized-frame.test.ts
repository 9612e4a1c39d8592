import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/dispatch/index.js';
import { forEachBroker, uniqueModel } from '../support/brokers.js';
import { postChat, waitForRecord } from '../support/records.js';
import { chunk } from '../support/scripted-upstream.js';
import { readSse } from '../support/sse-client.js';
import type { TestApp } from '../support/start-app.js';
import type { WorkerSim } from '../support/worker-sim.js';
import { startFleetApp } from './fleet-app.js';
import { RawWorkerSocket } from './raw-worker-socket.js';

const MAX_REPLY_BYTES = 64 * 1024;
const STREAM_IDLE_MS = 8_000;

/** Content whose chunk makes a frame of about `bytes`. */
function contentOf(bytes: number): string {
  return 'z'.repeat(bytes);
}

function streamedText(events: readonly { data: string }[]): string {
  return events
    .filter((event) => event.data !== '[DONE]')
    .map((event) => (JSON.parse(event.data) as { choices?: { delta: { content?: string } }[] }).choices?.[0]?.delta.content ?? '')
    .join('');
}

forEachBroker(
  (broker) => {
    describe('a /res/ws frame over dispatch.maxReplyBytes', () => {
      const model = uniqueModel('bigframe');
      let app: TestApp;
      let sim: WorkerSim;
      let socket: RawWorkerSocket | undefined;
      const tasks: Task[] = [];
      beforeAll(async () => {
        ({ app, sim } = await startFleetApp(broker, model, { 'dispatch.streamIdleMs': STREAM_IDLE_MS, 'dispatch.maxReplyBytes': MAX_REPLY_BYTES }));
        sim.handler = async (simTask) => {
          tasks.push(simTask.task);
        };
      });
      afterEach(() => socket?.close());
      afterAll(async () => {
        await sim.close();
        await app.close();
      });

      /** Two streams whose worker answers both on one hand-driven socket; both have had a first frame. */
      async function twoStreams(): Promise<{ first: { task: Task; response: Promise<Response> }; second: { task: Task; response: Promise<Response> } }> {
        tasks.length = 0;
        socket = await RawWorkerSocket.open(RawWorkerSocket.endpointOf(app.url));
        const firstId = `one-${Date.now()}`;
        const secondId = `two-${Date.now()}`;
        const firstResponse = postChat(app, { model, stream: true }, { requestId: firstId });
        const secondResponse = postChat(app, { model, stream: true }, { requestId: secondId });
        await expect.poll(() => tasks.length).toBe(2);
        const byId = (id: string) => tasks.find((task) => task.request_id === id)!;
        for (const task of tasks) await socket.frame({ requestId: task.request_id, token: task.reply_token, data: chunk('hello ') });
        return { first: { task: byId(firstId), response: firstResponse }, second: { task: byId(secondId), response: secondResponse } };
      }

      it('fails only the stream it belongs to, at once; the worker is told to cancel it and its other streams go on', async () => {
        const { first, second } = await twoStreams();
        const started = Date.now();
        await socket!.frame({ requestId: first.task.request_id, token: first.task.reply_token, data: chunk(contentOf(2 * MAX_REPLY_BYTES)) });
        const failed = await readSse(await first.response);
        expect(Date.now() - started).toBeLessThan(STREAM_IDLE_MS / 2);
        expect(streamedText(failed.events)).toBe('hello ');
        expect(failed.events.at(-1)!.data).not.toBe('[DONE]');
        expect(JSON.parse(failed.events.at(-1)!.data).error).toMatchObject({ type: expect.any(String), message: expect.any(String) });
        await expect.poll(() => socket!.cancelsFor(first.task.request_id)).toBe(1);
        expect(await waitForRecord(app, first.task.request_id)).toMatchObject({ status: 502 });

        await socket!.frame({ requestId: second.task.request_id, token: second.task.reply_token, data: chunk('world') });
        await socket!.frame({ requestId: second.task.request_id, token: second.task.reply_token, end: true });
        const ok = await readSse(await second.response);
        expect(streamedText(ok.events)).toBe('hello world');
        expect(ok.events.at(-1)!.data).toBe('[DONE]');
        expect(socket!.closeCode).toBeUndefined();
      });

      it('as the first frame of a stream, its client gets an OpenAI-shaped error at once', async () => {
        tasks.length = 0;
        socket = await RawWorkerSocket.open(RawWorkerSocket.endpointOf(app.url));
        const requestId = `first-${Date.now()}`;
        const response = postChat(app, { model, stream: true }, { requestId });
        await expect.poll(() => tasks.length).toBe(1);
        const started = Date.now();
        await socket.frame({ requestId, token: tasks[0]!.reply_token, data: chunk(contentOf(2 * MAX_REPLY_BYTES)) });
        // SSE headers are out before any frame, so the error is the stream's one in-band event.
        const { events } = await readSse(await response);
        expect(Date.now() - started).toBeLessThan(STREAM_IDLE_MS / 2);
        expect(events).toHaveLength(1);
        // Said as it is: the worker's reply was too large (not "the connection was lost").
        expect(JSON.parse(events[0]!.data).error).toMatchObject({ type: 'upstream_error', code: 'upstream_reply_too_large', message: expect.stringContaining('larger than') });
        expect(await waitForRecord(app, requestId)).toMatchObject({ status: 502, outcome: 'upstream_reply_too_large' });
      });

      it('with a forged token it fails nobody: the stream it names goes on', async () => {
        const { first, second } = await twoStreams();
        await socket!.frame({ requestId: first.task.request_id, token: 'forged', data: chunk(contentOf(2 * MAX_REPLY_BYTES)) });
        for (const { task } of [first, second]) {
          await socket!.frame({ requestId: task.request_id, token: task.reply_token, data: chunk('world') });
          await socket!.frame({ requestId: task.request_id, token: task.reply_token, end: true });
        }
        for (const { response } of [first, second]) expect(streamedText((await readSse(await response)).events)).toBe('hello world');
      });

      it('one that names no request ahead of its data closes the socket, as before: its streams fail rather than silently miss a chunk', async () => {
        const { first, second } = await twoStreams();
        const data = JSON.stringify(chunk(contentOf(2 * MAX_REPLY_BYTES)));
        await socket!.send(`{"data":${data},"request_id":${JSON.stringify(first.task.request_id)},"reply_token":${JSON.stringify(first.task.reply_token)},"end":false}`);
        await expect.poll(() => socket!.closeCode).toBe(1009);
        for (const { response } of [first, second]) {
          const { events } = await readSse(await response);
          expect(JSON.parse(events.at(-1)!.data).error).toBeDefined();
        }
      });

      it('past the hard per-frame cap the socket is still closed (1009): memory stays bounded', async () => {
        const { first, second } = await twoStreams();
        // ws refuses it from its header and closes the socket, maybe while it is still being written.
        await socket!.frame({ requestId: first.task.request_id, token: first.task.reply_token, data: chunk(contentOf(64 * MAX_REPLY_BYTES)) }).catch(() => undefined);
        await expect.poll(() => socket!.closeCode).toBe(1009);
        for (const { response } of [first, second]) {
          const { events } = await readSse(await response);
          expect(JSON.parse(events.at(-1)!.data).error).toBeDefined();
        }
      });
    });
  },
  ['in-process'],
);
