import type { BalancePolicy } from './balance/index.js';
import type { Target } from './target.js';
import type { UpstreamPool } from './upstream-pool.js';
import type { UpstreamState } from './upstream-state.js';

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

  /** Whether any upstream is configured at all (a plan may still be empty: none serves the model). */
  hasUpstreams(): boolean {
    return this.options.pool.size > 0;
  }

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
    const ordered = policy.order(pool.upstreamsServing(model));
    // One pass, few arrays: this runs for every request (BENCHMARKS.md, gateway section).
    const targets: Target[] = [];
    let isAnyAvailable = false;
    let firstResting: UpstreamState | undefined;
    for (const upstream of ordered) {
      if (!upstream.health.isAvailable()) {
        firstResting ??= upstream;
        continue;
      }
      isAnyAvailable = true;
      const target = pool.targetFor(upstream);
      if (target) targets.push(target);
    }
    const fallback = !isAnyAvailable && firstResting ? pool.targetFor(firstResting) : undefined;
    if (fallback) targets.push(fallback);
    return { model, targets };
  }
}
