import { describe, expect, it } from 'vitest';
import { createPolicy } from '../../src/gateway/balance/index.js';
import { createWeightedPolicy } from '../../src/gateway/balance/weighted.js';
import { UpstreamHealth } from '../../src/gateway/health.js';
import type { UpstreamState } from '../../src/gateway/upstream-state.js';

function upstream(order: number, fields: Partial<UpstreamState> = {}): UpstreamState {
  return {
    id: order + 1,
    targetId: `upstream:${order + 1}`,
    order,
    endpoint: 'http://x',
    weight: 1,
    models: [],
    health: new UpstreamHealth({ failureThreshold: 2, baseEjectionMs: 100, maxEjectionMs: 1_000 }),
    successCount: 0,
    failedCount: 0,
    lastSuccessAt: 0,
    inFlight: 0,
    ...fields,
  };
}

const ids = (list: UpstreamState[]) => list.map((item) => item.id);

describe('balance policies', () => {
  it('main: fewest failures, then most successes, then declared order (seed 001)', () => {
    const list = [upstream(0, { failedCount: 2 }), upstream(1, { successCount: 5 }), upstream(2, { successCount: 9 }), upstream(3)];
    expect(ids(createPolicy('main').order(list))).toEqual([3, 2, 4, 1]);
  });

  it('round_robin rotates the first choice evenly', () => {
    const policy = createPolicy('round_robin');
    const list = [upstream(0), upstream(1), upstream(2)];
    const firsts = Array.from({ length: 6 }, () => policy.order(list)[0]!.id);
    expect(firsts).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('*_available policies put upstreams with a failure streak last', () => {
    const failing = upstream(0);
    failing.health.onFailure();
    const list = [failing, upstream(1), upstream(2)];
    for (const name of ['random_available', 'round_robin_available'] as const) {
      const policy = createPolicy(name);
      for (let index = 0; index < 5; index++) expect(policy.order(list).at(-1)!.id).toBe(1);
    }
  });

  it('weighted picks in proportion to weight', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647);
    const policy = createWeightedPolicy(random);
    const list = [upstream(0, { weight: 1 }), upstream(1, { weight: 3 })];
    const counts = [0, 0];
    for (let index = 0; index < 4_000; index++) counts[policy.order(list)[0]!.id - 1]!++;
    expect(counts[1]! / counts[0]!).toBeGreaterThan(2.5);
    expect(counts[1]! / counts[0]!).toBeLessThan(3.5);
  });

  it('least_in_flight prefers the idlest upstream', () => {
    const list = [upstream(0, { inFlight: 5 }), upstream(1, { inFlight: 0 }), upstream(2, { inFlight: 2 })];
    expect(ids(createPolicy('least_in_flight').order(list))).toEqual([2, 3, 1]);
  });
});

describe('UpstreamHealth', () => {
  it('ejects after the threshold, doubles the ejection, admits one probe, recovers on success', () => {
    let now = 0;
    const health = new UpstreamHealth({ failureThreshold: 2, baseEjectionMs: 100, maxEjectionMs: 150 }, () => now);
    health.onFailure();
    expect(health.isAvailable()).toBe(true);
    health.onFailure();
    expect(health.isAvailable()).toBe(false);
    now = 100;
    expect(health.isAvailable()).toBe(true);
    health.onAttempt();
    expect(health.isAvailable()).toBe(false);
    health.onFailure();
    now = 240;
    expect(health.isAvailable()).toBe(false);
    now = 250;
    expect(health.isAvailable()).toBe(true);
    health.onAttempt();
    health.onSuccess();
    expect(health.isAvailable()).toBe(true);
    expect(health.failureStreak).toBe(0);
  });

  it('honours Retry-After without an ejection', () => {
    let now = 0;
    const health = new UpstreamHealth({ failureThreshold: 5, baseEjectionMs: 100, maxEjectionMs: 1_000 }, () => now);
    health.onFailure(2_000);
    expect(health.isAvailable()).toBe(false);
    now = 2_000;
    expect(health.isAvailable()).toBe(true);
  });
});
