import { resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { ModelTargets, Target } from '../../gateway/index.js';
import { FeatureExtractor } from './feature-extractor.js';
import { ensureGloveModel } from './glove-model-builder.js';
import { LocalEmbeddingTarget } from './local-embedding-target.js';

/**
 * The in-process embedding model as a router source (app.ts passes it in `modelTargets`): its
 * name is served by a LocalEmbeddingTarget and listed on /v1/models. The model loads on first use
 * (generating the GloVe folder first when no `path` is configured); a failed load is retried on
 * the next call.
 */
export class LocalEmbeddingModels implements ModelTargets {
  readonly name: string;
  private readonly target: Target | undefined;
  private loading: Promise<FeatureExtractor> | undefined;

  constructor(
    private readonly config: Config['rag']['embedding']['local'],
    /** Directory a relative `path` resolves against. */
    private readonly cwd = '.',
  ) {
    this.name = config.name;
    this.target = config.enabled ? new LocalEmbeddingTarget({ name: config.name, load: () => this.load() }) : undefined;
  }

  targetFor(model: string): Target | undefined {
    return model === this.name ? this.target : undefined;
  }

  listModels(): string[] {
    return this.target ? [this.name] : [];
  }

  /** Loads (once) and returns the model; tests and the bench warm it up with this. */
  load(): Promise<FeatureExtractor> {
    this.loading ??= this.open().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async open(): Promise<FeatureExtractor> {
    const folder = this.config.path !== undefined ? resolve(this.cwd, this.config.path) : (await ensureGloveModel({ cacheDir: this.config.cacheDir, vocabularySize: this.config.vocabularySize }));
    return FeatureExtractor.load(folder);
  }
}
