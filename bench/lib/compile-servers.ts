import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { repoPath } from './paths.js';

/** Single-file servers in bench/servers/ (they import only node: modules and npm packages). */
export type BenchServer = 'upstream' | 'minimal-proxy' | 'loop-delay-probe';

const OUT_DIR = repoPath('node_modules/.cache/switchboard-bench/servers');

/**
 * The server as plain JavaScript, so it runs under `node` alone: tsx would add a module-hooks
 * thread and ~30 MiB of RSS to every process we measure. Transpiled (no type check: tsc already
 * checks bench/) into node_modules/.cache, again only when the source is newer.
 */
export function compiledBenchServer(name: BenchServer): string {
  const source = repoPath(`bench/servers/${name}.ts`);
  const output = join(OUT_DIR, `${name}.mjs`);
  const isFresh = (() => {
    try {
      return statSync(output).mtimeMs >= statSync(source).mtimeMs;
    } catch {
      return false;
    }
  })();
  if (isFresh) return output;
  const result = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    fileName: source,
  });
  mkdirSync(OUT_DIR, { recursive: true });
  // Write then rename: another bench running at the same time never reads half a file.
  const temp = `${output}.${process.pid}.tmp`;
  writeFileSync(temp, result.outputText);
  renameSync(temp, output);
  return output;
}
