import type { BalancePolicy } from './balance/index.js';
import type { Target } from './target.js';
import type { UpstreamPool } from './upstream-pool.js';
import { servesModel } from './upstream-state.js';

/**
 * Models served by something other than upstreams — the worker fleet, an in-process model —
 * supplied by app.ts. Sources are asked in order; the first that serves a model wins.
 */
export interface ModelTargets {
  /** The target for this model, or undefined when the fleet does not serve it. */
  targetFor(model: string): Target | undefined;
  /** Model names to list on /v1/models. */
  listModels(): string[];
}

export interface RoutePlan {
  /** The model name after aliasing. */
  readonly model: string | undefined;
  /** Ordered: first is tried first. Empty when nothing serves the model. */
  readonly targets: readonly Target[];
}

export interface RouterOptions {
  readonly pool: UpstreamPool;
  readonly policy: BalancePolicy;
  readonly aliases: Readonly<Record<string, string>>;
  readonly modelTargets: readonly ModelTargets[];
}

/**
 * Decides where a request may go: worker-fleet models go to their queue; everything else to the
 * upstreams that serve the model, healthy ones in policy order first, then cooling ones, so a
 * request is never refused only because every upstream is ejected (panic mode keeps ≥ 1).
 */
export class Router {
  constructor(private readonly options: RouterOptions) {}

  resolveModel(model: string | undefined): string | undefined {
    return model === undefined ? undefined : (this.options.aliases[model] ?? model);
  }

  plan(requestedModel: string | undefined): RoutePlan {
    const model = this.resolveModel(requestedModel);
    if (model !== undefined) {
      for (const source of this.options.modelTargets) {
        const target = source.targetFor(model);
        if (target) return { model, targets: [target] };
      }
    }
    const { pool, policy } = this.options;
    const candidates = pool.upstreams.filter((upstream) => servesModel(upstream, model));
    const ordered = policy.order(candidates);
    const available = ordered.filter((upstream) => upstream.health.isAvailable());
    const resting = ordered.filter((upstream) => !available.includes(upstream));
    const targets = [...available, ...(available.length === 0 ? resting.slice(0, 1) : [])]
      .map((upstream) => pool.targetFor(upstream))
      .filter((target): target is Target => target !== undefined);
    return { model, targets };
  }
}
