import type { ModelTargets, Target } from '../gateway/index.js';

/** `*` in dispatch.models: every model goes to the fleet (seed 000 had no other kind of target). */
export const ALL_MODELS = '*';
/** Targets kept for `*`; beyond this they are made per request (they hold no state). */
const MAX_CACHED_TARGETS = 1_000;

/** The models the worker fleet serves (dispatch.models / WORKER_MODELS), for the gateway's router. */
export class FleetModels implements ModelTargets {
  private readonly targets = new Map<string, Target>();
  private readonly names: readonly string[];
  private readonly servesAll: boolean;

  constructor(
    models: readonly string[],
    private readonly create: (model: string) => Target,
  ) {
    this.names = models.filter((model) => model !== ALL_MODELS);
    this.servesAll = models.includes(ALL_MODELS);
    for (const model of this.names) this.targets.set(model, create(model));
  }

  targetFor(model: string): Target | undefined {
    const known = this.targets.get(model);
    if (known || !this.servesAll) return known;
    const target = this.create(model);
    if (this.targets.size < this.names.length + MAX_CACHED_TARGETS) this.targets.set(model, target);
    return target;
  }

  listModels(): string[] {
    return [...this.names];
  }
}
