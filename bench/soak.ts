/**
 * `npm run soak [-- --full] [--no-write] [--minutes N]`: RELIABILITY §3.4 L1–L3 and S1.
 *
 * Switchboard runs as users run it (compiled, its own process, SQLite records) with --expose-gc;
 * two scripted upstreams and the load run here. Every request goes through the ledger client, so
 * the run ends with the ledger verdict (§3.2) next to the memory figures (R6): heap after a forced
 * GC at the start and end of the measured window, RSS slope over its last 2/3, open fds.
 * Default sizes are CI-safe (~2 min); --full runs the documented sizes (S1 = L3 for 30 min).
 * Every loop is capped in time and count. Writes the `soak` section of BENCHMARKS.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { stringify } from 'yaml';
import { checkLedger } from '../test/support/ledger.js';
import { startScriptedUpstream, type ScriptedUpstream } from '../test/support/scripted-upstream.js';
import { TEST_KEY } from '../test/support/test-key.js';
import { buildSwitchboard } from './lib/build-switchboard.js';
import { startChildServer } from './lib/child-server.js';
import { freePort } from './lib/free-port.js';
import { machineLine } from './lib/machine.js';
import { markdownTable } from './lib/markdown.js';
import { soakScript } from './lib/soak-script.js';
import { closeIdleConnections, closedLoop, pacedLoop, soakDispatcher, type SoakClient } from './lib/soak-load.js';
import { openFds, readRuntime, rssSlopeMiBPerMinute, startSampler } from './lib/soak-memory.js';
import { repoPath } from './lib/paths.js';
import { writeBenchmarks } from './write-benchmarks.js';

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const write = !argv.includes('--no-write');
const minutesFlag = argv.indexOf('--minutes');
/** Sizes: RELIABILITY §3.4 with --full, a CI-safe cut otherwise. */
const SIZES = full
  ? { l1Seconds: 30, l1Connections: 64, l2Seconds: 120, l2Streams: 500, l2Chunks: 100, l3Seconds: 180, l3Streams: 200, l3Rate: 100, s1Minutes: 30, sampleMs: 10_000 }
  : { l1Seconds: 10, l1Connections: 16, l2Seconds: 20, l2Streams: 50, l2Chunks: 20, l3Seconds: 60, l3Streams: 50, l3Rate: 50, s1Minutes: 0, sampleMs: 2_000 };
const s1Minutes = minutesFlag === -1 ? SIZES.s1Minutes : Number(argv[minutesFlag + 1]);
const CHUNK_INTERVAL_MS = 50;
const MAX_REQUESTS_PER_PHASE = 2_000_000;

async function main(): Promise<void> {
  const machine = machineLine();
  const upstreams = await Promise.all(['a', 'b'].map((name) => startScriptedUpstream({ name, slim: true })));
  for (const upstream of upstreams) upstream.setFallback(soakScript({ intervalMs: CHUNK_INTERVAL_MS, faultEvery: 20 }));
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-soak-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    stringify({
      log: { level: 'warn' },
      server: { maxInFlight: 8_192 },
      gateway: {
        policy: 'round_robin',
        upstreams: upstreams.map((upstream, index) => ({ endpoint: `${upstream.url}/v1`, sk: `sk-soak-${index}` })),
        timeouts: { connectMs: 1_000, firstByteMs: 5_000, idleMs: 1_000 },
      },
    }),
  );
  const port = await freePort();
  const gateway = await startChildServer({ name: 'switchboard', entry: buildSwitchboard((line) => console.error(line)), args: ['-addr', `127.0.0.1:${port}`], env: { AUTHORIZATION: TEST_KEY }, cwd: dir, port, nodeArgs: ['--expose-gc'] });
  const client: SoakClient = { url: gateway.origin, entries: [], dispatcher: soakDispatcher() };
  const started = Date.now();
  try {
    const log = (line: string) => console.error(`[soak ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
    log(`warm-up (gateway pid ${gateway.pid})`);
    await closedLoop(client, { phase: 'warm', concurrency: 8, until: Date.now() + 5_000, maxRequests: 50_000, stream: false, content: 'chunks=5' });
    const baselineFds = await settledFds(client, gateway.pid);
    const baseline = await readRuntime(gateway.origin, TEST_KEY, true);
    const sampler = startSampler({ origin: gateway.origin, key: TEST_KEY, pid: gateway.pid, intervalMs: SIZES.sampleMs });
    const measuredFrom = Date.now();

    log(`L1: ${SIZES.l1Connections} connections, non-stream, ${SIZES.l1Seconds} s`);
    const l1 = await closedLoop(client, { phase: 'l1', concurrency: SIZES.l1Connections, until: Date.now() + SIZES.l1Seconds * 1000, maxRequests: MAX_REQUESTS_PER_PHASE, stream: false, content: 'chunks=5' });
    log(`L2: ${SIZES.l2Streams} streams of ${SIZES.l2Chunks} chunks, ${SIZES.l2Seconds} s`);
    const l2 = await closedLoop(client, { phase: 'l2', concurrency: SIZES.l2Streams, until: Date.now() + SIZES.l2Seconds * 1000, maxRequests: MAX_REQUESTS_PER_PHASE, stream: true, content: `chunks=${SIZES.l2Chunks}` });
    const l3Seconds = SIZES.l3Seconds + s1Minutes * 60;
    log(`L3${s1Minutes > 0 ? ' + S1' : ''}: ${SIZES.l3Streams} streams + ${SIZES.l3Rate} req/s, 5 % faults, ${l3Seconds} s`);
    const l3Until = Date.now() + l3Seconds * 1000;
    const [l3Streams, l3Plain] = await Promise.all([
      closedLoop(client, { phase: 'l3s', concurrency: SIZES.l3Streams, until: l3Until, maxRequests: MAX_REQUESTS_PER_PHASE, stream: true, content: 'chunks=20;faults=on' }),
      pacedLoop(client, { phase: 'l3p', ratePerSecond: SIZES.l3Rate, until: l3Until, maxRequests: MAX_REQUESTS_PER_PHASE, maxInFlight: SIZES.l3Rate * 5, content: 'chunks=5;faults=on' }),
    ]);
    const minutes = (Date.now() - measuredFrom) / 60_000;
    sampler.stop();
    log('drain, then GC');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const endFds = await settledFds(client, gateway.pid);
    const end = await readRuntime(gateway.origin, TEST_KEY, true);

    const rows = readRows(join(dir, 'data/switchboard.sqlite'));
    const verdict = checkLedger({ client: client.entries, upstream: upstreams.flatMap((upstream) => upstream.requests), rows });
    console.error(verdict.report);
    const tail = sampler.samples.slice(Math.floor(sampler.samples.length / 3));
    const figures = {
      requests: client.entries.length,
      streams: client.entries.filter((entry) => entry.stream).length,
      minutes,
      heapStart: baseline.heapUsedMiB,
      heapEnd: end.heapUsedMiB,
      rssSlope: rssSlopeMiBPerMinute(tail),
      rssMax: Math.max(...sampler.samples.map((sample) => sample.rssMiB)),
      fdsStart: baselineFds,
      fdsEnd: endFds,
      retries: rows.filter((row) => row.attempts > 1).length,
      violations: verdict.violations.length,
      gcRan: baseline.collected && end.collected,
    };
    const phases = { l1, l2, l3Streams, l3Plain: l3Plain.sent, skipped: l3Plain.skipped };
    const section = renderSoak({ machine, figures, phases, verdictLines: verdict.report.split('\n').filter((line) => !/ {4}0 {2}$/.test(line)) });
    console.log(`\n## ${section.title}\n\n${section.body}\n`);
    if (write) writeBenchmarks(repoPath('BENCHMARKS.md'), 'soak', section);
    if (verdict.violations.length > 0 || !gatesPass(figures)) process.exitCode = 1;
  } finally {
    await gateway.stop(15_000);
    await Promise.all(upstreams.map((upstream: ScriptedUpstream) => upstream.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Upstream sockets idle in Switchboard's pools close within this (the upstreams' 5 s keep-alive). */
const IDLE_SOCKET_SETTLE_MS = 6_000;

/** Open fds of the gateway with the load's keep-alive sockets closed and idle upstream sockets gone. */
async function settledFds(client: SoakClient, pid: number): Promise<number> {
  await closeIdleConnections(client);
  await new Promise((resolve) => setTimeout(resolve, IDLE_SOCKET_SETTLE_MS));
  return openFds(pid);
}

interface RowFigures {
  id: string;
  outcome: string;
  status: number;
  completion_tokens: number | null;
  usage_estimated: number;
  attempts: number;
}

function readRows(file: string): RowFigures[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    // The soak's requests carry x-request-id soak-…: the records keep it as client_request_id.
    return db.prepare("select client_request_id as id, outcome, status, completion_tokens, usage_estimated, attempts from records where client_request_id like 'soak-%'").all() as RowFigures[];
  } finally {
    db.close();
  }
}

interface Figures {
  requests: number;
  streams: number;
  minutes: number;
  heapStart: number;
  heapEnd: number;
  rssSlope: number;
  rssMax: number;
  fdsStart: number;
  fdsEnd: number;
  retries: number;
  violations: number;
  gcRan: boolean;
}

/** R6: heap after GC ≤ start + 10 % and + ≤ 16 MiB; RSS slope ≤ 1 MiB/min; fds back to baseline ± 5. */
function gateResults(figures: Figures): [string, boolean][] {
  return [
    ['heap end ≤ start × 1.10 and ≤ start + 16 MiB', figures.heapEnd <= figures.heapStart * 1.1 || figures.heapEnd - figures.heapStart <= 16],
    ['RSS slope over the last 2/3 ≤ 1 MiB/min', !(figures.rssSlope > 1)],
    ['open fds back to baseline ± 5', Math.abs(figures.fdsEnd - figures.fdsStart) <= 5],
    ['ledger violations = 0', figures.violations === 0],
  ];
}

function gatesPass(figures: Figures): boolean {
  return gateResults(figures).every(([, ok]) => ok);
}

function renderSoak(input: { machine: string; figures: Figures; phases: Record<string, number>; verdictLines: string[] }): { title: string; body: string } {
  const { figures } = input;
  const mib = (value: number) => `${value.toFixed(1)} MiB`;
  const table = markdownTable(
    ['requests', 'streams', 'minutes', 'heap start (after GC)', 'heap end (after GC)', 'RSS slope (last 2/3)', 'RSS max', 'fds start → end', 'retried', 'violations'],
    [[figures.requests.toLocaleString('en-US'), figures.streams.toLocaleString('en-US'), figures.minutes.toFixed(1), mib(figures.heapStart), mib(figures.heapEnd), `${figures.rssSlope.toFixed(2)} MiB/min`, mib(figures.rssMax), `${figures.fdsStart} → ${figures.fdsEnd}`, `${figures.retries} (${((figures.retries / Math.max(1, figures.requests)) * 100).toFixed(1)} %)`, String(figures.violations)]],
  );
  const gates = markdownTable(['gate (RELIABILITY R6/R1)', 'result'], gateResults(figures).map(([name, ok]) => [name, ok ? 'pass' : '**FAIL**']));
  const phases = Object.entries(input.phases).map(([name, count]) => `${name} ${count.toLocaleString('en-US')}`).join(', ');
  const size = full ? 'full sizes (`--full`)' : 'CI-safe sizes';
  return {
    title: 'Soak: L1–L3 and S1 with the ledger verdict',
    body: [
      `Command: \`npm run soak${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\` (${size}). Machine: ${input.machine}.`,
      '',
      `Switchboard compiled and run with \`node --expose-gc\` in its own process (SQLite records, log level warn); two scripted upstreams and the load in the soak process, 5 % of upstream answers faulted in L3 (503 before headers, a stall or a reset mid-stream). Heap figures are \`process.memoryUsage().heapUsed\` right after \`global.gc()\` (via \`/admin/debug/runtime?gc=1\`); RSS from /proc every ${SIZES.sampleMs / 1000} s. Requests per phase: ${phases}.${input.figures.gcRan ? '' : ' (GC was not available: heap figures are without a forced collection.)'}`,
      '',
      table,
      '',
      gates,
      '',
      'Ledger (RELIABILITY §3.2; classes with a count):',
      '',
      '```',
      ...input.verdictLines,
      '```',
    ].join('\n'),
  };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
