import autocannon from 'autocannon';
import { Samples, type Summary } from './stats.js';

export interface HttpLoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly connections: number;
  /** Time cap, seconds. */
  readonly durationSeconds: number;
  /** Count cap: the run stops after this many responses even if time remains. */
  readonly maxRequests: number;
}

export interface HttpLoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Latency in ms, at sub-millisecond resolution (autocannon's own histogram rounds to 1 ms). */
  readonly latency: Summary;
  readonly errors: number;
  readonly non2xx: number;
}

/**
 * Closed-loop load with autocannon: `connections` keep-alive connections, each sending its next
 * request as soon as the last answer arrives. Latency is taken from every response event with
 * autocannon's float timing rather than from its integer-ms histogram, because the added
 * latency we look for is a fraction of a millisecond.
 */
export function runHttpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const latency = new Samples();
  let responses = 0;
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method ?? 'POST',
        headers: { ...options.headers },
        body: options.body,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: 10,
      },
      (error, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const seconds = (performance.now() - startedAt) / 1000;
        resolve({
          requests: responses,
          seconds,
          requestsPerSecond: responses / seconds,
          latency: latency.summary(),
          errors: result.errors,
          non2xx: result.non2xx,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      responses++;
      if (statusCode >= 200 && statusCode < 300) latency.add(responseTime);
      if (responses === options.maxRequests) instance.stop();
    });
  });
}
