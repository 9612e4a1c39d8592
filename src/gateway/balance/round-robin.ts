import { availableFirst, type BalancePolicy } from './balance-policy.js';
import type { UpstreamState } from '../upstream-state.js';

/**
 * Seed 001 `round_robin` ordered by least-recent success, which sends bursts to one upstream; a
 * rotating cursor gives the even spread the name promises.
 */
function rotate(candidates: readonly UpstreamState[], cursor: number): UpstreamState[] {
  const sorted = [...candidates].sort((a, b) => a.order - b.order);
  if (sorted.length === 0) return sorted;
  const start = cursor % sorted.length;
  return [...sorted.slice(start), ...sorted.slice(0, start)];
}

export function createRoundRobinPolicy(): BalancePolicy {
  let cursor = 0;
  return { name: 'round_robin', order: (candidates) => rotate(candidates, cursor++) };
}

export function createRoundRobinAvailablePolicy(): BalancePolicy {
  let cursor = 0;
  return { name: 'round_robin_available', order: (candidates) => availableFirst(rotate(candidates, cursor++)) };
}
