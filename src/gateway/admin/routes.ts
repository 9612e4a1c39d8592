import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { SwitchboardError, publicMessage, toSwitchboardError } from '../../platform/errors.js';
import { authenticateGatewayKey } from '../keys/authenticate.js';
import type { GatewayKeys } from '../keys/gateway-keys.js';
import type { RecordsRepository } from '../records/records-repository.js';
import type { UpstreamPool } from '../upstream-pool.js';
import { recordView, upstreamView } from './admin-views.js';
import { endpointProblem, isHeaderSafe } from './upstream-fields.js';
import type { NewUpstream, UpstreamsRepository } from './upstreams-repository.js';

export interface AdminDeps {
  readonly keys: GatewayKeys;
  readonly upstreams: UpstreamsRepository;
  readonly records: RecordsRepository;
  readonly pool: UpstreamPool;
  /** Gateway figures (in-flight, queued records) for /admin/debug/runtime. */
  readonly runtime: () => Readonly<Record<string, number>>;
}

/** Seed 001 returns the last 100 records. */
const RECORDS_PAGE = 100;

/** Seed 001 binds JSON keys case-insensitively (`sk`, `SK`, `Sk` all work). */
function readUpstreamBody(body: unknown): NewUpstream {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SwitchboardError('bad_request', "invalid JSON body\ncan't parse OPENAI_UPSTREAM object");
  }
  const fields = new Map<string, unknown>(Object.entries(body as Record<string, unknown>).map(([key, value]) => [key.toLowerCase(), value]));
  const text = (name: string): string | undefined => {
    const value = fields.get(name);
    if (value !== undefined && typeof value !== 'string') throw new SwitchboardError('bad_request', `field ${name} must be a string\ncan't parse OPENAI_UPSTREAM object`);
    return value;
  };
  const sk = text('sk') ?? '';
  const endpoint = text('endpoint') ?? '';
  if (!sk || !endpoint) throw new SwitchboardError('forbidden', "can't create new OPENAI_UPSTREAM with empty sk or endpoint");
  // It goes out as `Authorization: Bearer <sk>`: a control character there fails every call (and
  // PostgreSQL refuses NUL in text, which was a 500 here).
  if (!isHeaderSafe(sk)) throw new SwitchboardError('bad_request', 'SK must not contain control characters');
  const problem = endpointProblem(endpoint);
  if (problem) throw new SwitchboardError('bad_request', problem);
  const models = fields.get('models');
  const weight = fields.get('weight');
  return {
    sk,
    endpoint,
    name: text('name'),
    profile: text('profile'),
    weight: typeof weight === 'number' && Number.isInteger(weight) && weight > 0 ? weight : undefined,
    models: Array.isArray(models) ? models.filter((model): model is string => typeof model === 'string') : undefined,
  };
}

/** Go's `int` on 64-bit builds, the range strconv.Atoi accepts. */
const GO_INT_MIN = -(2n ** 63n);
const GO_INT_MAX = 2n ** 63n - 1n;

/**
 * Seed 001 answers an id strconv.Atoi refuses with 502 and Go's text. An id Go accepts but past
 * 2^53 is undefined: no row can have it, and as a JS number it would round onto another id (or,
 * on PostgreSQL, past bigint into a 500).
 */
function readId(raw: string): number | undefined {
  const atoi = (reason: string) => new SwitchboardError('upstream_error', `strconv.Atoi: parsing ${JSON.stringify(raw)}: ${reason}`, { expose: true });
  if (!/^[+-]?\d+$/.test(raw)) throw atoi('invalid syntax');
  const id = BigInt(raw);
  if (id < GO_INT_MIN || id > GO_INT_MAX) throw atoi('value out of range');
  return Number.isSafeInteger(Number(id)) ? Number(id) : undefined;
}

function isUniqueViolation(error: unknown): boolean {
  const text = `${(error as Error).message} ${(error as { code?: string }).code ?? ''}`;
  return /UNIQUE|unique|23505/.test(text);
}

/** /admin/*: seed 001's admin API, always behind the gateway key (even with -noauth). */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  app.setErrorHandler(async (rawError, request, reply) => {
    const error = toSwitchboardError(rawError);
    if (error.status >= 500 && !error.expose) request.log.error({ err: rawError }, 'admin request failed');
    // An exposed 5xx (a store that is down, say) gets a line too, without the driver's error.
    else if (error.status >= 500) request.log.warn({ code: error.code }, 'admin request failed');
    if (error.headers) void reply.headers(error.headers);
    const message = error.code === 'invalid_json' ? `${error.message}\ncan't parse OPENAI_UPSTREAM object` : publicMessage(error);
    await reply.code(error.status).send({ error: message });
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: '404 page not found' }));
  // The seed (gin's BindJSON) reads any body as JSON whatever its content type (`curl -d` sends a
  // form type), and accepts an empty one (POST /admin/login, DELETE).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else void parseJson(request, body.toString(), done);
  });
  app.addHook('onRequest', async (request) => {
    if (request.method === 'OPTIONS') return;
    request.principal = await authenticateGatewayKey(deps.keys, request.headers.authorization);
  });

  app.post('/login', async () => ({ message: 'success' }));
  app.get('/upstreams', async () => (await deps.upstreams.listLive()).map(upstreamView));
  app.post('/upstreams', async (request) => {
    const upstream = readUpstreamBody(request.body);
    try {
      await deps.upstreams.create(upstream);
    } catch (error) {
      if (isUniqueViolation(error)) throw new SwitchboardError('forbidden', 'UNIQUE constraint failed: openai_upstreams.sk, openai_upstreams.endpoint');
      throw error;
    }
    await deps.pool.reload();
    return { message: 'success' };
  });
  app.put<{ Params: { id: string } }>('/upstreams/:id', async (request) => {
    const upstream = readUpstreamBody(request.body);
    const id = readId(request.params.id);
    let updated = false;
    try {
      if (id !== undefined) updated = await deps.upstreams.update(id, upstream);
    } catch (error) {
      if (isUniqueViolation(error)) throw new SwitchboardError('forbidden', 'UNIQUE constraint failed: openai_upstreams.sk, openai_upstreams.endpoint');
      throw error;
    }
    if (!updated) throw new SwitchboardError('not_found', 'upstream not found');
    await deps.pool.reload();
    return { message: 'success' };
  });
  app.delete<{ Params: { id: string } }>('/upstreams/:id', async (request) => {
    const id = readId(request.params.id);
    if (id !== undefined) await deps.upstreams.softDelete(id);
    await deps.pool.reload();
    return { message: 'success' };
  });
  app.get('/request_records', async () => (await deps.records.latest(RECORDS_PAGE)).map(recordView));
  // Soak runs sample this (RELIABILITY R6). `?gc=1` collects first, only in a process started with
  // --expose-gc (bench runs); otherwise it is ignored.
  app.get<{ Querystring: { gc?: string } }>('/debug/runtime', async (request) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    const collected = request.query.gc === '1' && gc !== undefined;
    if (collected) gc();
    const heap = getHeapStatistics();
    return { collected, memory: process.memoryUsage(), heap: { used: heap.used_heap_size, total: heap.total_heap_size, limit: heap.heap_size_limit }, gateway: deps.runtime() };
  });
}
