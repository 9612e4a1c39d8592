import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyAddressHint } from '../../src/dispatch/reply-body.js';
import { forEachBroker, uniqueModel } from '../support/brokers.js';
import { postChat, waitForRecord } from '../support/records.js';
import { chatCompletion } from '../support/scripted-upstream.js';
import type { TestApp } from '../support/start-app.js';
import type { WorkerSim } from '../support/worker-sim.js';
import { startFleetApp } from './fleet-app.js';

const MAX_REPLY_BYTES = 64 * 1024;
const TIMEOUT_MS = 8_000;
const TOO_LARGE = { error: 'Reply body is too large' };

forEachBroker(
  (broker) => {
    describe('a /res reply over dispatch.maxReplyBytes', () => {
      const model = uniqueModel('big');
      let app: TestApp;
      let sim: WorkerSim;
      beforeAll(async () => {
        ({ app, sim } = await startFleetApp(broker, model, { 'dispatch.timeoutMs': TIMEOUT_MS, 'dispatch.maxReplyBytes': MAX_REPLY_BYTES }));
      });
      afterAll(async () => {
        await sim.close();
        await app.close();
      });

      it('fails its client at once with an OpenAI error, not at TIMEOUT; the worker gets 413', async () => {
        const verdicts: unknown[] = [];
        sim.handler = async (task) => {
          verdicts.push(await task.post({ data: chatCompletion('a'.repeat(2 * MAX_REPLY_BYTES)) }));
        };
        const requestId = `big-${Date.now()}`;
        const started = Date.now();
        const response = await postChat(app, { model }, { requestId });
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS / 2);
        expect(response.status).toBe(502);
        expect(await response.json()).toEqual({
          error: { message: `The worker's reply was larger than the ${MAX_REPLY_BYTES}-byte limit.`, type: 'upstream_error', param: null, code: 'upstream_error' },
        });
        await expect.poll(() => verdicts).toEqual([{ status: 413, body: TOO_LARGE }]);
        expect(await waitForRecord(app, requestId)).toMatchObject({ status: 502, target_id: `worker:model-${model}` });
      });

      it('a Bearer token works as well as the reply_token field', async () => {
        sim.handler = async (task) => {
          await task.post({ token: null, bearer: task.task.reply_token, data: chatCompletion('b'.repeat(2 * MAX_REPLY_BYTES)) });
        };
        const started = Date.now();
        const response = await postChat(app, { model });
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS / 2);
        expect(response.status).toBe(502);
      });

      it('an oversized reply without the right token fails nobody: the genuine reply still wins', async () => {
        const verdicts: unknown[] = [];
        sim.handler = async (task) => {
          verdicts.push(await task.post({ token: 'forged', data: chatCompletion('c'.repeat(2 * MAX_REPLY_BYTES)) }));
          verdicts.push(await task.post({ token: null, data: chatCompletion('d'.repeat(2 * MAX_REPLY_BYTES)) }));
          verdicts.push(await task.post({ data: chatCompletion('genuine') }));
        };
        const response = await postChat(app, { model });
        expect(response.status).toBe(200);
        expect(((await response.json()) as any).choices[0].message.content).toBe('genuine');
        await expect.poll(() => verdicts.length).toBe(3);
        expect(verdicts).toEqual([
          { status: 413, body: TOO_LARGE },
          { status: 413, body: TOO_LARGE },
          { status: 200, body: { status: 'ok' } },
        ]);
      });
    });
  },
  ['in-process'],
);

describe('replyAddressHint: who the head of a cut reply names', () => {
  it('reads the members before the cut and nothing cut off', () => {
    expect(replyAddressHint('{"request_id":"r1","reply_token":"t1","data":{"choices":[{"x":"aaa')).toEqual({ requestId: 'r1', token: 't1' });
    expect(replyAddressHint('{"request_id":"r1","reply_to')).toEqual({ requestId: 'r1', token: undefined });
    expect(replyAddressHint('{"request_id":"r1')).toEqual({ requestId: undefined, token: undefined });
    expect(replyAddressHint('{"data":{"big":"aaaa')).toEqual({ requestId: undefined, token: undefined });
    expect(replyAddressHint('{"request_id":5,"reply_token":"t"')).toEqual({ requestId: undefined, token: 't' });
  });
});
