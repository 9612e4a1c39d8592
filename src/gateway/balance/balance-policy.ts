import type { policyNames } from '../../config/gateway-schema.js';
import type { UpstreamState } from '../upstream-state.js';

export type PolicyName = (typeof policyNames)[number];

/**
 * Orders the candidates for one request: the first is tried first, the rest are the failover
 * order. Candidates are already filtered by model; health filtering happens in the router.
 */
export interface BalancePolicy {
  readonly name: PolicyName;
  order(candidates: readonly UpstreamState[]): UpstreamState[];
}

/** Fisher–Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const swap = Math.floor(random() * (index + 1));
    [copy[index], copy[swap]] = [copy[swap] as T, copy[index] as T];
  }
  return copy;
}

/** Healthy first (in the given order), then the rest: "available" policies never return nothing. */
export function availableFirst(ordered: readonly UpstreamState[]): UpstreamState[] {
  const healthy = ordered.filter((upstream) => upstream.health.failureStreak === 0 && upstream.health.isAvailable());
  return [...healthy, ...ordered.filter((upstream) => !healthy.includes(upstream))];
}
