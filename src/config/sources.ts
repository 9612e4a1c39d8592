import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { isPlainObject, type RawConfig } from './raw-config.js';
import { ENV_ALIASES, FLAG_ALIASES, YAML_ALIASES, type Alias } from './seed-aliases.js';

const SECTIONS = ['server', 'log', 'database', 'gateway', 'dispatch', 'chat', 'rag', 'browser'];

export class ConfigError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(`invalid configuration:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
  }
}

function apply(raw: RawConfig, entry: { alias: Alias; value: string; source: string }): void {
  const { alias, value, source } = entry;
  const assignments = alias.map ? alias.map(value) : [[alias.path, value] as const];
  for (const [path, mapped] of assignments) raw.set(path, mapped, source);
}

/** config.yaml: our own sections as-is, plus seed 002's keys (server.port ":8080", redis.*, jwt.secret…). */
export function applyYaml(raw: RawConfig, file: string): void {
  if (!existsSync(file)) return;
  const source = `config file ${file}`;
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`${file}: not valid YAML (${(error as Error).message.split('\n')[0] ?? ''})`]);
  }
  if (document == null) return;
  if (!isPlainObject(document)) throw new ConfigError([`${file}: the top level must be a mapping`]);
  for (const section of SECTIONS) {
    if (section in document) raw.merge(section, document[section], source);
  }
  for (const [key, alias] of Object.entries(YAML_ALIASES)) {
    const value = readPath(document, key);
    if (typeof value === 'string' || typeof value === 'number') apply(raw, { alias, value: String(value), source });
  }
  const redis = document['redis'];
  if (isPlainObject(redis) && typeof redis['address'] === 'string') {
    const password = typeof redis['password'] === 'string' && redis['password'] ? `:${encodeURIComponent(redis['password'])}@` : '';
    const db = typeof redis['db'] === 'number' ? `/${redis['db']}` : '';
    raw.set('chat.redisUrl', `redis://${password}${redis['address']}${db}`, source);
  }
}

function readPath(document: Record<string, unknown>, path: string): unknown {
  let node: unknown = document;
  for (const key of path.split('.')) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** `.env` in the working directory (seed 003); optional, and never overrides the real env. */
export function readDotEnv(cwd: string): Record<string, string> {
  const file = resolve(cwd, '.env');
  if (!existsSync(file)) return {};
  return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
}

const GENERIC_ENV = /^SWITCHBOARD_([A-Z0-9_]+)$/;

function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

/** Seed env names from the alias table, plus `SWITCHBOARD_SECTION__KEY_NAME` for any schema key. */
export function applyEnv(raw: RawConfig, env: Readonly<Record<string, string | undefined>>, source: string): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const alias = ENV_ALIASES[name];
    if (alias) {
      apply(raw, { alias, value: value, source: `${source} ${name}` });
      continue;
    }
    const generic = GENERIC_ENV.exec(name);
    if (generic?.[1] && generic[1] !== 'STORES') {
      raw.set(generic[1].split('__').map(camel).join('.'), value, `${source} ${name}`);
    }
  }
}

/**
 * Go `flag` syntax: `-x`, `--x`, `-x=v`, `-x v`; boolean flags take no value (or `=false`).
 * Also `--section.key=value` for any schema path. Returns the config-file flag if given.
 */
export function applyFlags(raw: RawConfig, argv: readonly string[]): void {
  const errors: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] ?? '';
    const match = /^--?([A-Za-z][\w.-]*)(?:=(.*))?$/s.exec(token);
    if (!match?.[1]) {
      errors.push(`unexpected argument "${token}"; flags look like -addr :8080 or --gateway.policy=random`);
      continue;
    }
    const name = match[1];
    if (name === 'config') {
      index += match[2] === undefined ? 1 : 0;
      continue;
    }
    const alias = FLAG_ALIASES[name];
    if (!alias && !name.includes('.')) {
      errors.push(`unknown flag -${name}`);
      continue;
    }
    const isBoolean = alias?.isBoolean ?? false;
    let value = match[2];
    if (value === undefined) {
      if (isBoolean) value = 'true';
      else if (index + 1 < argv.length) value = argv[++index] ?? '';
      else {
        errors.push(`flag -${name} needs a value`);
        continue;
      }
    }
    if (alias) apply(raw, { alias, value, source: `flag -${name}` });
    else raw.set(name, value, `flag --${name}`);
  }
  if (errors.length > 0) throw new ConfigError(errors);
}

/** Finds `-config FILE` / `--config=FILE`; default `config.yaml` in cwd. */
export function configFileFrom(argv: readonly string[], cwd: string, env: Readonly<Record<string, string | undefined>>): string {
  for (let index = 0; index < argv.length; index++) {
    const match = /^--?config(?:=(.*))?$/.exec(argv[index] ?? '');
    if (match) return resolve(cwd, match[1] ?? argv[index + 1] ?? 'config.yaml');
  }
  return resolve(cwd, env['CONFIG_FILE'] ?? 'config.yaml');
}
