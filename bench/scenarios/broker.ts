/**
 * Issue 3: what the worker fleet adds. The same load through Switchboard to the upstream
 * directly (the upstream path) and through the worker path (task on the broker → `switchboard
 * worker` → upstream → reply over /res or /res/ws), per broker: in-process (gateway and worker
 * in one process), NATS JetStream and Redis Streams (worker in its own process, the shared
 * servers on 4222/6379). Knobs as in the gateway scenario: --connections 50 --duration 5
 * --warmup 2 --streams 50 --chunks 20 --interval-ms 50 --only-brokers in-process,nats,redis, plus
 * --latency-rounds 5 --latency-duration 2 for the unloaded, alternating rounds.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { startChildServer, type ChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { machineLine } from '../lib/machine.js';
import { integer, markdownTable, ms, signedMs } from '../lib/markdown.js';
import { repoPath } from '../lib/paths.js';
import { runHttpLoad, type HttpLoadResult } from '../lib/http-load.js';
import { median } from '../lib/stats.js';
import { CHAT_BODY, STREAM_BODY, loadSettingsFrom, measureTarget, type LoadSettings, type LoadTarget, type TargetRound } from '../lib/proxy-comparison.js';
import { numberFlag, type BenchOptions, type MarkdownSection, type Scenario } from '../lib/scenario.js';
import { startSwitchboard } from '../lib/switchboard-server.js';
import { canConnect } from '../../test/support/services.js';

const GATEWAY_KEY = 'bench-key';
const CHAT_PATH = '/v1/chat/completions';
const MODEL = 'gpt-bench';
const TOPIC = `model-${MODEL}`;
const BROKERS = { nats: 'nats://127.0.0.1:4222', redis: 'redis://127.0.0.1:6379' } as const;
const UPSTREAM_PATH = 'Switchboard → upstream';

interface BrokerSettings extends LoadSettings {
  /** Seconds of one-connection load per target and round: latency without queueing. */
  readonly latencySeconds: number;
  /** Unloaded rounds; each round measures every path once, in turn, so a busy moment of the machine hits all of them. */
  readonly latencyRounds: number;
}

/** One target's figures: unloaded latency per round, then throughput and streams under load. */
interface BrokerResult {
  readonly idle: HttpLoadResult[];
  loaded?: TargetRound;
}

function settingsFrom(options: BenchOptions): BrokerSettings {
  return {
    ...loadSettingsFrom(options, { durationSeconds: options.full ? 20 : 5, warmupSeconds: 2 }),
    latencySeconds: numberFlag(options, 'latency-duration', options.full ? 4 : 2),
    latencyRounds: Math.max(1, Math.round(numberFlag(options, 'latency-rounds', options.full ? 9 : 5))),
  };
}

/** Per round: this path's unloaded p50 minus the upstream path's in the same round. */
function addedPerRound(result: BrokerResult, base: BrokerResult): number[] {
  return result.idle.map((round, index) => round.latency.p50 - (base.idle[index]?.latency.p50 ?? NaN));
}

/** Leftover tasks of an earlier run would be answered to nobody and skew the figures. */
async function clearTopic(kind: keyof typeof BROKERS): Promise<void> {
  if (kind === 'nats') {
    const connection = await connect({ servers: new URL(BROKERS.nats).host });
    await (await jetstreamManager(connection)).streams.delete(TOPIC).catch(() => undefined);
    await connection.close();
  } else {
    const redis = new Redis(BROKERS.redis);
    await redis.del(TOPIC);
    redis.disconnect();
  }
}

async function checkTarget(target: LoadTarget): Promise<void> {
  for (const body of [CHAT_BODY, STREAM_BODY]) {
    const response = await fetch(`${target.origin}${target.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('chat.completion')) throw new Error(`${target.label} answered ${response.status}: ${text.slice(0, 300)}`);
  }
}

function renderReport(input: { command: string; machine: string; settings: BrokerSettings; results: ReadonlyMap<string, BrokerResult>; skipped: readonly string[] }): string {
  const base = input.results.get(UPSTREAM_PATH);
  const rows = [...input.results].map(([label, result]) => {
    const isBase = label === UPSTREAM_PATH || base === undefined;
    const added = isBase ? [] : addedPerRound(result, base);
    const loaded = result.loaded;
    const baseTtfb = base?.loaded?.stream.ttfb.p50;
    return [
      label,
      ms(median(result.idle.map((round) => round.latency.p50))),
      ms(median(result.idle.map((round) => round.latency.p99))),
      isBase ? '—' : `**${signedMs(median(added))}**`,
      isBase ? '—' : added.map((value) => signedMs(value)).join(' '),
      integer(loaded?.nonStream.requestsPerSecond),
      ms(loaded?.nonStream.latency.p50),
      ms(loaded?.stream.ttfb.p50),
      isBase || loaded === undefined || baseTtfb === undefined ? '—' : signedMs(loaded.stream.ttfb.p50 - baseTtfb),
      ms(loaded?.stream.gaps.p99),
      String(result.idle.reduce((sum, round) => sum + round.errors + round.non2xx, 0) + (loaded ? loaded.nonStream.errors + loaded.nonStream.non2xx + loaded.stream.errors : 0)),
    ];
  });
  const { settings } = input;
  return [
    `Command: \`${input.command}\`. ${input.machine}.`,
    '',
    `Unloaded: one connection, ${settings.latencySeconds} s per path and round after ${settings.warmupSeconds} s of warm-up, ${settings.latencyRounds} rounds; every round measures each path in turn, so a busy moment of the shared machine lands on all of them. Loaded: ${settings.connections} keep-alive connections for ${settings.durationSeconds} s (closed loop), then ${settings.streams} concurrent streams of ${settings.chunks} chunks ${settings.intervalMs} ms apart. The upstream is bench/servers/upstream.ts; the worker is the real \`switchboard worker\` (its own process for NATS and Redis; in the gateway's process for in-process). Every server stays up for the whole run and everything shares the machine's 2 cores with the load generator and the broker server.`,
    '',
    markdownTable(['path', 'unloaded p50 ms', 'unloaded p99 ms', 'added p50 ms (median)', 'added p50 per round', 'loaded req/s', 'loaded p50 ms', 'stream TTFB p50 ms', 'added TTFB p50 ms', 'chunk gap p99 ms', 'errors'], rows),
    '',
    'Unloaded p50/p99: median over the rounds. Added = worker path minus the upstream path through Switchboard (same build, same round); the median of the rounds is the figure against the target: < 2 ms added unloaded p50 through NATS.',
    ...(input.skipped.length > 0 ? ['', `Not measured (server not reachable): ${input.skipped.join(', ')}.`] : []),
  ].join('\n');
}

async function runBroker(options: BenchOptions): Promise<MarkdownSection> {
  const settings = settingsFrom(options);
  const machine = machineLine();
  const wanted = (options.flags.get('only-brokers') ?? 'in-process,nats,redis').split(',');
  const servers: ChildServer[] = [];
  const skipped: string[] = [];
  const cleared: (keyof typeof BROKERS)[] = [];
  const targets: LoadTarget[] = [];
  try {
    const upstreamPort = await freePort();
    const upstream = await startChildServer({ name: 'upstream', entry: repoPath('bench/servers/upstream.ts'), args: ['--port', String(upstreamPort), '--chunks', String(settings.chunks), '--interval-ms', String(settings.intervalMs)], port: upstreamPort });
    servers.push(upstream);
    const apiUrl = `${upstream.origin}/v1`;
    const headers = { authorization: `Bearer ${GATEWAY_KEY}` };

    const plain = await startSwitchboard({ upstreamUrl: apiUrl, gatewayKey: GATEWAY_KEY, log: options.log });
    servers.push(plain);
    targets.push({ label: UPSTREAM_PATH, origin: plain.origin, path: CHAT_PATH, headers, server: plain, upstream });

    if (wanted.includes('in-process')) {
      const port = await freePort();
      const fleet = await startChildServer({ name: 'fleet-in-process', entry: repoPath('bench/servers/fleet-in-process.ts'), args: ['--port', String(port), '--model', MODEL, '--api-url', apiUrl, '--key', GATEWAY_KEY], port });
      servers.push(fleet);
      targets.push({ label: 'worker path, in-process', origin: fleet.origin, path: CHAT_PATH, headers, server: fleet, upstream });
    }
    for (const kind of ['nats', 'redis'] as const) {
      if (!wanted.includes(kind)) continue;
      if (!(await canConnect(Number(new URL(BROKERS[kind]).port)))) {
        skipped.push(kind);
        continue;
      }
      await clearTopic(kind);
      cleared.push(kind);
      const gateway = await startSwitchboard({ upstreamUrl: apiUrl, gatewayKey: GATEWAY_KEY, extraConfig: { dispatch: { brokerUrl: BROKERS[kind], models: [MODEL] } }, log: options.log });
      servers.push(gateway);
      const workerPort = await freePort();
      const worker = await startChildServer({ name: `worker-${kind}`, entry: repoPath('bench/servers/fleet-worker.ts'), args: ['--port', String(workerPort), '--broker', BROKERS[kind], '--model', MODEL, '--api-url', apiUrl], port: workerPort });
      servers.push(worker);
      targets.push({ label: `worker path, ${kind === 'nats' ? 'NATS JetStream' : 'Redis Streams'}`, origin: gateway.origin, path: CHAT_PATH, headers, server: gateway, upstream });
    }

    const results = new Map<string, BrokerResult>(targets.map((target) => [target.label, { idle: [] }]));
    for (const target of targets) {
      await checkTarget(target);
      // JIT, pools and the broker's consumers warm up before anything is counted.
      await runHttpLoad({ url: `${target.origin}${target.path}`, headers: { 'content-type': 'application/json', ...target.headers }, body: CHAT_BODY, connections: 1, durationSeconds: settings.warmupSeconds, maxRequests: settings.maxRequests });
    }
    for (let round = 1; round <= settings.latencyRounds; round++) {
      for (const target of targets) {
        const url = `${target.origin}${target.path}`;
        const idle = await runHttpLoad({ url, headers: { 'content-type': 'application/json', ...target.headers }, body: CHAT_BODY, connections: 1, durationSeconds: settings.latencySeconds, maxRequests: settings.maxRequests });
        results.get(target.label)?.idle.push(idle);
        options.log(`   round ${round}/${settings.latencyRounds} ${target.label}: unloaded p50 ${idle.latency.p50.toFixed(2)} ms, p99 ${idle.latency.p99.toFixed(2)} ms`);
      }
    }
    for (const target of targets) {
      const result = results.get(target.label);
      if (result) result.loaded = await measureTarget(target, settings, options.log);
    }
    return { title: 'Worker fleet: added latency of the broker path', body: renderReport({ command: options.command, machine, settings, results, skipped }) };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    for (const kind of cleared) await clearTopic(kind);
  }
}

export const scenario: Scenario = {
  name: 'broker',
  description: 'the worker path per broker (in-process, NATS JetStream, Redis Streams) against the upstream path',
  run: runBroker,
};
