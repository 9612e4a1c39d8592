import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from './paths.js';

const CACHE = repoPath('node_modules/.cache/switchboard-bench');
let built: string | undefined;

/**
 * Compiles src/ with tsc into node_modules/.cache (never into dist/, which `npm run build` owns),
 * so Switchboard runs as plain JS with the source's line numbers, which CPU profiles need.
 * One directory per bench process (several benches may run at once), removed when it exits;
 * compiled once per process. tsc emits even when some file has a type error; that only warns.
 */
export function buildSwitchboard(log: (line: string) => void): string {
  if (built) return built;
  const outDir = join(CACHE, `build-${process.pid}`);
  // Modules that find their assets at `../../src/...` from the build (browser/web) find them through this link.
  const sourceLink = join(CACHE, 'src');
  const result = spawnSync(process.execPath, [repoPath('node_modules/typescript/bin/tsc'), '-p', repoPath('tsconfig.build.json'), '--outDir', outDir], {
    cwd: repoPath('.'),
    encoding: 'utf8',
    timeout: 180_000,
  });
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  if (!existsSync(sourceLink)) symlinkSync(repoPath('src'), sourceLink, 'dir');
  const main = join(outDir, 'main.js');
  if (!existsSync(main)) throw new Error(`tsc did not produce ${main}:\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) log(`   tsc reported errors (emitted anyway):\n${result.stdout.split('\n').slice(0, 10).join('\n')}`);
  built = main;
  return main;
}
