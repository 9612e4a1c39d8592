/** What `npm run bench` hands every scenario. */
export interface BenchOptions {
  /** `--full`: longer runs and more rounds, for the figures that go into a release. */
  readonly full: boolean;
  /** `--profile DIR`: servers under test write a V8 CPU profile there (node --cpu-prof). */
  readonly profileDir: string | undefined;
  /** Every other `--name value` flag, for scenario-specific knobs (e.g. `--interval-ms 50`). */
  readonly flags: ReadonlyMap<string, string>;
  /** The command line that produced the figures, quoted in BENCHMARKS.md. */
  readonly command: string;
  /** Progress output (stderr); the figures themselves go to BENCHMARKS.md. */
  readonly log: (line: string) => void;
}

/** One scenario's section of BENCHMARKS.md (between its `bench:<name>` markers). */
export interface MarkdownSection {
  /** Heading text, without the `##`. */
  readonly title: string;
  /** Markdown below the heading. */
  readonly body: string;
}

/**
 * A benchmark scenario. Each file in bench/scenarios/ exports one as `scenario`; bench/run.ts
 * finds them by file name, so adding a scenario needs no edit elsewhere.
 */
export interface Scenario {
  /** Equals the file name and the BENCHMARKS.md marker (`<!-- bench:<name>:start -->`). */
  readonly name: string;
  readonly description: string;
  run(options: BenchOptions): Promise<MarkdownSection>;
}

/** Reads a numeric `--flag value`, falling back to a default. */
export function numberFlag(options: BenchOptions, name: string, fallback: number): number {
  const raw = options.flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got ${raw}`);
  return value;
}
