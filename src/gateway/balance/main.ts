import type { BalancePolicy } from './balance-policy.js';

/** Seed 001 `main`: fewest failures, then most successes, then declared order (seed: lowest id). */
export const mainPolicy: BalancePolicy = {
  name: 'main',
  order: (candidates) =>
    [...candidates].sort((a, b) => a.failedCount - b.failedCount || b.successCount - a.successCount || a.order - b.order),
};
