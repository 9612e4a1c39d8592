import type { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { openStore, type Store } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { createChatService, registerChat } from './chat/index.js';
import { createGatewayService, registerGateway } from './gateway/register.js';
import { registerBrowser, withApiProxyUpstream } from './browser/index.js';
import { createDispatchService, registerDispatch } from './dispatch/index.js';
import { LocalEmbeddingModels, RagService, registerRag } from './rag/index.js';
import { buildLoggerOptions } from './platform/logger.js';
import { installHttpBasics, serverWithLane } from './platform/http-server.js';
import type { Lane } from './gateway/proxy-lane.js';
import { lazyChildLogger } from './platform/lazy-child-logger.js';
import { newRequestId } from './platform/request-id.js';

export interface BuildAppOptions {
  readonly config: Config;
  /** Directory relative paths (SQLite file, uploads) resolve against. @default process cwd */
  readonly cwd?: string;
  /** Log destination; tests capture it to grep for secrets. */
  readonly logStream?: Writable;
  readonly isTTY?: boolean;
}

/** A running Switchboard: the Fastify server, its store, and an ordered shutdown. */
export interface SwitchboardApp {
  readonly server: FastifyInstance;
  readonly store: Store;
  readonly config: Config;
  /** A gateway key generated at this start (none was configured); shown once by main.ts. */
  readonly generatedKey: string | undefined;
  /** Stops accepting, lets in-flight requests finish, flushes records, closes brokers and the store. */
  close(): Promise<void>;
}

/** The only wiring file: builds every capability from the one Config and registers its routes. */
export async function buildApp(options: BuildAppOptions): Promise<SwitchboardApp> {
  const { config } = options;
  const cwd = options.cwd ?? '.';
  // Proxied /v1 requests take a raw lane ahead of Fastify (gateway/proxy-lane.ts), set once the gateway is registered.
  let proxyLane: Lane | undefined;
  const server = Fastify({
    logger: buildLoggerOptions({ level: config.log.level, pretty: config.log.pretty, destination: options.logStream, isTTY: options.isTTY ?? false }),
    // One structured line per request comes from our own onResponse hook (platform/http-server.ts).
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    genReqId: () => newRequestId(),
    requestIdHeader: 'x-request-id',
    bodyLimit: config.server.bodyLimitBytes,
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    // The gateway answers requests that arrive while draining itself (503 in each surface's shape).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    serverFactory: (handler, settings) => serverWithLane(handler, settings, (request, response) => proxyLane?.(request, response) === true),
  });
  server.server.headersTimeout = config.server.headersTimeoutMs;
  installHttpBasics(server);

  const store = await openStore(config.database, cwd);
  const closers: (() => Promise<void>)[] = [() => store.close()];
  let generatedKey: string | undefined;
  try {
    await migrateToLatest(store.db);
    // Seed 003's API_PROXY is one more upstream of the shared router (browser/api-proxy-upstream.ts).
    const gatewayConfig = withApiProxyUpstream(config);
    // The worker fleet's models are one more kind of target behind the same router (seed 000).
    const dispatch = createDispatchService({ config, log: server.log, addresses: () => server.addresses().filter((address) => typeof address !== 'string') });
    closers.unshift(() => dispatch.close());
    // The in-process embedding model is served behind the same router (rag/embeddings).
    const localEmbeddings = new LocalEmbeddingModels(config.rag.embedding.local, cwd);
    const gateway = await createGatewayService({ config: gatewayConfig, store, log: server.log, modelTargets: [dispatch.modelTargets, localEmbeddings] });
    closers.unshift(() => gateway.close());
    generatedKey = gateway.generatedKey;
    proxyLane = await registerGateway(server, { config: gatewayConfig, service: gateway });
    await registerDispatch(server, { config, service: dispatch });
    const chat = await createChatService({ config, store, gateway: gateway.gateway, log: server.log });
    closers.unshift(() => chat.close());
    await registerChat(server, { service: chat });
    const rag = await RagService.create({ config, store, gateway: gateway.gateway, localModels: localEmbeddings, log: server.log });
    closers.unshift(() => rag.close());
    await registerRag(server, { service: rag, chat });
    await registerBrowser(server, { config, gateway: gateway.gateway, conversations: chat.conversations, log: server.log });
    await server.ready();
  } catch (error) {
    await closeAll(closers);
    throw error;
  }

  return {
    server,
    store,
    config,
    generatedKey,
    async close() {
      await server.close();
      await closeAll(closers);
    },
  };
}

async function closeAll(closers: readonly (() => Promise<void>)[]): Promise<void> {
  for (const close of closers) await close();
}
