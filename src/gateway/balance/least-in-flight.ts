import { shuffled, type BalancePolicy } from './balance-policy.js';

/** Fewest requests in flight first; ties broken at random so equal upstreams share load. */
export const leastInFlightPolicy: BalancePolicy = {
  name: 'least_in_flight',
  order: (candidates) => shuffled(candidates).sort((a, b) => a.inFlight - b.inFlight),
};
