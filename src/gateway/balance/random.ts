import { availableFirst, shuffled, type BalancePolicy } from './balance-policy.js';

/** Seed 001 `random`: any order. */
export const randomPolicy: BalancePolicy = { name: 'random', order: (candidates) => shuffled(candidates) };

/** Seed 001 `random_available`: random among upstreams with no current failure streak, the rest after. */
export const randomAvailablePolicy: BalancePolicy = {
  name: 'random_available',
  order: (candidates) => availableFirst(shuffled(candidates)),
};
