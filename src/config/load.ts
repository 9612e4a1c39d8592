import type { z } from 'zod';
import { displayEndpoint } from '../platform/upstream-endpoint.js';
import { RawConfig, deepFreeze } from './raw-config.js';
import { configSchema, type Config } from './schema.js';
import { SECRET_PATH } from './seed-aliases.js';
import { ConfigError, applyEnv, applyFlags, applyYaml, configFileFrom, readDotEnv } from './sources.js';

export { ConfigError } from './sources.js';

export interface LoadConfigOptions {
  /** CLI flags, without the node binary and script (Go style, `-addr :8080`). */
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory holding `.env` and `config.yaml`. */
  readonly cwd?: string;
  /** Strongest layer, for tests and embedding: dotted schema paths → values. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/**
 * Builds the one Config: flags > env > .env > config.yaml > defaults, validated once and frozen.
 * Fails with a ConfigError holding one line per bad key (key, masked value, source, fix).
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const argv = options.argv ?? [];
  const env = options.env ?? {};
  const cwd = options.cwd ?? '.';
  const raw = new RawConfig();
  applyYaml(raw, configFileFrom(argv, cwd, env));
  applyEnv(raw, readDotEnv(cwd), '.env');
  applyEnv(raw, env, 'env');
  applyFlags(raw, argv);
  for (const [path, value] of Object.entries(options.overrides ?? {})) raw.set(path, value, 'override');
  const result = configSchema.safeParse(raw.tree);
  if (!result.success) throw new ConfigError(describeIssues(result.error, raw));
  return deepFreeze(result.data);
}

function describeIssues(error: z.ZodError, raw: RawConfig): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.join('.');
    const value = raw.get(path);
    const shown = value === undefined ? '' : `=${maskValue(path, value)}`;
    return `${path}${shown} ${issue.message} (from ${originOf(raw, path)})`;
  });
}

/** A list (gateway.upstreams) is recorded as one leaf: an issue inside it names the list's source. */
function originOf(raw: RawConfig, path: string): string {
  for (let prefix = path; prefix !== ''; prefix = prefix.slice(0, Math.max(0, prefix.lastIndexOf('.')))) {
    const source = raw.origins.get(prefix);
    if (source !== undefined) return source;
  }
  return 'default';
}

function maskValue(path: string, value: unknown): string {
  if (SECRET_PATH.test(path)) return '"***"';
  // A URL's password is a secret whatever key holds it (an upstream endpoint with user:pass@).
  return JSON.stringify(typeof value === 'string' ? displayEndpoint(value) : value);
}
