import type { BalancePolicy, PolicyName } from './balance-policy.js';
import { leastInFlightPolicy } from './least-in-flight.js';
import { mainPolicy } from './main.js';
import { randomAvailablePolicy, randomPolicy } from './random.js';
import { createRoundRobinAvailablePolicy, createRoundRobinPolicy } from './round-robin.js';
import { createWeightedPolicy } from './weighted.js';

export type { BalancePolicy, PolicyName } from './balance-policy.js';

export function createPolicy(name: PolicyName): BalancePolicy {
  switch (name) {
    case 'main':
      return mainPolicy;
    case 'random':
      return randomPolicy;
    case 'random_available':
      return randomAvailablePolicy;
    case 'round_robin':
      return createRoundRobinPolicy();
    case 'round_robin_available':
      return createRoundRobinAvailablePolicy();
    case 'weighted':
      return createWeightedPolicy();
    case 'least_in_flight':
      return leastInFlightPolicy;
  }
}
