/** The options each store subcommand takes, besides `--database` (which they all take). */
const SUBCOMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  'upstream add': ['sk', 'endpoint', 'name', 'profile', 'models'],
  'upstream list': [],
  'upstream remove': [],
  'key add': ['name'],
  'key list': [],
  'key revoke': [],
};

/** Subcommands that take one positional argument (an id); the others take none. */
const TAKES_ID = new Set(['upstream remove', 'key revoke']);

export interface SubcommandArgs {
  readonly options: ReadonlyMap<string, string>;
  readonly positional: readonly string[];
}

/**
 * Splits `--name value` / `--name=value` pairs (one dash works too) for the friendlier
 * subcommands, and refuses what a known subcommand does not take: a typo such as `--endpiont`
 * left `upstream add` on its default endpoint (api.openai.com) holding the user's key.
 * An unknown action is left to the caller, which prints the usage.
 */
export function parseSubcommandArgs(command: string, action: string | undefined, argv: readonly string[]): SubcommandArgs {
  const options = new Map<string, string>();
  const positional: string[] = [];
  const name = `${command} ${action ?? ''}`;
  const known = SUBCOMMAND_OPTIONS[name];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const match = /^--?([\w-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) {
      positional.push(arg);
      continue;
    }
    if (known && match[1] !== 'database' && !known.includes(match[1])) throw new Error(`unknown option ${arg.split('=')[0] ?? arg} for "${name}"${takes(known)}`);
    options.set(match[1], match[2] ?? argv[++index] ?? '');
  }
  const extra = positional[TAKES_ID.has(name) ? 1 : 0];
  if (known && extra !== undefined) throw new Error(`unexpected argument ${JSON.stringify(extra)} for "${name}"${takes(known)}`);
  return { options, positional };
}

function takes(known: readonly string[]): string {
  return ` (it takes ${[...known, 'database'].map((option) => `--${option}`).join(', ')})`;
}
