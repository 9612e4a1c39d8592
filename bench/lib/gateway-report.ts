import type { LoadSettings, TargetRound } from './proxy-comparison.js';
import { integer, markdownTable, mib, ms, signedMs } from './markdown.js';
import type { Burst, BurstSet } from './paired-bursts.js';
import { median, medianInterval } from './stats.js';

export interface MemoryFigures {
  readonly label: string;
  readonly startRssKb: number | undefined;
  readonly peakRssKb: number | undefined;
}

export interface GatewayReportInput {
  readonly command: string;
  readonly machine: string;
  readonly settings: LoadSettings;
  readonly roundsCount: number;
  /** Rounds per target label; the first label is the direct baseline. */
  readonly results: ReadonlyMap<string, readonly TargetRound[]>;
  /** Paired short bursts run after the rounds (none with --bursts 0). */
  readonly bursts: readonly BurstSet[];
  readonly burstSeconds: number;
  readonly memory: readonly MemoryFigures[];
  readonly switchboardLabel: string;
  readonly minimalLabel: string;
  /** How Switchboard was run, for the method paragraph. */
  readonly switchboardEntry: string;
}

type Metric = (round: TargetRound) => number | undefined;

/** Median over rounds of a metric, or of its difference against the direct run of the same round. */
function combine(rounds: readonly TargetRound[], metric: Metric, baseline?: readonly TargetRound[]): number {
  return median(rounds.map((round, index) => {
    const value = metric(round) ?? NaN;
    const base = baseline?.[index];
    return base === undefined ? value : value - (metric(base) ?? NaN);
  }));
}

const p50: Metric = (round) => round.nonStream.latency.p50;
const p99: Metric = (round) => round.nonStream.latency.p99;
const ttfb50: Metric = (round) => round.stream.ttfb.p50;
const ttfb99: Metric = (round) => round.stream.ttfb.p99;
const gap50: Metric = (round) => round.stream.gaps.p50;
const gap99: Metric = (round) => round.stream.gaps.p99;

function sum(rounds: readonly TargetRound[], metric: (round: TargetRound) => number): number {
  return rounds.reduce((total, round) => total + metric(round), 0);
}

/** Share of chunk gaps under interval/2 (chunks that reached the client batched with the previous one), %. */
function coalescedShare(rounds: readonly TargetRound[]): number {
  const gaps = sum(rounds, (round) => round.stream.gaps.count);
  return gaps === 0 ? NaN : (100 * sum(rounds, (round) => round.stream.coalesced)) / gaps;
}

function nonStreamTable(input: GatewayReportInput, direct: readonly TargetRound[]): string {
  const rows = [...input.results].map(([label, rounds]) => {
    const isDirect = rounds === direct;
    return [
      label,
      integer(combine(rounds, (round) => round.nonStream.requestsPerSecond)),
      ms(combine(rounds, p50)),
      ms(combine(rounds, p99)),
      isDirect ? '—' : signedMs(combine(rounds, p50, direct)),
      isDirect ? '—' : signedMs(combine(rounds, p99, direct)),
      integer(combine(rounds, (round) => round.cpuMicrosPerRequest)),
      integer(combine(rounds, (round) => round.mainCpuMicrosPerRequest)),
      integer(sum(rounds, (round) => round.nonStream.errors + round.nonStream.non2xx)),
    ];
  });
  return markdownTable(['target', 'req/s', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'proxy CPU µs/req', 'of it, main thread', 'errors + non-2xx'], rows);
}

function lightTable(input: GatewayReportInput, direct: readonly TargetRound[]): string {
  const lp50: Metric = (round) => round.light?.latency.p50;
  const lp99: Metric = (round) => round.light?.latency.p99;
  const rows = [...input.results].map(([label, rounds]) => {
    const isDirect = rounds === direct;
    return [
      label,
      ms(combine(rounds, lp50)),
      ms(combine(rounds, lp99)),
      isDirect ? '—' : signedMs(combine(rounds, lp50, direct)),
      isDirect ? '—' : signedMs(combine(rounds, lp99, direct)),
      integer(combine(rounds, (round) => round.cpuMicrosPerLightRequest)),
      integer(sum(rounds, (round) => (round.light?.errors ?? 0) + (round.light?.non2xx ?? 0))),
    ];
  });
  return markdownTable(['target', 'p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'proxy CPU µs/req', 'errors + non-2xx'], rows);
}

function streamTable(input: GatewayReportInput, direct: readonly TargetRound[]): string {
  const rows = [...input.results].map(([label, rounds]) => {
    const isDirect = rounds === direct;
    return [
      label,
      combine(rounds, (round) => round.stream.streamsPerSecond).toFixed(1),
      ms(combine(rounds, ttfb50)),
      ms(combine(rounds, ttfb99)),
      isDirect ? '—' : signedMs(combine(rounds, ttfb50, direct)),
      isDirect ? '—' : signedMs(combine(rounds, ttfb99, direct)),
      ms(combine(rounds, gap50)),
      ms(combine(rounds, gap99)),
      isDirect ? '—' : `${signedMs(combine(rounds, gap50, direct))} / ${signedMs(combine(rounds, gap99, direct))}`,
      `${integer(sum(rounds, (round) => round.stream.coalesced))} (${coalescedShare(rounds).toFixed(2)} %)`,
      integer(combine(rounds, (round) => round.cpuMicrosPerChunk)),
      integer(sum(rounds, (round) => round.stream.errors)),
    ];
  });
  return markdownTable(
    ['target', 'streams/s', 'TTFB p50 ms', 'TTFB p99 ms', 'added TTFB p50', 'added TTFB p99', 'gap p50 ms', 'gap p99 ms', 'added gap p50 / p99', `gaps < ${input.settings.intervalMs / 2} ms`, 'proxy CPU µs/event', 'errors'],
    rows,
  );
}

function loopTable(input: GatewayReportInput): string {
  const cell = (rounds: readonly TargetRound[], pick: (round: TargetRound) => { p99: number; max: number } | undefined) => {
    const p99 = combine(rounds, (round) => pick(round)?.p99);
    return Number.isFinite(p99) ? `${ms(p99)} / ${ms(combine(rounds, (round) => pick(round)?.max))}` : '—';
  };
  const rows = [...input.results].map(([label, rounds]) => [
    label,
    cell(rounds, (round) => round.loop.proxyNonStream),
    cell(rounds, (round) => round.loop.proxyStream),
    cell(rounds, (round) => round.loop.upstreamNonStream),
    cell(rounds, (round) => round.loop.upstreamStream),
  ]);
  return markdownTable(['target', 'proxy, non-stream', 'proxy, streaming', 'upstream, non-stream', 'upstream, streaming'], rows);
}

/** Switchboard's added p50 over the minimal proxy's, triplet by triplet, with its median's 95 % interval. */
interface BurstRatios {
  readonly ratios: number[];
  readonly median: number;
  readonly low: number;
  readonly high: number;
  readonly cpuRatio: number;
  readonly mainThreadRatio: number;
}

function burstRatios(input: GatewayReportInput, directLabel: string): BurstRatios | undefined {
  if (input.bursts.length === 0) return undefined;
  const ratios = input.bursts.map((set) => {
    const direct = set.get(directLabel)?.p50 ?? NaN;
    return ((set.get(input.switchboardLabel)?.p50 ?? NaN) - direct) / ((set.get(input.minimalLabel)?.p50 ?? NaN) - direct);
  });
  const medianRatio = (pick: (burst: Burst | undefined) => number | undefined) =>
    median(input.bursts.map((set) => (pick(set.get(input.switchboardLabel)) ?? NaN) / (pick(set.get(input.minimalLabel)) ?? NaN)));
  const cpuRatio = medianRatio((burst) => burst?.cpuMicrosPerRequest);
  const mainThreadRatio = medianRatio((burst) => burst?.mainThreadMicrosPerRequest);
  return { ratios, median: median(ratios), ...medianInterval(ratios), cpuRatio, mainThreadRatio };
}

function burstTable(input: GatewayReportInput, directLabel: string): string {
  const labels = [...input.results.keys()];
  const rows = labels.map((label) => {
    const bursts = input.bursts.map((set) => set.get(label));
    const pick = (metric: (burst: NonNullable<(typeof bursts)[number]>) => number | undefined) => median(bursts.map((burst) => (burst ? (metric(burst) ?? NaN) : NaN)));
    const added = median(input.bursts.map((set) => (set.get(label)?.p50 ?? NaN) - (set.get(directLabel)?.p50 ?? NaN)));
    return [
      label,
      integer(pick((burst) => burst.requestsPerSecond)),
      ms(pick((burst) => burst.p50)),
      label === directLabel ? '—' : signedMs(added),
      integer(pick((burst) => burst.cpuMicrosPerRequest)),
      integer(bursts.reduce((total, burst) => total + (burst?.failures ?? 0), 0)),
    ];
  });
  return markdownTable(['target', 'req/s', 'p50 ms', 'added p50 ms', 'proxy CPU µs/req', 'errors + non-2xx'], rows);
}

function burstSection(input: GatewayReportInput, directLabel: string): string[] {
  const ratios = burstRatios(input, directLabel);
  if (!ratios) return [];
  const sorted = [...ratios.ratios].sort((a, b) => a - b);
  const within = ratios.ratios.filter((value) => value <= 1.5).length;
  return [
    `### Paired short bursts: non-stream, ${input.settings.connections} connections, ${input.bursts.length} × ${input.burstSeconds} s per target`,
    '',
    `After the rounds, one burst per target in turn (the order turning each time), repeated: the three bursts of a triplet run within ~${Math.round(3 * input.burstSeconds + 2)} s of each other, so their ratio compares the proxies on (nearly) the same host state. Medians over the triplets.`,
    '',
    burstTable(input, directLabel),
    '',
    `Switchboard's added p50 over the minimal proxy's, triplet by triplet (sorted): ${sorted.map((value) => `${value.toFixed(2)}×`).join(', ')}. Median **${ratios.median.toFixed(2)}×**, 95 % interval of the median ${Number.isFinite(ratios.low) ? `${ratios.low.toFixed(2)}–${ratios.high.toFixed(2)}×` : '— (too few triplets)'}; ${within} of ${ratios.ratios.length} triplets at or under 1.5×. CPU per request, Switchboard over the minimal proxy: median ${ratios.cpuRatio.toFixed(2)}×; of the main thread alone ${ratios.mainThreadRatio.toFixed(2)}×.`,
    '',
  ];
}

function verdicts(input: GatewayReportInput, direct: readonly TargetRound[]): string[] {
  const switchboard = input.results.get(input.switchboardLabel) ?? [];
  const minimal = input.results.get(input.minimalLabel) ?? [];
  const addedSwitchboard = combine(switchboard, p50, direct);
  const addedMinimal = combine(minimal, p50, direct);
  const ratio = addedSwitchboard / addedMinimal;
  // The same ratio round by round: the host's speed drifts within minutes, and the medians of the
  // two targets' added p50 may come from different rounds. Met only if the paired median agrees.
  const roundRatios = switchboard.map((round, index) => {
    const base = direct[index];
    const other = minimal[index];
    return base && other ? (p50(round)! - p50(base)!) / (p50(other)! - p50(base)!) : NaN;
  });
  const pairedRatio = median(roundRatios);
  const roundsOk = addedSwitchboard <= 1.5 * addedMinimal && !(pairedRatio > 1.5);
  // With paired bursts, "met" also needs their median's whole 95 % interval at or under 1.5×.
  const bursts = burstRatios(input, [...input.results.keys()][0] ?? '');
  const latencyVerdict = !roundsOk || (bursts !== undefined && bursts.low > 1.5) ? 'NOT met' : bursts === undefined || bursts.high <= 1.5 ? 'met' : 'not shown';
  const burstsLine = bursts
    ? ` Paired bursts: median ${bursts.median.toFixed(2)}×, 95 % interval ${Number.isFinite(bursts.low) ? `${bursts.low.toFixed(2)}–${bursts.high.toFixed(2)}×` : '— (too few)'}${latencyVerdict === 'not shown' ? ', which does not settle the target either way' : ''}.`
    : '';
  const roundsLine = roundRatios.length > 1 ? ` Round by round: ${roundRatios.map((value) => `${value.toFixed(2)}×`).join(', ')}; their median ${pairedRatio.toFixed(2)}×.` : '';
  const gapDelta = combine(switchboard, gap50, direct);
  // Batching would show as most gaps collapsing to ~0 and the rest doubling. A busy machine also
  // delays a few chunks into one read, through any proxy alike, so the bar is the minimal proxy's share + 1 point.
  const shareSwitchboard = coalescedShare(switchboard);
  const shareMinimal = coalescedShare(minimal);
  const streamOk = Math.abs(gapDelta) <= 1 && !(shareSwitchboard > shareMinimal + 1);
  const lightP50: Metric = (round) => round.light?.latency.p50;
  const lightSwitchboard = combine(switchboard, lightP50, direct);
  const lightMinimal = combine(minimal, lightP50, direct);
  const lightLine = Number.isFinite(lightSwitchboard)
    ? ` At a fixed ${input.settings.lightRate ?? 0} req/s (no queueing) the same comparison is ${signedMs(lightSwitchboard)} ms vs ${signedMs(lightMinimal)} ms (ratio ${(lightSwitchboard / lightMinimal).toFixed(2)}×).`
    : '';
  return [
    `- **Added p50 latency within 1.5× of the minimal proxy:** ${latencyVerdict} — at ${input.settings.connections} connections Switchboard adds ${signedMs(addedSwitchboard)} ms, the minimal proxy ${signedMs(addedMinimal)} ms (ratio ${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'}×).${roundsLine}${burstsLine}${lightLine}`,
    `- **Streaming chunks flushed with no added batching:** ${streamOk ? 'met' : 'NOT met'} — with the upstream sending a chunk every ${input.settings.intervalMs} ms, the client sees gaps of ${ms(combine(switchboard, gap50))} ms p50 / ${ms(combine(switchboard, gap99))} ms p99 through Switchboard vs ${ms(combine(direct, gap50))} / ${ms(combine(direct, gap99))} ms direct; gaps under ${input.settings.intervalMs / 2} ms (chunks batched together): ${shareSwitchboard.toFixed(2)} % through Switchboard, ${shareMinimal.toFixed(2)} % through the minimal proxy, ${coalescedShare(direct).toFixed(2)} % direct.`,
  ];
}

/** BENCHMARKS.md body of the gateway scenario. */
export function renderGatewayReport(input: GatewayReportInput): string {
  const direct = [...input.results.values()][0] ?? [];
  const { settings } = input;
  const rounds = input.roundsCount > 1 ? ` Each figure is the median of ${input.roundsCount} rounds (targets interleaved, their order turning each round); added = through-proxy minus direct in the same round.` : ' Added = through-proxy minus direct at the same load.';
  return [
    `Command: \`${input.command}\``,
    '',
    `Machine: ${input.machine}`,
    '',
    `Every server runs in its own plain-node process on 127.0.0.1: the scripted upstream (bench/servers/upstream.ts), the minimal Node proxy (bench/servers/minimal-proxy.ts: node:http + undici Pool + pipe, the floor for a Node proxy), and Switchboard (${input.switchboardEntry}; a config.yaml upstream, gateway key check on, usage records to SQLite, log level warn). The load generators (autocannon; an undici SSE client) run in the bench process.` + rounds,
    '',
    `### Non-stream: POST /v1/chat/completions, ${settings.connections} connections, ${settings.durationSeconds} s after ${settings.warmupSeconds} s warm-up, upstream answers at once`,
    '',
    nonStreamTable(input, direct),
    '',
    `### Non-stream at a fixed ${settings.lightRate ?? 0} req/s (light load, ${settings.lightSeconds ?? 0} s): the path's own latency, without queueing`,
    '',
    lightTable(input, direct),
    '',
    `### Streaming: ${settings.streams} concurrent streams, ${settings.chunks} chunks ${settings.intervalMs} ms apart, restarted for ${settings.streamSeconds} s`,
    '',
    'TTFB = request sent → first SSE event complete. Gap = arrival time between consecutive chunks at the client.',
    '',
    streamTable(input, direct),
    '',
    '### Event-loop delay during the measured load (p99 / max, ms)',
    '',
    'From monitorEventLoopDelay (10 ms resolution) preloaded into each server (bench/servers/loop-delay-probe.ts). A busy upstream here means the upstream, not the proxy, limited that row.',
    '',
    loopTable(input),
    '',
    ...burstSection(input, [...input.results.keys()][0] ?? ''),
    '### Proxy process memory',
    '',
    markdownTable(['process', 'RSS after start', 'peak RSS (VmHWM) at end'], input.memory.map((row) => [row.label, mib(row.startRssKb), mib(row.peakRssKb)])),
    '',
    '### Against the targets (issue 2)',
    '',
    ...verdicts(input, direct),
  ].join('\n');
}
