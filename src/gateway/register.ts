import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Store } from '../db/connect.js';
import { UpstreamsRepository } from './admin/upstreams-repository.js';
import { registerAdminRoutes } from './admin/routes.js';
import { createPolicy } from './balance/index.js';
import { RetryBudget } from './failover.js';
import type { Gateway } from './gateway.js';
import { InProcessGateway } from './gateway-service.js';
import { GatewayKeys } from './keys/gateway-keys.js';
import { ModelCatalog } from './model-catalog.js';
import { installDrain } from './drain.js';
import { LiveExchanges } from './live-exchanges.js';
import { InFlightLimiter } from './proxy.js';
import { openBackgroundWriter } from './records/background-writer.js';
import { createProxyLane, type Lane } from './proxy-lane.js';
import { InstanceLease } from './records/instance-lease.js';
import { UsageRecorder } from './records/recorder.js';
import { RecordsRepository } from './records/records-repository.js';
import { Router, type ModelTargets } from './router.js';
import { registerProxyRoutes } from './routes.js';
import { UpstreamPool } from './upstream-pool.js';

/** Other instances' admin changes are picked up this often. */
const POOL_RELOAD_MS = 15_000;

export interface GatewayServiceOptions {
  readonly config: Config;
  readonly store: Store;
  readonly log: FastifyBaseLogger;
  /** Models served outside the upstream pool (worker fleet, in-process models), in priority order. */
  readonly modelTargets?: readonly ModelTargets[] | undefined;
}

/** Everything the gateway owns, built once at start. */
export interface GatewayService {
  readonly gateway: Gateway;
  readonly keys: GatewayKeys;
  readonly pool: UpstreamPool;
  readonly recorder: UsageRecorder;
  readonly router: Router;
  readonly catalog: ModelCatalog;
  readonly budget: RetryBudget;
  readonly limiter: InFlightLimiter;
  readonly live: LiveExchanges;
  readonly lease: InstanceLease;
  readonly upstreams: UpstreamsRepository;
  readonly records: RecordsRepository;
  /** Set when a gateway key was generated at this start; print it once. */
  readonly generatedKey: string | undefined;
  close(): Promise<void>;
}

export async function createGatewayService(options: GatewayServiceOptions): Promise<GatewayService> {
  const { config, store, log } = options;
  const writer = openBackgroundWriter(store, { storeResponse: config.gateway.records.storeResponse });
  const upstreams = new UpstreamsRepository(store.db);
  // Reads for /admin; the recorder writes through writer.records.
  const records = new RecordsRepository(store.db);
  // Counters are written in the background, so through the connection that never blocks on a lock.
  // The message only: a URL error carries the endpoint itself, and a hand-edited one may hold a password.
  const onUnusable = (targetId: string, error: unknown) => log.warn({ target: targetId, reason: error instanceof Error ? error.message : String(error) }, 'stored upstream cannot be used; skipped');
  const pool = new UpstreamPool(config.gateway, new UpstreamsRepository(writer.db), onUnusable);
  await pool.reload();
  const { keys, generatedKey } = await GatewayKeys.open(store.db, config.gateway.authorization ?? []);
  const lease = new InstanceLease(writer.db, { heartbeatMs: config.gateway.records.heartbeatMs, log });
  await lease.start();
  await writer.ready();
  const recorder = new UsageRecorder(writer.records, config.gateway.records, { log, instanceId: lease.id, onFlush: () => pool.flushCounters() });
  const router = new Router({ pool, policy: createPolicy(config.gateway.policy), aliases: config.gateway.modelAliases, modelTargets: options.modelTargets ?? [] });
  const catalog = new ModelCatalog(pool, { aliases: config.gateway.modelAliases, modelTargets: options.modelTargets ?? [], keyFor: (id) => pool.keyFor(id) });
  const budget = new RetryBudget();
  const limiter = new InFlightLimiter(config.server.maxInFlight);
  const live = new LiveExchanges();
  const gateway = new InProcessGateway({ config: config.gateway, router, observer: pool, budget, recorder, log, live }, catalog);
  const reloadTimer = setInterval(() => {
    pool.reload().catch((error: unknown) => log.warn({ err: error }, 'upstream reload failed'));
  }, POOL_RELOAD_MS);
  reloadTimer.unref();
  return {
    gateway, keys, pool, recorder, router, catalog, budget, limiter, live, lease, upstreams, records, generatedKey,
    async close() {
      clearInterval(reloadTimer);
      live.endAll('shutdown');
      await recorder.close();
      await lease.stop();
      await writer.close();
      await pool.close();
    },
  };
}

/** Registers /v1, /api/v1, /admin and /health; returns the raw lane for proxied /v1 requests (proxy-lane.ts). */
export async function registerGateway(app: FastifyInstance, deps: { config: Config; service: GatewayService }): Promise<Lane> {
  const { config, service } = deps;
  app.decorateRequest('principal', undefined);
  installDrain(app, { config, live: service.live });
  app.get('/health', async () => ({ status: 'ok' }));
  const proxyDeps = {
      config: config.gateway,
      router: service.router,
      observer: service.pool,
      budget: service.budget,
      recorder: service.recorder,
      live: service.live,
      keys: service.keys,
      catalog: service.catalog,
      limiter: service.limiter,
      noauth: config.gateway.noauth,
      bodyLimitBytes: config.server.proxyBodyLimitBytes,
  };
  // Each surface is its own encapsulated plugin with its own prefix, parser and error renderer.
  for (const prefix of ['/v1', '/api/v1']) {
    await app.register((scope) => registerProxyRoutes(scope, { ...proxyDeps, log: scope.log }), { prefix });
  }
  await app.register(
    (scope) => registerAdminRoutes(scope, { keys: service.keys, upstreams: service.upstreams, records: service.records, pool: service.pool, runtime: () => runtimeFigures(service) }),
    { prefix: '/admin' },
  );
  return createProxyLane({ ...proxyDeps, log: app.log });
}

/** Figures for /admin/debug/runtime: what a soak run samples to prove memory stays flat (R6). */
function runtimeFigures(service: GatewayService): Record<string, number> {
  return { exchangesInFlight: service.live.size, requestsInFlight: service.limiter.current, recordsQueued: service.recorder.pending, recordMarkers: service.recorder.inFlight };
}
