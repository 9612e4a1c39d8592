import type { UpstreamHealth } from './health.js';

/** What the router knows about one upstream at request time. */
export interface UpstreamState {
  /** Database id, or a negative number for upstreams declared in config.yaml. */
  readonly id: number;
  readonly targetId: string;
  /** Declared order: config.yaml upstreams first as written, then database ones by id. */
  readonly order: number;
  readonly endpoint: string;
  readonly weight: number;
  /** Empty = serves any model. */
  readonly models: readonly string[];
  readonly health: UpstreamHealth;
  /** Lifetime counters (seed 001), loaded from the database and advanced in memory. */
  successCount: number;
  failedCount: number;
  lastSuccessAt: number;
  inFlight: number;
}

export function servesModel(upstream: UpstreamState, model: string | undefined): boolean {
  return upstream.models.length === 0 || (model !== undefined && upstream.models.includes(model));
}
