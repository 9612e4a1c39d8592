import type { BrokerUnderTest } from '../support/brokers.js';
import { startApp, type TestApp } from '../support/start-app.js';
import { WorkerSim } from '../support/worker-sim.js';

/**
 * An app whose worker fleet serves `model` over `broker` (records flushed every 20 ms, so tests
 * can read them back), plus `overrides`, and a simulated worker for that model.
 */
export async function startFleetApp(broker: BrokerUnderTest, model: string, overrides: Record<string, unknown> = {}): Promise<{ app: TestApp; sim: WorkerSim }> {
  const url = broker.url();
  const app = await startApp({ overrides: { 'dispatch.brokerUrl': url, 'dispatch.models': [model], 'gateway.records.flushIntervalMs': 20, ...overrides } });
  const sim = await WorkerSim.start({ brokerUrl: url, model });
  return { app, sim };
}
