import { runHttpLoad } from './http-load.js';
import { CHAT_BODY, type LoadTarget } from './proxy-comparison.js';

export interface BurstSettings {
  /** Bursts per target. */
  readonly count: number;
  readonly seconds: number;
  readonly connections: number;
  readonly maxRequests: number;
}

/** One target's short closed-loop burst. */
export interface Burst {
  readonly p50: number;
  readonly requestsPerSecond: number;
  /** Proxy CPU (user + system) per request, µs; undefined for direct. */
  readonly cpuMicrosPerRequest: number | undefined;
  /** The proxy's main thread (its event loop) alone, µs per request: what queues requests under load. */
  readonly mainThreadMicrosPerRequest: number | undefined;
  readonly failures: number;
}

/** The targets' bursts of one triplet, by label: run back to back, so they share the host's state. */
export type BurstSet = ReadonlyMap<string, Burst>;

async function burst(target: LoadTarget, settings: BurstSettings): Promise<Burst> {
  const cpuBefore = target.server?.cpuSeconds();
  const mainBefore = target.server?.mainThreadCpuSeconds();
  const result = await runHttpLoad({
    url: `${target.origin}${target.path}`,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: CHAT_BODY,
    connections: settings.connections,
    durationSeconds: settings.seconds,
    maxRequests: settings.maxRequests,
  });
  const cpuAfter = target.server?.cpuSeconds();
  const mainAfter = target.server?.mainThreadCpuSeconds();
  const perRequest = (before: number | undefined, after: number | undefined) =>
    before === undefined || after === undefined || result.requests === 0 ? undefined : ((after - before) * 1e6) / result.requests;
  return {
    p50: result.latency.p50,
    requestsPerSecond: result.requestsPerSecond,
    cpuMicrosPerRequest: perRequest(cpuBefore, cpuAfter),
    mainThreadMicrosPerRequest: perRequest(mainBefore, mainAfter),
    failures: result.errors + result.non2xx,
  };
}

/**
 * Non-stream bursts of a few seconds, one per target in turn, repeated. The host's speed drifts
 * within minutes (BENCHMARKS.md, gateway section), and a round measures each target for ~30 s, so
 * a round's targets may see different machines. A triplet of short bursts runs in ~10 s: its
 * ratio compares the proxies under (nearly) the same host state, and many triplets give a median
 * with a confidence interval. The order turns every triplet; one unmeasured burst each first.
 */
export async function runPairedBursts(targets: readonly LoadTarget[], settings: BurstSettings, log: (line: string) => void): Promise<BurstSet[]> {
  for (const target of targets) await burst(target, { ...settings, seconds: 1 });
  const sets: BurstSet[] = [];
  for (let index = 0; index < settings.count; index++) {
    const set = new Map<string, Burst>();
    for (let turn = 0; turn < targets.length; turn++) {
      const target = targets[(index + turn) % targets.length]!;
      set.set(target.label, await burst(target, settings));
    }
    sets.push(set);
    log(`   burst ${index + 1}/${settings.count}: ${[...set].map(([label, result]) => `${label} p50 ${result.p50.toFixed(2)} ms`).join(', ')}`);
  }
  return sets;
}
