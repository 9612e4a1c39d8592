import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTopics, forEachBroker, uniqueModel } from '../support/brokers.js';
import { checkLedger, collectRows, printLedger } from '../support/ledger.js';
import { ledgerRequest, type ClientEntry } from '../support/ledger-client.js';
import type { RecordedRequest } from '../support/scripted-upstream.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { WorkerSim, defaultHandler, type ReceivedTask, type SimTask } from '../support/worker-sim.js';
import { FAST } from './harness.js';

/**
 * The worker-fleet path through the ledger (RELIABILITY F17, F18 as verdicts; the dispatch suite
 * has the per-broker detail): duplicate, late and forged replies and a crash mid-stream must never
 * show up as a second answer, a forged byte, a lost or a double-logged request.
 */
const FORGED = 'FORGED-BY-A-STRANGER';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Worker deliveries as upstream-ledger entries: which request reached which worker. */
function workerLedger(received: readonly ReceivedTask[]): RecordedRequest[] {
  return received.map((entry) => ({
    method: 'POST', url: '/', headers: {}, body: Buffer.alloc(0), json: entry.task.data, receivedAt: 0, eventsSent: 0,
    requestId: entry.task.request_id, upstream: entry.worker, contentSent: Number.MAX_SAFE_INTEGER, completed: true,
  }));
}

/** What each worker does, chosen by the client's message. */
async function misbehave(task: SimTask): Promise<void> {
  const text = String((task.task.data as any)?.messages?.[0]?.content ?? '');
  // A stranger who learned the request id but not the token tries to answer first.
  await (task.task.stream ? task.frame({ end: false, token: 'forged', data: { choices: [{ index: 0, delta: { content: FORGED } }] } }) : task.post({ token: 'forged', data: FORGED })).catch(() => undefined);
  if (text === 'late') {
    await sleep(1_500);
    await task.post({ data: { late: true } }).catch(() => undefined);
    return;
  }
  await defaultHandler(task);
  if (text === 'dup') {
    // The same worker answers again: a second /res, or more frames and a second end.
    if (task.task.stream) {
      await task.frame({ end: false, data: { choices: [{ index: 0, delta: { content: 'again' } }] } }).catch(() => undefined);
      await task.frame({ end: true }).catch(() => undefined);
    } else await task.post({ data: { second: true } });
  }
}

forEachBroker(
  (broker) => {
    describe('worker replies through the ledger (F17, F18)', () => {
      let app: TestApp | undefined;
      const sims: WorkerSim[] = [];
      const models: string[] = [];
      afterEach(async () => {
        await Promise.all(sims.splice(0).map((sim) => sim.close().catch(() => undefined)));
        await app?.close();
        await cleanupTopics(broker.kind, models.splice(0));
      });

      async function fleet(options: { timeoutMs: number }) {
        const model = uniqueModel('ledger');
        models.push(model);
        const url = broker.url();
        app = await startApp({
          overrides: { ...FAST, 'dispatch.brokerUrl': url, 'dispatch.models': [model], 'dispatch.timeoutMs': options.timeoutMs, 'dispatch.streamIdleMs': 800, 'dispatch.ackWaitMs': 600, 'dispatch.maxDeliver': 2 },
        });
        const received: ReceivedTask[] = [];
        const start = async (name: string) => {
          const sim = await WorkerSim.start({ brokerUrl: url, model, name, ackWaitMs: 600, maxDeliver: 2, ledger: received });
          sims.push(sim);
          return sim;
        };
        return { app, model, received, start };
      }

      async function verdictOf(target: TestApp, name: string, client: ClientEntry[], received: ReceivedTask[]) {
        const upstream = workerLedger(received);
        const rows = await collectRows(target.app.store.db, { prefix: `${name}-`, served: upstream.map((request) => request.requestId!) });
        return printLedger(`scenario ${name}`, checkLedger({ client, upstream, rows }));
      }

      it('duplicate, late and forged replies: one answer per request, never a forged byte, one row each', async () => {
        const { app: target, model, received, start } = await fleet({ timeoutMs: 1_000 });
        const sim = await start('w1');
        sim.handler = misbehave;
        const plan = [['ok', false], ['ok', true], ['dup', false], ['dup', true], ['late', false]] as const;
        const client = await Promise.all(
          plan.map(([text, stream], index) => ledgerRequest({ url: target.url, id: `wrk-${index}`, body: { model, stream, messages: [{ role: 'user', content: text }] } })),
        );
        const verdict = await verdictOf(target, 'wrk', client, received);
        expect(verdict.violations).toEqual([]);
        expect(verdict.count('ok')).toBe(4);
        expect(verdict.count('clean-error')).toBe(1);
        expect(client.some((entry) => entry.body.includes(FORGED))).toBe(false);
      });

      it('a worker killed mid-stream: an error event, never a second answer from the redelivery', async () => {
        const { app: target, model, received, start } = await fleet({ timeoutMs: 4_000 });
        const doomed = await start('doomed');
        doomed.handler = async (task) => {
          await task.frame({ end: false, data: { choices: [{ index: 0, delta: { role: 'assistant', content: 'part ' } }] } });
          await doomed.crash();
        };
        const pending = ledgerRequest({ url: target.url, id: 'crash-0', body: { model, stream: true, messages: [{ role: 'user', content: 'x' }] } });
        for (let poll = 0; poll < 200 && received.length === 0; poll++) await sleep(25);
        await start('survivor');
        const client = [await pending];
        const verdict = await verdictOf(target, 'crash', client, received);
        expect(verdict.violations).toEqual([]);
        expect(verdict.count('clean-error')).toBe(1);
      });
    });
  },
  ['in-process', 'nats'],
);
