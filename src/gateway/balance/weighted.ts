import type { BalancePolicy } from './balance-policy.js';
import type { UpstreamState } from '../upstream-state.js';

/** Weighted random without replacement: each pick is proportional to the remaining weights. */
export function createWeightedPolicy(random: () => number = Math.random): BalancePolicy {
  return {
    name: 'weighted',
    order(candidates) {
      const pool = [...candidates];
      const ordered: UpstreamState[] = [];
      while (pool.length > 0) {
        const total = pool.reduce((sum, upstream) => sum + upstream.weight, 0);
        let ticket = random() * total;
        let index = pool.findIndex((upstream) => (ticket -= upstream.weight) < 0);
        if (index === -1) index = pool.length - 1;
        ordered.push(...pool.splice(index, 1));
      }
      return ordered;
    },
  };
}
