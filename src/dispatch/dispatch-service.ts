import type { WebSocket } from '@fastify/websocket';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import type { ModelTargets } from '../gateway/index.js';
import type { Broker } from './brokers/broker.js';
import { openBroker } from './brokers/open-broker.js';
import { CallbackEndpoint } from './callback-endpoint.js';
import { CancelNotices } from './cancel-notices.js';
import { FleetModels } from './fleet-models.js';
import { ReplyHub } from './reply-hub.js';
import { registerReplyRoutes } from './reply-routes.js';
import { WorkerTarget } from './worker-target.js';

export interface DispatchServiceOptions {
  readonly config: Config;
  readonly log: FastifyBaseLogger;
  /** The server's bound addresses, read lazily (the port is known only after listen). */
  readonly addresses: () => readonly AddressInfo[];
}

/** The worker fleet on the gateway side: broker, pending replies, and the fleet's model targets. */
export interface DispatchService {
  readonly broker: Broker;
  readonly hub: ReplyHub;
  /** What `/res/ws` sockets were told to cancel (shared by the hub and the reply routes). */
  readonly cancels: CancelNotices;
  /** Hand to createGatewayService({ modelTargets: [..] }). */
  readonly modelTargets: ModelTargets;
  close(): Promise<void>;
}

/** Opens the broker (lazily connected: the server starts even while the broker is away). */
export function createDispatchService(options: DispatchServiceOptions): DispatchService {
  const { config, log } = options;
  const settings = config.dispatch;
  const broker = openBroker({
    url: settings.brokerUrl,
    maxDeliver: settings.maxDeliver,
    ackWaitMs: settings.ackWaitMs,
    onError: (error) => log.warn({ err: error }, 'worker broker error'),
  });
  const hub = new ReplyHub();
  const cancels = new CancelNotices();
  hub.onCancel = (socket, requestId) => cancels.send(socket as WebSocket, requestId);
  const endpoint = new CallbackEndpoint({
    publicUrl: config.server.publicUrl,
    endpointHost: settings.endpointHost,
    listenHost: config.server.host,
    addresses: options.addresses,
  });
  const targetSettings = {
    timeoutMs: settings.timeoutMs,
    streamIdleMs: settings.streamIdleMs,
    keepAliveMs: settings.keepAliveMs,
    maxBufferedBytes: config.gateway.maxBufferedBytes,
    clientStallMs: config.gateway.timeouts.clientStallMs,
  };
  const modelTargets = new FleetModels(settings.models, (model) => new WorkerTarget(model, { broker, hub, endpoint, settings: targetSettings, log }));
  if (settings.models.length > 0) log.info({ broker: broker.kind, models: settings.models }, 'worker fleet models');
  if (settings.models.length > 0 && settings.brokerUrl === undefined) {
    log.warn('WORKER_MODELS is set but BROKER_URL is not: tasks stay in this process, where no `switchboard worker` can take them');
  }
  return { broker, hub, cancels, modelTargets, close: () => broker.close() };
}

/** Registers `POST /res` and `GET /res/ws` in their own encapsulated scope (parser, error renderer). */
export async function registerDispatch(app: FastifyInstance, deps: { config: Config; service: DispatchService }): Promise<void> {
  await app.register((scope) => registerReplyRoutes(scope, { hub: deps.service.hub, cancels: deps.service.cancels, maxReplyBytes: deps.config.dispatch.maxReplyBytes, heartbeatMs: deps.config.dispatch.wsHeartbeatMs }));
}
