import { Pool } from 'undici';
import { Samples, type Summary } from './stats.js';

export interface SseLoadOptions {
  readonly origin: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
  /** Streams open at once (one connection each). */
  readonly concurrency: number;
  /** Time cap: no stream starts after this; running ones finish. */
  readonly durationMs: number;
  /** Count cap on streams started. */
  readonly maxStreams: number;
  /** Content events the upstream sends per stream; gaps are measured between these. */
  readonly expectedEvents: number;
  /** The upstream's gap between two events; a gap under half of it counts as coalesced. */
  readonly intervalMs: number;
  /**
   * Spread the first stream of each worker over this many ms, so streams arrive at a steady rate
   * instead of all at once in waves (TTFB then measures steady load, not a burst). @default 0
   */
  readonly staggerMs?: number;
}

export interface SseLoadResult {
  readonly streams: number;
  readonly seconds: number;
  readonly streamsPerSecond: number;
  /** Request sent → first SSE event complete, ms. */
  readonly ttfb: Summary;
  /** Arrival gap between consecutive content events, ms. */
  readonly gaps: Summary;
  /** Gaps shorter than interval/2: events that arrived batched with the previous one. */
  readonly coalesced: number;
  /** Request sent → stream end, ms. */
  readonly total: Summary;
  readonly errors: number;
  readonly firstError: string | undefined;
}

const NEWLINE = 0x0a;
/** Per-stream cap on recorded event times (the upstream sends ~22). */
const MAX_EVENTS_PER_STREAM = 1_000;
const STREAM_TIMEOUT_MS = 15_000;

interface StreamTiming {
  readonly startedAt: number;
  readonly eventTimes: number[];
  endedAt: number;
}

/** Records when each `\n\n`-terminated event completes; a boundary may straddle two chunks. */
function readEvents(body: NodeJS.ReadableStream, timing: StreamTiming): Promise<void> {
  let previous = 0;
  return new Promise((resolve, reject) => {
    body.on('data', (chunk: Buffer) => {
      const now = performance.now();
      for (const byte of chunk) {
        if (byte === NEWLINE && previous === NEWLINE && timing.eventTimes.length < MAX_EVENTS_PER_STREAM) timing.eventTimes.push(now);
        previous = byte;
      }
    });
    body.once('end', () => {
      timing.endedAt = performance.now();
      resolve();
    });
    body.once('error', reject);
  });
}

/**
 * K streams at a time, each on its own keep-alive connection, restarted until the time or count
 * cap. Measures what a streaming client sees: time to the first event, and the arrival gaps
 * between events (equal to the upstream's interval when nothing in between batches them).
 */
export async function runSseLoad(options: SseLoadOptions): Promise<SseLoadResult> {
  const pool = new Pool(options.origin, { connections: options.concurrency, headersTimeout: STREAM_TIMEOUT_MS, bodyTimeout: STREAM_TIMEOUT_MS });
  const ttfb = new Samples();
  const gaps = new Samples();
  const total = new Samples();
  let started = 0;
  let completed = 0;
  let errors = 0;
  let coalesced = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;

  const fail = (reason: string) => {
    errors++;
    firstError ??= reason;
  };

  const oneStream = async () => {
    const timing: StreamTiming = { startedAt: performance.now(), eventTimes: [], endedAt: 0 };
    const response = await pool.request({ method: 'POST', path: options.path, headers: { 'content-type': 'application/json', ...options.headers }, body: options.body });
    if (response.statusCode !== 200) {
      fail(`status ${response.statusCode}: ${(await response.body.text()).slice(0, 200)}`);
      return;
    }
    await readEvents(response.body, timing);
    // expected content events + [DONE] at least.
    if (timing.eventTimes.length < options.expectedEvents + 1) {
      fail(`stream ended after ${timing.eventTimes.length} events`);
      return;
    }
    completed++;
    ttfb.add(timing.eventTimes[0]! - timing.startedAt);
    total.add(timing.endedAt - timing.startedAt);
    for (let index = 1; index < options.expectedEvents; index++) {
      const gap = timing.eventTimes[index]! - timing.eventTimes[index - 1]!;
      gaps.add(gap);
      if (gap < options.intervalMs / 2) coalesced++;
    }
  };

  const worker = async (index: number) => {
    const delay = ((options.staggerMs ?? 0) * index) / options.concurrency;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    while (performance.now() < deadline && started < options.maxStreams) {
      started++;
      await oneStream().catch((error: unknown) => fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  const seconds = (performance.now() - startedAt) / 1000;
  await pool.close();
  return {
    streams: completed,
    seconds,
    streamsPerSecond: completed / seconds,
    ttfb: ttfb.summary(),
    gaps: gaps.summary(),
    coalesced,
    total: total.summary(),
    errors,
    firstError,
  };
}
