/**
 * `npm run bench:ab -- --rev 61e2acf --rev HEAD [--rounds 3] [--seconds 5] [--light | --stream | --paired]`
 *
 * A revision may carry node flags for its Switchboard after `+`: `--rev '.+--max-semi-space-size=32'`
 * or `--rev 'HEAD+--cpu-prof+--cpu-prof-dir=/tmp/p'`.
 *
 * Before/after on a shared machine: Switchboard built from each git revision (or the working
 * tree, `--rev .`) runs beside the minimal Node proxy and the scripted upstream, and every round
 * measures each of them in turn, alternating the order, so background load hits all of them
 * alike. Prints medians of req/s, p50, added p50 over the direct path and CPU per request; the
 * ratio is against the minimal proxy of the same rounds. Closed-loop at 50 connections, or a
 * fixed 200 req/s with `--light`, or with `--stream` 50 concurrent SSE streams of 20 chunks 5 ms
 * apart (streams/s, time to first byte, CPU per event: the per-chunk cost of the stream path).
 * `'--minimal-flags=--cpu-prof --cpu-prof-dir=/tmp/m'` (with `=`: the value starts with dashes) passes node flags to the
 * minimal proxy. Writes nothing to BENCHMARKS.md.
 *
 * `--paired`: every round loads all the Switchboard builds at the same time (the connections
 * shared among them) and compares each build's CPU per request, whole process and main thread,
 * with the first build's in that same round. On a host whose speed drifts by 2× within minutes
 * (BENCHMARKS.md, gateway section, session 15), builds measured one after another meet different
 * machines; builds measured together meet the same moment, though not always the same core (two
 * paired runs of the same builds have disagreed by ~15 %). The minimal proxy is not loaded then.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUILD_CACHE, buildSwitchboard, compileSwitchboard } from './lib/build-switchboard.js';
import { startChildServer, type ChildServer } from './lib/child-server.js';
import { compiledBenchServer } from './lib/compile-servers.js';
import { freePort } from './lib/free-port.js';
import { runHttpLoad } from './lib/http-load.js';
import { runPacedLoad } from './lib/paced-load.js';
import { CHAT_BODY, STREAM_BODY } from './lib/proxy-comparison.js';
import { runSseLoad } from './lib/sse-load.js';
import { repoPath } from './lib/paths.js';
import { startSwitchboard } from './lib/switchboard-server.js';
import { median } from './lib/stats.js';

const CHAT_PATH = '/v1/chat/completions';
const GATEWAY_KEY = 'bench-key';

const { values } = parseArgs({
  options: {
    rev: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    light: { type: 'boolean', default: false },
    stream: { type: 'boolean', default: false },
    paired: { type: 'boolean', default: false },
    'minimal-flags': { type: 'string', default: '' },
  },
});
if (values.rev.length === 0) throw new Error('usage: npm run bench:ab -- --rev A --rev B [--rounds 3] [--seconds 5] [--light | --stream | --paired]');
if (values.light && values.stream) throw new Error('--light and --stream measure different things; pick one');
if (values.paired && (values.light || values.stream || values.rev.length < 2)) throw new Error('--paired loads two or more builds at once, closed-loop; not with --light or --stream');
/** Stream mode: chunks per answer and the upstream's pause between them (short, so per-event cost shows). */
const STREAM_CHUNKS = 20;
const STREAM_INTERVAL_MS = 5;
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

/** main.js of `rev` compiled with tsc (the working tree for `.`); a revision's build is kept and reused. */
function buildRevision(rev: string): string {
  const log = (line: string) => console.error(line);
  if (rev === '.') return buildSwitchboard(log);
  const commit = execFileSync('git', ['rev-parse', '--short', rev], { cwd: repoPath('.'), encoding: 'utf8' }).trim();
  const outDir = join(BUILD_CACHE, `ab-build-${commit}`);
  if (existsSync(join(outDir, 'main.js'))) return join(outDir, 'main.js');
  // The revision's sources go under node_modules/.cache too, so tsc resolves this tree's packages.
  const sourceDir = join(BUILD_CACHE, `ab-src-${commit}`);
  rmSync(sourceDir, { recursive: true, force: true });
  mkdirSync(sourceDir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} src tsconfig.json tsconfig.build.json | tar -x -C '${sourceDir}'`], { cwd: repoPath('.') });
  return compileSwitchboard(sourceDir, outDir, log);
}

interface Row {
  readonly label: string;
  readonly server: ChildServer;
  readonly headers: Record<string, string>;
  readonly rps: number[];
  readonly p50: number[];
  readonly cpu: number[];
  /** The main thread's (event loop's) share of `cpu`. */
  readonly mainCpu: number[];
}

/** One measurement: rate (req/s or streams/s), p50 (latency or TTFB) and the work it is counted in. */
interface Sample {
  readonly rate: number;
  readonly p50: number;
  /** Requests, or events for streams (chunks and [DONE]): what the CPU is divided by. */
  readonly units: number;
}

async function load(origin: string, headers: Record<string, string>, durationSeconds: number): Promise<Sample> {
  if (values.stream) {
    const sse = { origin, path: CHAT_PATH, headers, body: STREAM_BODY, concurrency: connections, expectedEvents: STREAM_CHUNKS, intervalMs: STREAM_INTERVAL_MS, maxStreams: Number.MAX_SAFE_INTEGER };
    const result = await runSseLoad({ ...sse, durationMs: durationSeconds * 1000 });
    if (result.errors > 0) throw new Error(`${origin}: ${result.errors} stream errors, first: ${result.firstError ?? '?'}`);
    return { rate: result.streamsPerSecond, p50: result.ttfb.p50, units: result.streams * (STREAM_CHUNKS + 1) };
  }
  const all = { ...headers, 'content-type': 'application/json' };
  const result = values.light
    ? await runPacedLoad({ origin, path: CHAT_PATH, headers: all, body: CHAT_BODY, rate: 200, durationSeconds, maxRequests: Number.MAX_SAFE_INTEGER })
    : await runHttpLoad({ url: `${origin}${CHAT_PATH}`, headers: all, body: CHAT_BODY, connections, durationSeconds, maxRequests: Number.MAX_SAFE_INTEGER });
  return { rate: result.requestsPerSecond, p50: result.latency.p50, units: result.requests };
}

const UNIT = values.stream ? 'event' : 'req';

async function measure(row: Row): Promise<void> {
  await load(row.server.origin, row.headers, 1);
  const cpuBefore = row.server.cpuSeconds() ?? 0;
  const mainBefore = row.server.mainThreadCpuSeconds() ?? 0;
  const result = await load(row.server.origin, row.headers, seconds);
  const cpu = (((row.server.cpuSeconds() ?? 0) - cpuBefore) * 1e6) / Math.max(1, result.units);
  const mainCpu = (((row.server.mainThreadCpuSeconds() ?? 0) - mainBefore) * 1e6) / Math.max(1, result.units);
  row.rps.push(result.rate);
  row.p50.push(result.p50);
  row.cpu.push(cpu);
  row.mainCpu.push(mainCpu);
  console.error(`   ${row.label}: ${Math.round(result.rate)} ${values.stream ? 'streams' : 'req'}/s, ${values.stream ? 'TTFB ' : ''}p50 ${result.p50.toFixed(2)} ms, ${Math.round(cpu)} µs CPU/${UNIT} (main thread ${Math.round(mainCpu)})`);
}

async function directP50(upstream: ChildServer): Promise<number> {
  return (await load(upstream.origin, {}, seconds)).p50;
}

/** One round of --paired: every build under load at once, `connections` shared among them. */
async function measureTogether(targets: readonly Row[]): Promise<void> {
  const share = Math.max(1, Math.floor(connections / targets.length));
  const run = (row: Row, durationSeconds: number) =>
    runHttpLoad({ url: `${row.server.origin}${CHAT_PATH}`, headers: { ...row.headers, 'content-type': 'application/json' }, body: CHAT_BODY, connections: share, durationSeconds, maxRequests: Number.MAX_SAFE_INTEGER });
  await Promise.all(targets.map((row) => run(row, 1)));
  const before = targets.map((row) => ({ cpu: row.server.cpuSeconds() ?? 0, main: row.server.mainThreadCpuSeconds() ?? 0 }));
  const results = await Promise.all(targets.map((row) => run(row, seconds)));
  targets.forEach((row, index) => {
    const result = results[index];
    const start = before[index];
    if (!result || !start) return;
    const requests = Math.max(1, result.requests);
    row.rps.push(result.requestsPerSecond);
    row.p50.push(result.latency.p50);
    row.cpu.push((((row.server.cpuSeconds() ?? 0) - start.cpu) * 1e6) / requests);
    row.mainCpu.push((((row.server.mainThreadCpuSeconds() ?? 0) - start.main) * 1e6) / requests);
  });
  console.error(`   ${targets.map((row) => `${row.label}: ${Math.round(row.cpu.at(-1) ?? 0)} µs CPU/req (main ${Math.round(row.mainCpu.at(-1) ?? 0)})`).join(' | ')}`);
}

/** --paired: per round, each build's CPU per request over the first build's; medians of those ratios. */
async function comparePaired(targets: readonly Row[]): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    console.error(`-- round ${round + 1}/${rounds}`);
    await measureTogether(targets);
  }
  const first = targets[0];
  if (!first) return;
  const ratios = (row: Row, pick: (target: Row) => number[]) => pick(row).map((value, round) => value / (pick(first)[round] ?? value));
  console.log(`${targets.length} builds loaded together, ${connections} connections shared, ${rounds} rounds of ${seconds} s; ratios against ${first.label} in the same round`);
  console.log('| target | req/s | CPU µs/req | × first, per round | × first (median) | main thread µs/req | × first, per round | × first (median) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const row of targets) {
    const cpu = ratios(row, (target) => target.cpu);
    const main = ratios(row, (target) => target.mainCpu);
    const list = (values: number[]) => values.map((value) => value.toFixed(2)).join(', ');
    console.log(`| ${row.label} | ${Math.round(median(row.rps))} | ${Math.round(median(row.cpu))} | ${list(cpu)} | ${median(cpu).toFixed(3)} | ${Math.round(median(row.mainCpu))} | ${list(main)} | ${median(main).toFixed(3)} |`);
  }
}

const builds = values.rev.map((spec) => {
  const [rev = '.', ...nodeArgs] = spec.split('+');
  return { rev: spec, main: buildRevision(rev), nodeArgs };
});
const servers: ChildServer[] = [];
try {
  const upstreamPort = await freePort();
  const streamArgs = values.stream ? ['--chunks', String(STREAM_CHUNKS), '--interval-ms', String(STREAM_INTERVAL_MS)] : [];
  const upstream = await startChildServer({ name: 'upstream', entry: compiledBenchServer('upstream'), args: ['--port', String(upstreamPort), ...streamArgs], port: upstreamPort, probe: false });
  servers.push(upstream);
  const minimalPort = await freePort();
  const minimal = await startChildServer({ name: 'minimal-proxy', entry: compiledBenchServer('minimal-proxy'), args: ['--port', String(minimalPort), '--upstream', upstream.origin], port: minimalPort, probe: false, nodeArgs: values['minimal-flags'].split(' ').filter(Boolean) });
  servers.push(minimal);
  const rows: Row[] = [{ label: 'minimal proxy', server: minimal, headers: {}, rps: [], p50: [], cpu: [], mainCpu: [] }];
  for (const build of builds) {
    const server = await startSwitchboard({ upstreamUrl: `${upstream.origin}/v1`, gatewayKey: GATEWAY_KEY, entryPath: build.main, nodeArgs: build.nodeArgs });
    servers.push(server);
    rows.push({ label: `Switchboard ${build.rev}`, server, headers: { authorization: `Bearer ${GATEWAY_KEY}` }, rps: [], p50: [], cpu: [], mainCpu: [] });
  }
  if (values.paired) await comparePaired(rows.slice(1));
  else {
    const direct: number[] = [];
    for (let round = 0; round < rounds; round++) {
      console.error(`-- round ${round + 1}/${rounds}`);
      direct.push(await directP50(upstream));
      for (const row of round % 2 === 0 ? rows : [...rows].reverse()) await measure(row);
    }
    const directMedian = median(direct);
    const minimalAdded = median(rows[0]?.p50 ?? []) - directMedian;
    const mode = values.stream ? `${connections} concurrent streams of ${STREAM_CHUNKS} chunks ${STREAM_INTERVAL_MS} ms apart` : values.light ? 'fixed 200 req/s' : `${connections} connections`;
    console.log(`${mode}, ${rounds} rounds of ${seconds} s, medians; direct ${values.stream ? 'TTFB ' : ''}p50 ${directMedian.toFixed(2)} ms`);
    console.log(values.stream ? '| target | streams/s | TTFB p50 ms | added TTFB p50 ms | × minimal | CPU µs/event | of it, main thread |' : '| target | req/s | p50 ms | added p50 ms | × minimal | CPU µs/req | of it, main thread |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const row of rows) {
      const added = median(row.p50) - directMedian;
      console.log(`| ${row.label} | ${Math.round(median(row.rps))} | ${median(row.p50).toFixed(2)} | ${added.toFixed(2)} | ${(added / minimalAdded).toFixed(2)} | ${Math.round(median(row.cpu))} | ${Math.round(median(row.mainCpu))} |`);
    }
  }
} finally {
  for (const server of servers.reverse()) await server.stop();
}
