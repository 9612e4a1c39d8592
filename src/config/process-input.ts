/** The one place the process's argv, env and cwd are read (STYLE.md §7). */
export interface ProcessInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly isTTY: boolean;
}

export function readProcessInput(): ProcessInput {
  return { argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), isTTY: process.stdout.isTTY };
}
