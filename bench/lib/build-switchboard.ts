import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from './paths.js';

/** Where builds go: under node_modules, so a build's own imports resolve to the repository's packages. */
export const BUILD_CACHE = repoPath('node_modules/.cache/switchboard-bench');
let built: string | undefined;

/**
 * Compiles the project whose tsconfig.build.json sits in `projectDir` into `outDir` and returns
 * its main.js. tsc emits even when some file has a type error; that only warns.
 */
export function compileSwitchboard(projectDir: string, outDir: string, log: (line: string) => void): string {
  const result = spawnSync(process.execPath, [repoPath('node_modules/typescript/bin/tsc'), '-p', join(projectDir, 'tsconfig.build.json'), '--outDir', outDir], {
    cwd: projectDir,
    encoding: 'utf8',
    timeout: 180_000,
  });
  // Modules that find their assets at `../../src/...` from the build (browser/web) find them through this link.
  const sourceLink = join(BUILD_CACHE, 'src');
  if (!existsSync(sourceLink)) symlinkSync(repoPath('src'), sourceLink, 'dir');
  const main = join(outDir, 'main.js');
  if (!existsSync(main)) throw new Error(`tsc did not produce ${main}:\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) log(`   tsc reported errors (emitted anyway):\n${result.stdout.split('\n').slice(0, 10).join('\n')}`);
  return main;
}

/**
 * Compiles src/ with tsc into node_modules/.cache (never into dist/, which `npm run build` owns),
 * so Switchboard runs as plain JS with the source's line numbers, which CPU profiles need.
 * One directory per bench process (several benches may run at once), removed when it exits;
 * compiled once per process.
 */
export function buildSwitchboard(log: (line: string) => void): string {
  if (built) return built;
  const outDir = join(BUILD_CACHE, `build-${process.pid}`);
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  built = compileSwitchboard(repoPath('.'), outDir, log);
  return built;
}
