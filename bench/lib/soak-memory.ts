import { readdirSync } from 'node:fs';
import { procStatusKb } from './proc.js';

/** One memory sample of the gateway process (RELIABILITY §3.4: process.memoryUsage + v8 heap). */
export interface MemorySample {
  /** Seconds since the sampler started. */
  readonly atSeconds: number;
  readonly heapUsedMiB: number;
  readonly rssMiB: number;
  readonly openFds: number;
  readonly exchangesInFlight: number;
  readonly recordsQueued: number;
}

const MIB = 1024 * 1024;

export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** Reads /admin/debug/runtime (admin key); `gc: true` collects first (the gateway runs with --expose-gc). */
export async function readRuntime(origin: string, key: string, gc = false): Promise<{ heapUsedMiB: number; rssMiB: number; collected: boolean; gateway: Record<string, number> }> {
  const response = await fetch(`${origin}/admin/debug/runtime${gc ? '?gc=1' : ''}`, { headers: { authorization: `Bearer ${key}` } });
  if (response.status !== 200) throw new Error(`/admin/debug/runtime answered ${response.status}`);
  const body = (await response.json()) as { collected: boolean; memory: { heapUsed: number; rss: number }; gateway: Record<string, number> };
  return { heapUsedMiB: body.memory.heapUsed / MIB, rssMiB: body.memory.rss / MIB, collected: body.collected, gateway: body.gateway };
}

/** Samples every `intervalMs` until stopped; a failed read is skipped, not fatal. */
export function startSampler(options: { origin: string; key: string; pid: number; intervalMs: number }): { samples: MemorySample[]; stop(): void } {
  const samples: MemorySample[] = [];
  const started = Date.now();
  const take = async () => {
    try {
      const runtime = await readRuntime(options.origin, options.key);
      samples.push({
        atSeconds: (Date.now() - started) / 1000,
        heapUsedMiB: runtime.heapUsedMiB,
        rssMiB: (procStatusKb(options.pid, 'VmRSS') ?? runtime.rssMiB * 1024) / 1024,
        openFds: openFds(options.pid),
        exchangesInFlight: runtime.gateway['exchangesInFlight'] ?? 0,
        recordsQueued: runtime.gateway['recordsQueued'] ?? 0,
      });
    } catch {
      // The gateway may be saturated for a moment; the next sample will tell.
    }
  };
  const timer = setInterval(() => void take(), options.intervalMs);
  void take();
  return { samples, stop: () => clearInterval(timer) };
}

/** Least-squares slope of RSS over time, in MiB per minute, over the samples given. */
export function rssSlopeMiBPerMinute(samples: readonly MemorySample[]): number {
  if (samples.length < 3) return Number.NaN;
  const xs = samples.map((sample) => sample.atSeconds / 60);
  const ys = samples.map((sample) => sample.rssMiB);
  const meanX = xs.reduce((sum, value) => sum + value, 0) / xs.length;
  const meanY = ys.reduce((sum, value) => sum + value, 0) / ys.length;
  let covariance = 0;
  let variance = 0;
  for (let index = 0; index < xs.length; index++) {
    covariance += (xs[index]! - meanX) * (ys[index]! - meanY);
    variance += (xs[index]! - meanX) ** 2;
  }
  return variance === 0 ? Number.NaN : covariance / variance;
}
