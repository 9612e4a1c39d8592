/**
 * `npm run bench [-- --only gateway,broker --full --profile DIR --no-write --<knob> <value>]`
 *
 * Runs every scenario in bench/scenarios/ (or the `--only` ones) and rewrites each one's section
 * of BENCHMARKS.md. A scenario is a file exporting `scenario: Scenario` (bench/lib/scenario.ts);
 * adding one needs no edit here.
 */
import { readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchOptions, Scenario } from './lib/scenario.js';
import { REPO_ROOT, repoPath } from './lib/paths.js';
import { writeBenchmarks } from './write-benchmarks.js';

const USAGE = `usage: npm run bench -- [--only a,b] [--full] [--profile DIR] [--no-write] [--<knob> <value>]
scenarios: one per file in bench/scenarios/`;

interface Cli {
  readonly only: readonly string[] | undefined;
  readonly write: boolean;
  readonly options: BenchOptions;
}

function parseCli(argv: readonly string[]): Cli {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (let index = 0; index < argv.length; index++) {
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(argv[index] ?? '');
    if (!match?.[1]) throw new Error(`unexpected argument ${argv[index] ?? ''}\n${USAGE}`);
    const name = match[1];
    if (['full', 'no-write', 'help'].includes(name)) switches.add(name);
    else flags.set(name, match[2] ?? argv[++index] ?? '');
  }
  if (switches.has('help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const only = flags.get('only')?.split(',').map((name) => name.trim()).filter(Boolean);
  const profileDir = flags.get('profile');
  flags.delete('only');
  flags.delete('profile');
  return {
    only,
    write: !switches.has('no-write'),
    options: {
      full: switches.has('full'),
      profileDir: profileDir === undefined ? undefined : resolve(REPO_ROOT, profileDir),
      flags,
      command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
      log: (line) => process.stderr.write(`${line}\n`),
    },
  };
}

function isScenario(value: unknown): value is Scenario {
  const candidate = value as Partial<Scenario> | undefined;
  return typeof candidate?.name === 'string' && typeof candidate.run === 'function';
}

async function loadScenarios(only: readonly string[] | undefined): Promise<Scenario[]> {
  const directory = repoPath('bench/scenarios');
  const names = readdirSync(directory).filter((file) => file.endsWith('.ts')).map((file) => basename(file, '.ts')).sort();
  const unknown = only?.filter((name) => !names.includes(name)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (have: ${names.join(', ')})`);
  const scenarios: Scenario[] = [];
  for (const name of names.filter((candidate) => only?.includes(candidate) ?? true)) {
    const module = (await import(pathToFileURL(`${directory}/${name}.ts`).href)) as { scenario?: unknown };
    if (!isScenario(module.scenario) || module.scenario.name !== name) throw new Error(`bench/scenarios/${name}.ts must export \`scenario\` named "${name}"`);
    scenarios.push(module.scenario);
  }
  return scenarios;
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  const scenarios = await loadScenarios(cli.only);
  const benchmarksFile = repoPath('BENCHMARKS.md');
  for (const scenario of scenarios) {
    cli.options.log(`== ${scenario.name}: ${scenario.description}`);
    const section = await scenario.run(cli.options);
    console.log(`\n## ${section.title}\n\n${section.body}\n`);
    if (cli.write) {
      writeBenchmarks(benchmarksFile, scenario.name, section);
      cli.options.log(`BENCHMARKS.md: section bench:${scenario.name} rewritten`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
