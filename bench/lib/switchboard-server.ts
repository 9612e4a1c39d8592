import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildSwitchboard } from './build-switchboard.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { freePort } from './free-port.js';
import { repoPath } from './paths.js';

export interface SwitchboardServerOptions {
  /** OpenAI base URL of the upstream, e.g. `http://127.0.0.1:9001/v1`. */
  readonly upstreamUrl: string;
  /** Gateway key clients send as `Authorization: Bearer <key>`. */
  readonly gatewayKey: string;
  /** Extra config.yaml content, merged over the bench defaults (e.g. `{ dispatch: {...} }`). */
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string>>;
  /**
   * `build` compiles src/ with tsc into node_modules/.cache and runs that with plain node (as
   * `npm start` does; profiles get the source's line numbers); `src` runs src/main.ts through tsx;
   * `dist` runs dist/main.js as `npm run build` left it. @default "build"
   */
  readonly entry?: SwitchboardEntry;
  /** Run this main.js instead of `entry` (e.g. a patched build, to measure a proposed fix). */
  readonly entryPath?: string | undefined;
  readonly log?: (line: string) => void;
  /** When set, the process writes V8 CPU profiles (node --cpu-prof) there on exit. */
  readonly profileDir?: string | undefined;
  /** Extra node flags (e.g. `--expose-gc`, `--heap-prof`). */
  readonly nodeArgs?: readonly string[];
}

export type SwitchboardEntry = 'src' | 'dist' | 'build';

function entryFile(entry: SwitchboardEntry, log: (line: string) => void): string {
  if (entry === 'dist') return repoPath('dist/main.js');
  if (entry === 'build') return buildSwitchboard(log);
  return repoPath('src/main.ts');
}

export interface SwitchboardServer extends ChildServer {
  /** The temp working directory (config.yaml, SQLite file); removed by stop(). */
  readonly dir: string;
}

/**
 * Switchboard as a user runs it: its own process, `-addr 127.0.0.1:<port>`, a config.yaml in a
 * fresh temp cwd (so the SQLite file lands there too), log level warn so logging does not
 * dominate what we measure.
 */
export async function startSwitchboard(options: SwitchboardServerOptions): Promise<SwitchboardServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const config = {
    log: { level: 'warn' },
    gateway: { upstreams: [{ endpoint: options.upstreamUrl, sk: 'sk-bench' }] },
    ...options.extraConfig,
  };
  writeFileSync(join(dir, 'config.yaml'), stringify(config));
  const port = await freePort();
  // Default file names carry pid and thread id: with tsx, module hooks run on a worker thread that
  // writes its own profile, and the main thread's is CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile.
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  try {
    const server = await startChildServer({
      name: 'switchboard',
      entry: options.entryPath ?? entryFile(options.entry ?? 'build', options.log ?? (() => undefined)),
      args: ['-addr', `127.0.0.1:${port}`],
      env: { AUTHORIZATION: options.gatewayKey, ...options.env },
      cwd: dir,
      port,
      nodeArgs: [...profile, ...(options.nodeArgs ?? [])],
    });
    return {
      ...server,
      dir,
      async stop(graceMs) {
        const code = await server.stop(graceMs);
        rmSync(dir, { recursive: true, force: true });
        return code;
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
