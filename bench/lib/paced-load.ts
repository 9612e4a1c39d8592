import { Pool } from 'undici';
import type { HttpLoadResult } from './http-load.js';
import { Samples } from './stats.js';

export interface PacedLoadOptions {
  readonly origin: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Requests per second, sent evenly spaced (open loop). */
  readonly rate: number;
  /** Time cap, seconds. */
  readonly durationSeconds: number;
  /** Count cap on requests sent. */
  readonly maxRequests: number;
  /** Connections the client may open. @default 50 */
  readonly connections?: number;
}

/** The same figures as a closed-loop run, so reports treat both alike. */
export type PacedLoadResult = HttpLoadResult;

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Open-loop load at a steady rate: request n leaves at start + n/rate, whatever the answers do.
 * (autocannon's rate limit sends each second's quota in a burst, which measures queueing, not
 * the path.) At a rate well below saturation this is the latency of the path itself.
 */
export async function runPacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const pool = new Pool(options.origin, { connections: options.connections ?? 50, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
  const latency = new Samples();
  const total = Math.min(options.maxRequests, Math.floor(options.rate * options.durationSeconds));
  let errors = 0;
  let non2xx = 0;
  const inFlight = new Set<Promise<void>>();
  const send = async () => {
    const sentAt = performance.now();
    try {
      const response = await pool.request({ method: 'POST', path: options.path, headers: options.headers, body: options.body });
      await response.body.dump({ limit: 1024 * 1024 });
      if (response.statusCode >= 200 && response.statusCode < 300) latency.add(performance.now() - sentAt);
      else non2xx++;
    } catch {
      errors++;
    }
  };
  const startedAt = performance.now();
  for (let index = 0; index < total; index++) {
    const due = startedAt + (index * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const request = send().finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - startedAt) / 1000;
  await pool.close();
  return { requests: total, seconds, requestsPerSecond: total / seconds, latency: latency.summary(), errors, non2xx };
}
