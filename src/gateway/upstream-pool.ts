import type { Config } from '../config/schema.js';
import type { UpstreamCounterDelta, UpstreamsRepository } from './admin/upstreams-repository.js';
import type { AttemptObserver, AttemptVerdict } from './failover.js';
import { UpstreamHealth } from './health.js';
import type { Target } from './target.js';
import { guessProfile, profileFor } from './upstream-profiles.js';
import { servesModel, type UpstreamState } from './upstream-state.js';
import { UpstreamTarget } from './upstream-target.js';

interface PoolEntry {
  readonly state: UpstreamState;
  readonly target: UpstreamTarget;
  /** Identity of the settings the target was built from; a change rebuilds it. */
  readonly signature: string;
}

interface UpstreamSpec {
  readonly id: number;
  readonly targetId: string;
  readonly order: number;
  readonly endpoint: string;
  readonly sk: string;
  readonly profile: string;
  readonly weight: number;
  readonly models: readonly string[];
  readonly successCount: number;
  readonly failedCount: number;
  readonly lastSuccessAt: number;
}

/** Database upstreams sort after every config.yaml one. */
const CONFIG_ORDER_SPAN = 1_000_000;

function parseModels(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The live set of upstreams: config.yaml ones (negative ids) plus database ones, each with its
 * health and a long-lived undici Pool. Reloaded after admin changes and periodically, keeping
 * health state and counters of upstreams that did not change.
 */
export class UpstreamPool implements AttemptObserver {
  private entries = new Map<string, PoolEntry>();
  private deltas = new Map<number, { success: number; failed: number; lastSuccessAt: number }>();
  /** Targets replaced or removed while calls may still run on them; destroyed at close(). */
  private readonly retiring = new Set<UpstreamTarget>();
  /** Signatures of database rows already reported as unusable (reported once, not every reload). */
  private readonly reportedUnusable = new Set<string>();

  constructor(
    private readonly config: Config['gateway'],
    private readonly repository: UpstreamsRepository,
    /** Told of a stored upstream that cannot be used (e.g. an endpoint edited in the database to ftp://). */
    private readonly onUnusable: (targetId: string, error: unknown) => void = () => undefined,
  ) {}

  get upstreams(): UpstreamState[] {
    return [...this.entries.values()].map((entry) => entry.state);
  }

  /** Upstreams in the pool, whatever they serve. */
  get size(): number {
    return this.entries.size;
  }

  /** The upstreams that serve `model` (all of them when it is undefined and they list no models). */
  upstreamsServing(model: string | undefined): UpstreamState[] {
    const serving: UpstreamState[] = [];
    for (const entry of this.entries.values()) if (servesModel(entry.state, model)) serving.push(entry.state);
    return serving;
  }

  targetFor(state: UpstreamState): Target | undefined {
    return this.entries.get(state.targetId)?.target;
  }

  keyFor(targetId: string): string {
    return this.entries.get(targetId)?.target.apiKey ?? '';
  }

  async reload(): Promise<void> {
    const specs: UpstreamSpec[] = this.config.upstreams.map((upstream, index) => ({
      id: -(index + 1),
      targetId: `upstream:config-${index + 1}`,
      order: index,
      endpoint: upstream.endpoint,
      sk: upstream.sk,
      profile: upstream.profile,
      weight: upstream.weight,
      models: upstream.models,
      successCount: 0,
      failedCount: 0,
      lastSuccessAt: 0,
    }));
    for (const row of await this.repository.listLive()) {
      specs.push({
        id: row.id,
        targetId: `upstream:${row.id}`,
        order: CONFIG_ORDER_SPAN + row.id,
        endpoint: row.endpoint,
        sk: row.sk,
        profile: row.profile === 'openai-compatible' ? guessProfile(row.endpoint) : row.profile,
        weight: row.weight,
        models: parseModels(row.models),
        successCount: row.success_count,
        failedCount: row.failed_count,
        lastSuccessAt: row.last_call_success_time,
      });
    }
    const next = new Map<string, PoolEntry>();
    for (const spec of specs) {
      const { targetId } = spec;
      const signature = JSON.stringify([spec.endpoint, spec.sk, spec.profile, spec.weight, spec.models]);
      const existing = this.entries.get(targetId);
      if (existing?.signature === signature) {
        next.set(targetId, existing);
        continue;
      }
      let entry: PoolEntry;
      try {
        entry = this.buildEntry(spec, targetId, signature);
      } catch (error) {
        // A row edited by hand into something undici refuses: skipped, so it neither stops the
        // start nor every later reload of the other upstreams. A config.yaml one was validated.
        if (!this.reportedUnusable.has(signature)) this.onUnusable(targetId, error);
        this.reportedUnusable.add(signature);
        continue;
      }
      next.set(targetId, entry);
    }
    for (const [targetId, entry] of this.entries) if (next.get(targetId) !== entry) this.retire(entry.target);
    this.entries = next;
  }

  /**
   * A replaced or removed upstream takes no new calls, but those running finish: an admin PUT
   * that only changed a weight used to cut every stream on that upstream mid-answer.
   */
  private retire(target: UpstreamTarget): void {
    this.retiring.add(target);
    void target.retire().finally(() => this.retiring.delete(target));
  }

  private buildEntry(spec: UpstreamSpec, targetId: string, signature: string): PoolEntry {
    const target = new UpstreamTarget({
      id: targetId,
      endpoint: spec.endpoint,
      apiKey: spec.sk,
      profile: profileFor(spec.profile),
      timeouts: this.config.timeouts,
    });
    const state: UpstreamState = {
      id: spec.id,
      targetId,
      order: spec.order,
      endpoint: spec.endpoint,
      weight: spec.weight,
      models: spec.models,
      health: new UpstreamHealth(this.config.health),
      successCount: spec.successCount,
      failedCount: spec.failedCount,
      lastSuccessAt: spec.lastSuccessAt,
      inFlight: 0,
    };
    return { state, target, signature };
  }

  onAttempt(target: Target): void {
    const state = this.entries.get(target.id)?.state;
    if (!state) return;
    state.inFlight++;
    state.health.onAttempt();
  }

  onVerdict(target: Target, verdict: AttemptVerdict | 'success' | 'released'): void {
    const state = this.entries.get(target.id)?.state;
    if (!state) return;
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (verdict === 'released') return state.health.onRelease();
    const delta = this.deltaFor(state.id);
    if (verdict === 'success') {
      state.health.onSuccess();
      state.successCount++;
      state.lastSuccessAt = Date.now();
      delta.success++;
      delta.lastSuccessAt = state.lastSuccessAt;
      return;
    }
    state.health.onFailure(verdict.retryAfterMs);
    state.failedCount++;
    delta.failed++;
  }

  private deltaFor(id: number) {
    let delta = this.deltas.get(id);
    if (!delta) this.deltas.set(id, (delta = { success: 0, failed: 0, lastSuccessAt: 0 }));
    return delta;
  }

  /** Writes counter changes of database upstreams (seed 001 success_count/failed_count). */
  async flushCounters(): Promise<void> {
    const pending: UpstreamCounterDelta[] = [];
    for (const [id, delta] of this.deltas) if (id > 0) pending.push({ id, ...delta });
    const taken = this.deltas;
    this.deltas = new Map();
    try {
      await this.repository.applyCounters(pending);
    } catch (error) {
      // Keep the counts for the next flush instead of losing them to a locked or restarting store.
      for (const [id, delta] of taken) {
        const current = this.deltaFor(id);
        current.success += delta.success;
        current.failed += delta.failed;
        current.lastSuccessAt = Math.max(current.lastSuccessAt, delta.lastSuccessAt);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    const targets = [...this.entries.values()].map((entry) => entry.target);
    await Promise.all([...targets, ...this.retiring].map((target) => target.close()));
    this.entries.clear();
    this.retiring.clear();
  }
}
