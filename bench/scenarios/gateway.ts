/**
 * Issue 2: what Switchboard adds on the request path. The same load, on the same machine, in one
 * run: direct to a scripted upstream, through a minimal Node pass-through proxy (the floor for
 * Node), and through Switchboard. Knobs: --connections 50 --duration 10 --warmup 2 --light-rate 200
 * --light-duration 5 --streams 50 --chunks 20 --interval-ms 50 --rounds 1 --entry build|src|dist;
 * --bursts 20 --burst-seconds 3 (paired short non-stream bursts after the rounds; 0 for none);
 * --switchboard-main FILE runs that main.js instead (a patched build, to measure a proposed fix);
 * --full = 30 s runs and 3 rounds; --profile DIR writes and summarises Switchboard's CPU profile.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from '../lib/child-server.js';
import { formatProfile, summariseProfile } from '../lib/cpu-profile.js';
import { freePort } from '../lib/free-port.js';
import { renderGatewayReport, type MemoryFigures } from '../lib/gateway-report.js';
import { compiledBenchServer } from '../lib/compile-servers.js';
import { machineLine } from '../lib/machine.js';
import { procStatusKb } from '../lib/proc.js';
import { runPairedBursts, type BurstSet } from '../lib/paired-bursts.js';
import { CHAT_BODY, STREAM_BODY, loadSettingsFrom, measureTarget, type LoadSettings, type LoadTarget, type TargetRound } from '../lib/proxy-comparison.js';
import { numberFlag, type BenchOptions, type MarkdownSection, type Scenario } from '../lib/scenario.js';
import { startSwitchboard } from '../lib/switchboard-server.js';

const GATEWAY_KEY = 'bench-key';
const CHAT_PATH = '/v1/chat/completions';
const DIRECT = 'direct to upstream';
const MINIMAL = 'minimal Node proxy';
const SWITCHBOARD = 'Switchboard';
const ENTRY_TEXT = {
  build: 'src/ compiled with tsc into node_modules/.cache and run with plain node, as `npm start` runs dist/',
  dist: 'dist/main.js as `npm run build` left it',
  src: 'src/main.ts through tsx (adds a module-hooks thread and ~30 MiB RSS)',
} as const;

function settingsFrom(options: BenchOptions): LoadSettings & { rounds: number; bursts: number; burstSeconds: number } {
  return {
    ...loadSettingsFrom(options, { durationSeconds: options.full ? 30 : 10, warmupSeconds: options.full ? 5 : 2 }),
    lightRate: numberFlag(options, 'light-rate', 200),
    lightSeconds: numberFlag(options, 'light-duration', options.full ? 15 : 5),
    rounds: Math.max(1, Math.round(numberFlag(options, 'rounds', options.full ? 3 : 1))),
    bursts: Math.max(0, Math.round(numberFlag(options, 'bursts', 20))),
    burstSeconds: numberFlag(options, 'burst-seconds', 3),
  };
}

/** `items` started at index `by` (mod length), wrapping around. */
function rotated<T>(items: readonly T[], by: number): T[] {
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** One request of each kind per target before measuring: a broken setup fails loudly, not as a slow run. */
async function checkTarget(target: LoadTarget): Promise<void> {
  for (const body of [CHAT_BODY, STREAM_BODY]) {
    const response = await fetch(`${target.origin}${target.path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('chat.completion')) throw new Error(`${target.label} answered ${response.status}: ${text.slice(0, 300)}`);
  }
}

/** Prints where the main thread's CPU went (under --entry src, tsx's module-hooks thread writes a second file). */
function logProfile(options: BenchOptions, pid: number): void {
  if (!options.profileDir) return;
  const file = readdirSync(options.profileDir).find((name) => name.includes(`.${pid}.0.`) && name.endsWith('.cpuprofile'));
  if (!file) return options.log(`   no main-thread profile for pid ${pid} in ${options.profileDir}`);
  options.log(`   Switchboard CPU profile: ${join(options.profileDir, file)}`);
  options.log(formatProfile(summariseProfile(join(options.profileDir, file), 25)));
}

async function runGateway(options: BenchOptions): Promise<MarkdownSection> {
  const settings = settingsFrom(options);
  const machine = machineLine();
  // Compiled by default: that is how `npm start` runs, and tsx would add ~30 MiB RSS and a hooks thread.
  const entry = options.flags.get('entry') ?? 'build';
  if (entry !== 'src' && entry !== 'dist' && entry !== 'build') throw new Error('--entry must be src, dist or build');
  options.log(`   ${machine}`);
  const servers: ChildServer[] = [];
  let switchboardPid: number | undefined;
  try {
    const upstreamPort = await freePort();
    const upstream = await startChildServer({
      name: 'upstream',
      entry: compiledBenchServer('upstream'),
      args: ['--port', String(upstreamPort), '--chunks', String(settings.chunks), '--interval-ms', String(settings.intervalMs)],
      port: upstreamPort,
    });
    servers.push(upstream);
    const minimalPort = await freePort();
    const minimal = await startChildServer({ name: 'minimal-proxy', entry: compiledBenchServer('minimal-proxy'), args: ['--port', String(minimalPort), '--upstream', upstream.origin], port: minimalPort });
    servers.push(minimal);
    const switchboardMain = options.flags.get('switchboard-main');
    const switchboard = await startSwitchboard({ upstreamUrl: `${upstream.origin}/v1`, gatewayKey: GATEWAY_KEY, entry, entryPath: switchboardMain, profileDir: options.profileDir, log: options.log });
    servers.push(switchboard);
    switchboardPid = switchboard.pid;
    const startRss = new Map([[MINIMAL, procStatusKb(minimal.pid, 'VmRSS')], [SWITCHBOARD, procStatusKb(switchboard.pid, 'VmRSS')]]);

    const targets: LoadTarget[] = [
      { label: DIRECT, origin: upstream.origin, path: CHAT_PATH, headers: {}, server: undefined, upstream },
      { label: MINIMAL, origin: minimal.origin, path: CHAT_PATH, headers: {}, server: minimal, upstream },
      { label: SWITCHBOARD, origin: switchboard.origin, path: CHAT_PATH, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, server: switchboard, upstream },
    ];
    for (const target of targets) await checkTarget(target);

    const results = new Map<string, TargetRound[]>(targets.map((target) => [target.label, []]));
    for (let round = 1; round <= settings.rounds; round++) {
      options.log(`-- round ${round}/${settings.rounds}`);
      // The order turns each round (D M S, M S D, S D M, …): the host's speed drifts within minutes,
      // and a fixed order would give one target the same slot of every round.
      for (const target of rotated(targets, round - 1)) results.get(target.label)!.push(await measureTarget(target, settings, options.log));
    }
    let bursts: BurstSet[] = [];
    if (settings.bursts > 0) {
      options.log(`-- ${settings.bursts} paired bursts of ${settings.burstSeconds} s`);
      bursts = await runPairedBursts(targets, { count: settings.bursts, seconds: settings.burstSeconds, connections: settings.connections, maxRequests: settings.maxRequests }, options.log);
    }
    const memory: MemoryFigures[] = [minimal, switchboard].map((server, index) => {
      const label = index === 0 ? MINIMAL : SWITCHBOARD;
      return { label, startRssKb: startRss.get(label), peakRssKb: server.peakRssKb() };
    });
    const body = renderGatewayReport({ command: options.command, machine, settings, roundsCount: settings.rounds, results, bursts, burstSeconds: settings.burstSeconds, memory, switchboardLabel: SWITCHBOARD, minimalLabel: MINIMAL, switchboardEntry: switchboardMain ?? ENTRY_TEXT[entry] });
    return { title: 'Gateway hot path: direct vs minimal Node proxy vs Switchboard', body };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    if (switchboardPid !== undefined) logProfile(options, switchboardPid);
  }
}

export const scenario: Scenario = {
  name: 'gateway',
  description: 'non-stream and streaming load direct, through a minimal Node proxy, and through Switchboard',
  run: runGateway,
};
