import type { Config } from '../config/schema.js';
import type { UpstreamsRepository } from '../gateway/index.js';

/**
 * SEEDS-SPEC §3.7: the seed's model names. Each starts with the upstream profile that serves it
 * (the profile maps `<profile>-embedding-3` to the vendor's `embedding-3`).
 */
const SEED_MODELS = ['zhipu-embedding-3', 'zhipu-embedding-2'] as const;
const profileOf = (model: string) => model.slice(0, model.indexOf('-'));

/**
 * What /api/rag/models lists and what a KB may be created with: the local model, models named in
 * `rag.embedding.models`, and the seed's names when an upstream with their profile is configured
 * (in config.yaml or through /admin).
 */
export class EmbeddingModels {
  constructor(
    private readonly deps: { config: Config; localModel: string | undefined; upstreams: UpstreamsRepository },
  ) {}

  get defaultModel(): string | undefined {
    return this.deps.config.rag.embedding.defaultModel ?? this.deps.localModel ?? this.deps.config.rag.embedding.models[0];
  }

  async list(): Promise<string[]> {
    const { config, localModel } = this.deps;
    const profiles = new Set(config.gateway.upstreams.map((upstream) => upstream.profile));
    for (const row of await this.deps.upstreams.listLive()) profiles.add(row.profile);
    const seed = SEED_MODELS.filter((model) => profiles.has(profileOf(model)));
    return [...new Set([...(localModel === undefined ? [] : [localModel]), ...config.rag.embedding.models, ...seed])];
  }
}
