import { once } from 'node:events';
import { pino } from 'pino';
import { loadWorkerConfig } from '../../config/worker-schema.js';
import { buildLoggerOptions } from '../../platform/logger.js';
import { openBroker } from '../brokers/open-broker.js';
import { ModelClient } from './model-client.js';
import { Worker } from './worker.js';

export interface WorkerCommandInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTTY: boolean;
}

/**
 * `switchboard worker`: reads the seed workers' env (SEEDS-SPEC §1.6), serves until SIGINT or
 * SIGTERM, then finishes running tasks and exits 0. Bad settings throw a ConfigError (one line each).
 */
export async function runWorkerCommand(input: WorkerCommandInput): Promise<number> {
  const config = loadWorkerConfig(input.env);
  const log = pino(buildLoggerOptions({ level: config.logLevel, isTTY: input.isTTY }));
  // pulsar:// and unknown schemes fail here with one line (open-broker.ts).
  const broker = openBroker({ url: config.brokerUrl, maxDeliver: config.maxDeliver, ackWaitMs: config.ackWaitMs, onError: (error) => log.warn({ err: error }, 'broker error') });
  if (broker.kind === 'in-process') {
    await broker.close();
    throw new Error('a worker process needs a shared broker; set BROKER_URL to nats://… or redis://…');
  }
  const worker = new Worker({
    broker,
    model: new ModelClient({ apiUrl: config.apiUrl, apiKey: config.apiKey, timeoutMs: config.upstreamTimeoutMs, idleMs: config.upstreamIdleMs }),
    topic: config.topic,
    subscription: config.subscription,
    concurrency: config.maxProcessNum,
    maxDeliver: config.maxDeliver,
    ackWaitMs: config.ackWaitMs,
    heartbeatMs: config.wsHeartbeatMs,
    log,
  });
  await worker.start();
  const signal = await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
  log.info({ signal: String(signal[0] ?? '') }, 'worker stopping');
  await worker.stop();
  await broker.close();
  log.flush();
  return 0;
}
