import type { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { openStore, type Store } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { createGatewayService, registerGateway } from './gateway/register.js';
import { buildLoggerOptions } from './platform/logger.js';
import { installHttpBasics } from './platform/http-server.js';

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
  const server = Fastify({
    logger: buildLoggerOptions({ level: config.log.level, pretty: config.log.pretty, destination: options.logStream, isTTY: options.isTTY ?? false }),
    // One structured line per request comes from our own onResponse hook (platform/http-server.ts).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: 'x-request-id',
    bodyLimit: config.server.bodyLimitBytes,
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  server.server.headersTimeout = config.server.headersTimeoutMs;
  installHttpBasics(server);

  const store = await openStore(config.database, cwd);
  const closers: (() => Promise<void>)[] = [() => store.close()];
  let generatedKey: string | undefined;
  try {
    await migrateToLatest(store.db);
    const gateway = await createGatewayService({ config, store, log: server.log });
    closers.unshift(() => gateway.close());
    generatedKey = gateway.generatedKey;
    await registerGateway(server, { config, service: gateway });
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
