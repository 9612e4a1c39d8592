import { request } from 'undici';
import type { ModelTargets } from './router.js';
import type { UpstreamPool } from './upstream-pool.js';

/** How long a fetched upstream model list is reused. */
const CATALOG_TTL_MS = 60_000;
/** An upstream that does not list its models quickly is left out of /v1/models, not waited on. */
const FETCH_TIMEOUT_MS = 3_000;

interface CachedList {
  readonly models: string[];
  readonly fetchedAt: number;
}

/**
 * What /v1/models lists: models declared on upstreams, aliases, worker-fleet models, and, for
 * upstreams that serve "any model", whatever their own /models says (cached).
 */
export class ModelCatalog {
  private readonly cache = new Map<string, CachedList>();

  constructor(
    private readonly pool: UpstreamPool,
    private readonly options: { aliases: Readonly<Record<string, string>>; modelTargets: readonly ModelTargets[]; keyFor: (targetId: string) => string },
  ) {}

  async list(): Promise<string[]> {
    const names = new Set<string>(Object.keys(this.options.aliases));
    for (const source of this.options.modelTargets) source.listModels().forEach((model) => names.add(model));
    const open = [];
    for (const upstream of this.pool.upstreams) {
      if (upstream.models.length > 0) upstream.models.forEach((model) => names.add(model));
      else open.push(upstream);
    }
    const fetched = await Promise.all(open.map((upstream) => this.fetchModels(upstream.targetId, upstream.endpoint)));
    for (const list of fetched) list.forEach((model) => names.add(model));
    return [...names].sort();
  }

  private async fetchModels(targetId: string, endpoint: string): Promise<string[]> {
    const cached = this.cache.get(targetId);
    if (cached && Date.now() - cached.fetchedAt < CATALOG_TTL_MS) return cached.models;
    const base = endpoint.replace(/\/+$/, '');
    const url = new URL(base).pathname.replace(/\/+$/, '') === '' ? `${base}/v1/models` : `${base}/models`;
    let models: string[] = [];
    try {
      const key = this.options.keyFor(targetId);
      const response = await request(url, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      const body = (await response.body.json()) as { data?: { id?: unknown }[] };
      if (response.statusCode === 200 && Array.isArray(body.data)) {
        models = body.data.map((item) => item.id).filter((id): id is string => typeof id === 'string');
      }
    } catch {
      models = cached?.models ?? [];
    }
    this.cache.set(targetId, { models, fetchedAt: Date.now() });
    return models;
  }
}
