/**
 * Switchboard with the in-process broker and a worker in the same process (the only way the
 * in-process broker is used: `npm start` with no BROKER_URL, workers embedded). The worker is
 * the real one and still answers over loopback HTTP/WebSocket.
 *
 * Usage: node --import tsx bench/servers/fleet-in-process.ts --port N --model M --api-url URL --key K
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { groupFor, openBroker, topicFor } from '../../src/dispatch/index.js';
import { ModelClient } from '../../src/dispatch/worker/model-client.js';
import { Worker } from '../../src/dispatch/worker/worker.js';

const { values } = parseArgs({
  options: { port: { type: 'string' }, model: { type: 'string' }, 'api-url': { type: 'string' }, key: { type: 'string' } },
});
const port = Number(values.port);
const model = values.model;
const apiUrl = values['api-url'];
if (!Number.isInteger(port) || !model || !apiUrl || !values.key) throw new Error('usage: fleet-in-process.ts --port N --model M --api-url URL --key K');

const bus = 'memory://bench';
const cwd = mkdtempSync(join(tmpdir(), 'switchboard-bench-fleet-'));
const config = loadConfig({
  cwd,
  overrides: { 'server.host': '127.0.0.1', 'server.port': port, 'log.level': 'warn', 'gateway.authorization': [values.key], 'dispatch.brokerUrl': bus, 'dispatch.models': [model] },
});
const app = await buildApp({ config, cwd });
const broker = openBroker({ url: bus, maxDeliver: 3, ackWaitMs: 30_000 });
const topic = topicFor(model);
const worker = new Worker({
  broker,
  model: new ModelClient({ apiUrl, apiKey: 'sk-bench', timeoutMs: 60_000, idleMs: 60_000 }),
  topic,
  subscription: groupFor(topic),
  concurrency: 256,
  maxDeliver: 3,
  ackWaitMs: 30_000,
  heartbeatMs: 30_000,
  log: pino({ level: 'warn' }),
});
await worker.start();
await app.server.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => {
  void (async () => {
    await worker.stop();
    await broker.close();
    await app.close();
  })();
});
