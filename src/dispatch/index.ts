/** The worker fleet's public surface (seed 000): app.ts and the CLI import only from here. */
export { createDispatchService, registerDispatch, type DispatchService } from './dispatch-service.js';
export { runWorkerCommand } from './worker/run-worker-command.js';
export type { Broker, ConsumeOptions, Delivery, Subscription } from './brokers/broker.js';
export { openBroker } from './brokers/open-broker.js';
export { decodeTask, encodeTask, type Task } from './task.js';
export { escapeName, unescapeName, groupFor, topicFor } from './topics.js';
