import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { canConnect } from '../../test/support/services.js';
import { procCpuSeconds, procMainThreadCpuSeconds, procStatusKb } from './proc.js';
import { compiledBenchServer } from './compile-servers.js';
import { TSX_LOADER } from './paths.js';

export interface ChildServerOptions {
  /** Shown in progress lines and errors. */
  readonly name: string;
  /** A TypeScript (run through tsx) or JavaScript entry file, absolute. */
  readonly entry: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Loopback port the server will listen on; readiness = a TCP connect succeeds. */
  readonly port: number;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
  /** @default 60 s (tsx compiles Switchboard on first start). */
  readonly readyTimeoutMs?: number;
  /** Preload bench/servers/loop-delay-probe.ts (compiled) so `loopDelay()` can read the server's event-loop delay. @default true */
  readonly probe?: boolean;
}

/** Event-loop delay of a server since the last reset, ms (monitorEventLoopDelay, 10 ms resolution). */
export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** A server under test in its own process, so it never shares the load generator's event loop. */
export interface ChildServer {
  readonly name: string;
  readonly pid: number;
  readonly origin: string;
  /** Peak resident set size so far (VmHWM), in KiB. */
  peakRssKb(): number | undefined;
  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number | undefined;
  /** CPU seconds of the main thread (the event loop) alone. */
  mainThreadCpuSeconds(): number | undefined;
  /** Event-loop delay since the last reset (undefined without the probe or if it does not answer in 1 s). */
  loopDelay(options: { reset: boolean }): Promise<LoopDelay | undefined>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

const STDERR_TAIL_CHARS = 8_192;
const PROBE_TIMEOUT_MS = 1_000;
const POLL_MS = 50;


async function waitForPort(child: ChildProcess, options: ChildServerOptions, stderr: () => string): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  const maxPolls = Math.ceil((options.readyTimeoutMs ?? 60_000) / POLL_MS) + 1;
  for (let poll = 0; poll < maxPolls && Date.now() < deadline; poll++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.name} exited (${String(child.exitCode ?? child.signalCode)}) before listening:\n${stderr()}`);
    }
    if (await canConnect(options.port)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  child.kill('SIGKILL');
  throw new Error(`${options.name} did not listen on 127.0.0.1:${options.port} in time:\n${stderr()}`);
}

let nextProbeId = 1;

function askLoopDelay(child: ChildProcess, reset: boolean): Promise<LoopDelay | undefined> {
  if (!child.connected) return Promise.resolve(undefined);
  const id = nextProbeId++;
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      const reply = message as (LoopDelay & { type?: string; id?: number }) | null;
      if (reply?.type !== 'bench:loop-delay' || reply.id !== id) return;
      finish({ p50: reply.p50, p99: reply.p99, max: reply.max });
    };
    const timer = setTimeout(() => finish(undefined), PROBE_TIMEOUT_MS);
    const finish = (value: LoopDelay | undefined) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(value);
    };
    child.on('message', onMessage);
    child.send({ type: 'bench:loop-delay', id, reset }, (error) => {
      if (error) finish(undefined);
    });
  });
}

/** Starts `node [--import tsx] entry args` and resolves once its port accepts connections. */
export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const probe = options.probe ?? true;
  const loader = /\.[cm]?tsx?$/.test(options.entry) ? ['--import', TSX_LOADER] : [];
  const preload = probe ? ['--import', compiledBenchServer('loop-delay-probe')] : [];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, ...preload, options.entry, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe', ...(probe ? (['ipc'] as const) : [])],
  });
  // Never let the channel keep the bench alive, nor an exited child's channel throw.
  child.channel?.unref();
  child.on('error', () => undefined);
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} could not be spawned`);
  await waitForPort(child, options, () => stderrTail);
  return {
    name: options.name,
    pid,
    origin: `http://127.0.0.1:${options.port}`,
    peakRssKb: () => procStatusKb(pid, 'VmHWM'),
    cpuSeconds: () => procCpuSeconds(pid),
    mainThreadCpuSeconds: () => procMainThreadCpuSeconds(pid),
    loopDelay: (request) => askLoopDelay(child, request.reset),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      if (code !== 0 && code !== null && stderrTail) process.stderr.write(`[${options.name}] exit ${code}:\n${stderrTail}\n`);
      return code;
    },
  };
}
