import { runHttpLoad, type HttpLoadResult } from './http-load.js';
import { runPacedLoad, type PacedLoadResult } from './paced-load.js';
import { runSseLoad, type SseLoadResult } from './sse-load.js';
import type { ChildServer, LoopDelay } from './child-server.js';
import { numberFlag, type BenchOptions } from './scenario.js';

/** One way to reach the upstream: directly, or through a proxy process under test. */
export interface LoadTarget {
  readonly label: string;
  readonly origin: string;
  /** Path of the chat completions endpoint on this target. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The proxy process; undefined for the direct baseline. */
  readonly server: ChildServer | undefined;
  /** The upstream process (its loop delay shows whether it kept up with the load). */
  readonly upstream: ChildServer;
}

export interface LoadSettings {
  readonly connections: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Requests per second of the light-load phase (well below what any target saturates at); no such phase when unset. */
  readonly lightRate?: number | undefined;
  readonly lightSeconds?: number | undefined;
  readonly maxRequests: number;
  readonly streams: number;
  readonly streamSeconds: number;
  readonly maxStreams: number;
  readonly chunks: number;
  readonly intervalMs: number;
}

/** The flags every proxy-comparison scenario reads, with the defaults they share. */
export function loadSettingsFrom(options: BenchOptions, defaults: { durationSeconds: number; warmupSeconds: number }): LoadSettings {
  const duration = numberFlag(options, 'duration', defaults.durationSeconds);
  return {
    connections: numberFlag(options, 'connections', 50),
    durationSeconds: duration,
    warmupSeconds: numberFlag(options, 'warmup', defaults.warmupSeconds),
    maxRequests: numberFlag(options, 'max-requests', 5_000_000),
    streams: numberFlag(options, 'streams', 50),
    streamSeconds: numberFlag(options, 'stream-duration', duration),
    maxStreams: numberFlag(options, 'max-streams', 1_000_000),
    chunks: numberFlag(options, 'chunks', 20),
    intervalMs: numberFlag(options, 'interval-ms', 50),
  };
}

/** One round's figures for one target. */
export interface TargetRound {
  readonly nonStream: HttpLoadResult;
  /** The same request at a fixed low rate: the path's own latency, without queueing (when `lightRate` is set). */
  readonly light: PacedLoadResult | undefined;
  readonly cpuMicrosPerLightRequest: number | undefined;
  readonly stream: SseLoadResult;
  /** Proxy CPU (user + system) per non-stream request, µs; undefined for direct. */
  readonly cpuMicrosPerRequest: number | undefined;
  /** The part of it spent on the proxy's main thread (its event loop), µs. */
  readonly mainCpuMicrosPerRequest: number | undefined;
  /** Proxy CPU per event the client receives (the chunks and `[DONE]`), µs. */
  readonly cpuMicrosPerChunk: number | undefined;
  /** Event-loop delay of the proxy and of the upstream during each measured phase. */
  readonly loop: {
    readonly proxyNonStream: LoopDelay | undefined;
    readonly proxyStream: LoopDelay | undefined;
    readonly upstreamNonStream: LoopDelay | undefined;
    readonly upstreamStream: LoopDelay | undefined;
  };
}

export const CHAT_BODY = JSON.stringify({ model: 'gpt-bench', messages: [{ role: 'user', content: 'hello' }] });
export const STREAM_BODY = JSON.stringify({ model: 'gpt-bench', messages: [{ role: 'user', content: 'hello' }], stream: true });

function cpuDelta(server: ChildServer | undefined, before: number | undefined, read = (child: ChildServer) => child.cpuSeconds()): number | undefined {
  const after = server === undefined ? undefined : read(server);
  return after === undefined || before === undefined ? undefined : after - before;
}

/** Resets (before a phase) or reads and resets (after it) both processes' loop-delay histograms. */
async function loopDelays(target: LoadTarget): Promise<[LoopDelay | undefined, LoopDelay | undefined]> {
  return Promise.all([target.server?.loopDelay({ reset: true }), target.upstream.loopDelay({ reset: true })]);
}

/** Warm-up, then closed-loop non-stream load, then K concurrent streams, on one target. */
export async function measureTarget(target: LoadTarget, settings: LoadSettings, log: (line: string) => void): Promise<TargetRound> {
  const url = `${target.origin}${target.path}`;
  const headers = { 'content-type': 'application/json', ...target.headers };
  const http = { url, headers, body: CHAT_BODY, connections: settings.connections };
  await runHttpLoad({ ...http, durationSeconds: settings.warmupSeconds, maxRequests: settings.maxRequests });
  await loopDelays(target);
  const cpuBefore = target.server?.cpuSeconds();
  const mainCpuBefore = target.server?.mainThreadCpuSeconds();
  const nonStream = await runHttpLoad({ ...http, durationSeconds: settings.durationSeconds, maxRequests: settings.maxRequests });
  const nonStreamCpu = cpuDelta(target.server, cpuBefore);
  const nonStreamMainCpu = cpuDelta(target.server, mainCpuBefore, (child) => child.mainThreadCpuSeconds());
  const [proxyNonStream, upstreamNonStream] = await loopDelays(target);
  const lightCpuBefore = target.server?.cpuSeconds();
  const light =
    settings.lightRate === undefined
      ? undefined
      : await runPacedLoad({ origin: target.origin, path: target.path, headers, body: CHAT_BODY, rate: settings.lightRate, durationSeconds: settings.lightSeconds ?? 5, maxRequests: settings.maxRequests });
  const lightCpu = cpuDelta(target.server, lightCpuBefore);
  const loopNote = (delay: LoopDelay | undefined) => (delay ? `, proxy loop delay p99 ${delay.p99.toFixed(1)} ms` : '');
  log(`   ${target.label}: non-stream ${Math.round(nonStream.requestsPerSecond)} req/s, p50 ${nonStream.latency.p50.toFixed(2)} ms, p99 ${nonStream.latency.p99.toFixed(2)} ms${loopNote(proxyNonStream)}`);
  if (light) log(`   ${target.label}: at ${settings.lightRate ?? 0} req/s p50 ${light.latency.p50.toFixed(2)} ms, p99 ${light.latency.p99.toFixed(2)} ms`);

  const sse = { origin: target.origin, path: target.path, headers: target.headers, body: STREAM_BODY, concurrency: settings.streams, expectedEvents: settings.chunks, intervalMs: settings.intervalMs };
  // One wave of streams as warm-up (connections open, stream code paths compiled).
  await runSseLoad({ ...sse, durationMs: 1_000, maxStreams: settings.streams });
  await loopDelays(target);
  const streamCpuBefore = target.server?.cpuSeconds();
  const stream = await runSseLoad({ ...sse, durationMs: settings.streamSeconds * 1000, maxStreams: settings.maxStreams, staggerMs: settings.chunks * settings.intervalMs });
  const streamCpu = cpuDelta(target.server, streamCpuBefore);
  const [proxyStream, upstreamStream] = await loopDelays(target);
  log(`   ${target.label}: stream ${stream.streamsPerSecond.toFixed(1)} streams/s, TTFB p50 ${stream.ttfb.p50.toFixed(2)} ms, gap p50 ${stream.gaps.p50.toFixed(2)} / p99 ${stream.gaps.p99.toFixed(2)} ms, coalesced ${stream.coalesced}, errors ${stream.errors}${loopNote(proxyStream)}`);
  if (stream.firstError) log(`   ${target.label}: first stream error: ${stream.firstError}`);
  return {
    nonStream,
    light,
    cpuMicrosPerLightRequest: lightCpu === undefined || !light || light.requests === 0 ? undefined : (lightCpu * 1e6) / light.requests,
    stream,
    cpuMicrosPerRequest: nonStreamCpu === undefined || nonStream.requests === 0 ? undefined : (nonStreamCpu * 1e6) / nonStream.requests,
    mainCpuMicrosPerRequest: nonStreamMainCpu === undefined || nonStream.requests === 0 ? undefined : (nonStreamMainCpu * 1e6) / nonStream.requests,
    cpuMicrosPerChunk: streamCpu === undefined || stream.streams === 0 ? undefined : (streamCpu * 1e6) / (stream.streams * (settings.chunks + 1)),
    loop: { proxyNonStream, proxyStream, upstreamNonStream, upstreamStream },
  };
}
