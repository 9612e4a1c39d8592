/**
 * Issue 3: what the worker fleet adds. The same load through Switchboard to the upstream
 * directly (the upstream path) and through the worker path (task on the broker → `switchboard
 * worker` → upstream → reply over /res or /res/ws), per broker: in-process (gateway and worker
 * in one process), NATS JetStream and Redis Streams (worker in its own process, the shared
 * servers on 4222/6379). Knobs as in the gateway scenario: --connections 50 --duration 5
 * --warmup 2 --streams 50 --chunks 20 --interval-ms 50 --only-brokers in-process,nats,redis.
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
  /** Seconds of one-connection load: latency without queueing, for the added-latency figure. */
  readonly latencySeconds: number;
}

/** One target's figures: unloaded latency, then throughput and streams under load. */
interface BrokerRound {
  readonly idle: HttpLoadResult;
  readonly loaded: TargetRound;
}

function settingsFrom(options: BenchOptions): BrokerSettings {
  return {
    ...loadSettingsFrom(options, { durationSeconds: options.full ? 20 : 5, warmupSeconds: 2 }),
    latencySeconds: numberFlag(options, 'latency-duration', options.full ? 10 : 4),
  };
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

function renderReport(input: { command: string; machine: string; settings: BrokerSettings; results: ReadonlyMap<string, BrokerRound>; skipped: readonly string[] }): string {
  const base = input.results.get(UPSTREAM_PATH);
  const added = (label: string, value: number, baseValue: number | undefined) => (label === UPSTREAM_PATH || baseValue === undefined ? '—' : signedMs(value - baseValue));
  const rows = [...input.results].map(([label, { idle, loaded }]) => [
    label,
    ms(idle.latency.p50),
    ms(idle.latency.p99),
    added(label, idle.latency.p50, base?.idle.latency.p50),
    integer(loaded.nonStream.requestsPerSecond),
    ms(loaded.nonStream.latency.p50),
    ms(loaded.stream.ttfb.p50),
    added(label, loaded.stream.ttfb.p50, base?.loaded.stream.ttfb.p50),
    ms(loaded.stream.gaps.p99),
    String(idle.errors + idle.non2xx + loaded.nonStream.errors + loaded.nonStream.non2xx + loaded.stream.errors),
  ]);
  const { settings } = input;
  return [
    `Command: \`${input.command}\`. ${input.machine}.`,
    '',
    `Unloaded: one connection for ${settings.latencySeconds} s (latency without queueing). Loaded: ${settings.connections} keep-alive connections for ${settings.durationSeconds} s (closed loop), then ${settings.streams} concurrent streams of ${settings.chunks} chunks ${settings.intervalMs} ms apart. The upstream is bench/servers/upstream.ts; the worker is the real \`switchboard worker\` (its own process for NATS and Redis; in the gateway's process for in-process). Everything shares the machine's 2 cores with the load generator and the broker server.`,
    '',
    markdownTable(['path', 'unloaded p50 ms', 'unloaded p99 ms', 'added p50 ms', 'loaded req/s', 'loaded p50 ms', 'stream TTFB p50 ms', 'added TTFB p50 ms', 'chunk gap p99 ms', 'errors'], rows),
    '',
    'Added = worker path minus the upstream path through the same Switchboard build, same run. Target: < 2 ms added unloaded p50 through NATS.',
    ...(input.skipped.length > 0 ? ['', `Not measured (server not reachable): ${input.skipped.join(', ')}.`] : []),
  ].join('\n');
}

async function runBroker(options: BenchOptions): Promise<MarkdownSection> {
  const settings = settingsFrom(options);
  const machine = machineLine();
  const wanted = (options.flags.get('only-brokers') ?? 'in-process,nats,redis').split(',');
  const servers: ChildServer[] = [];
  const skipped: string[] = [];
  const results = new Map<string, BrokerRound>();
  const measure = async (target: LoadTarget) => {
    await checkTarget(target);
    const url = `${target.origin}${target.path}`;
    const idle = await runHttpLoad({ url, headers: { 'content-type': 'application/json', ...target.headers }, body: CHAT_BODY, connections: 1, durationSeconds: settings.latencySeconds, maxRequests: settings.maxRequests });
    options.log(`   ${target.label}: unloaded p50 ${idle.latency.p50.toFixed(2)} ms, p99 ${idle.latency.p99.toFixed(2)} ms`);
    results.set(target.label, { idle, loaded: await measureTarget(target, settings, options.log) });
  };
  try {
    const upstreamPort = await freePort();
    const upstream = await startChildServer({ name: 'upstream', entry: repoPath('bench/servers/upstream.ts'), args: ['--port', String(upstreamPort), '--chunks', String(settings.chunks), '--interval-ms', String(settings.intervalMs)], port: upstreamPort });
    servers.push(upstream);
    const apiUrl = `${upstream.origin}/v1`;
    const headers = { authorization: `Bearer ${GATEWAY_KEY}` };

    const plain = await startSwitchboard({ upstreamUrl: apiUrl, gatewayKey: GATEWAY_KEY, log: options.log });
    await measure({ label: UPSTREAM_PATH, origin: plain.origin, path: CHAT_PATH, headers, server: plain, upstream });
    await plain.stop();

    if (wanted.includes('in-process')) {
      const port = await freePort();
      const fleet = await startChildServer({ name: 'fleet-in-process', entry: repoPath('bench/servers/fleet-in-process.ts'), args: ['--port', String(port), '--model', MODEL, '--api-url', apiUrl, '--key', GATEWAY_KEY], port });
      await measure({ label: 'worker path, in-process', origin: fleet.origin, path: CHAT_PATH, headers, server: fleet, upstream });
      await fleet.stop();
    }
    for (const kind of ['nats', 'redis'] as const) {
      if (!wanted.includes(kind)) continue;
      if (!(await canConnect(Number(new URL(BROKERS[kind]).port)))) {
        skipped.push(kind);
        continue;
      }
      await clearTopic(kind);
      const gateway = await startSwitchboard({ upstreamUrl: apiUrl, gatewayKey: GATEWAY_KEY, extraConfig: { dispatch: { brokerUrl: BROKERS[kind], models: [MODEL] } }, log: options.log });
      const workerPort = await freePort();
      const worker = await startChildServer({ name: `worker-${kind}`, entry: repoPath('bench/servers/fleet-worker.ts'), args: ['--port', String(workerPort), '--broker', BROKERS[kind], '--model', MODEL, '--api-url', apiUrl], port: workerPort });
      try {
        await measure({ label: `worker path, ${kind === 'nats' ? 'NATS JetStream' : 'Redis Streams'}`, origin: gateway.origin, path: CHAT_PATH, headers, server: gateway, upstream });
      } finally {
        await worker.stop();
        await gateway.stop();
        await clearTopic(kind);
      }
    }
    return { title: 'Worker fleet: added latency of the broker path', body: renderReport({ command: options.command, machine, settings, results, skipped }) };
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}

export const scenario: Scenario = {
  name: 'broker',
  description: 'the worker path per broker (in-process, NATS JetStream, Redis Streams) against the upstream path',
  run: runBroker,
};
