/**
 * Every name the seeds (and our own docs) use for a setting, mapped to a schema path, in one
 * table. A `map` turns one seed value into several schema values (e.g. `-addr 127.0.0.1:9000`).
 */
export type Assignments = readonly (readonly [path: string, value: unknown])[];

export interface Alias {
  /** Schema path the value lands on (dot-separated). */
  readonly path: string;
  /** Split one seed value into schema values; defaults to `[[path, value]]`. */
  readonly map?: (value: string) => Assignments;
  /** Masked in error messages. */
  readonly isSecret?: boolean;
  /** Flag takes no value (`-noauth`). */
  readonly isBoolean?: boolean;
}

/** `:8888`, `8888`, `127.0.0.1:8888`, `[::1]:8888` → host and port (seed 001 -addr, seed 002 server.port). */
export function splitListenAddress(value: string): Assignments {
  const match = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(value.trim());
  if (!match) return [['server.port', value]];
  const host = match[1];
  return host ? [['server.host', host], ['server.port', match[2]]] : [['server.port', match[2]]];
}

/**
 * Seed 001's -database is a SQLite path; a URL there (postgres://…) names a database server
 * instead. Any scheme counts as a URL, so that `mysql://…` is refused by the schema rather than
 * taken for a SQLite file named `mysql:/…`.
 */
function databaseTarget(value: string): Assignments {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
    ? [['database.url', value]]
    : [['database.sqlitePath', value]];
}

/** Seed 000 DEBUG: any non-empty value turns debug on. */
function debugLevel(value: string): Assignments {
  return value.trim() === '' || value === '0' || value === 'false' ? [] : [['log.level', 'debug']];
}

export const ENV_ALIASES: Readonly<Record<string, Alias>> = {
  PORT: { path: 'server.port' },
  HOST: { path: 'server.host' },
  ENDPOINT_URL: { path: 'server.publicUrl' },
  LOG_LEVEL: { path: 'log.level' },
  DEBUG: { path: 'log.level', map: debugLevel },
  DATABASE_URL: { path: 'database.url', map: databaseTarget, isSecret: true },
  SQLITE_PATH: { path: 'database.sqlitePath' },
  AUTHORIZATION: { path: 'gateway.authorization', isSecret: true },
  POLICY: { path: 'gateway.policy' },
  TIMEOUT: { path: 'dispatch.timeoutMs' },
  BROKER_URL: { path: 'dispatch.brokerUrl', isSecret: true },
  PULSAR_URL: { path: 'dispatch.brokerUrl', isSecret: true },
  PULSAR_TOKEN: { path: 'dispatch.pulsarToken', isSecret: true },
  WORKER_MODELS: { path: 'dispatch.models' },
  ENDPOINT_HOST: { path: 'dispatch.endpointHost' },
  JWT_SECRET: { path: 'chat.jwtSecret', isSecret: true },
  REDIS_URL: { path: 'chat.redisUrl', isSecret: true },
  SECRET_KEY: { path: 'browser.secretKey', isSecret: true },
  API_PROXY: { path: 'browser.apiProxy' },
  CHAT_API_KEY: { path: 'browser.chatApiKey', isSecret: true },
  UNOFFICIAL_PROXY: { path: 'browser.unofficialProxy' },
  ACCESS_TOKEN: { path: 'browser.accessToken', isSecret: true },
};

export const FLAG_ALIASES: Readonly<Record<string, Alias>> = {
  addr: { path: 'server.host', map: splitListenAddress },
  port: { path: 'server.port' },
  database: { path: 'database.sqlitePath', map: databaseTarget },
  noauth: { path: 'gateway.noauth', isBoolean: true },
  'force-noauth': { path: 'gateway.forceNoauth', isBoolean: true },
  policy: { path: 'gateway.policy' },
  add: { path: 'gateway.cli.add', isBoolean: true },
  list: { path: 'gateway.cli.list', isBoolean: true },
  sk: { path: 'gateway.cli.sk', isSecret: true },
  endpoint: { path: 'gateway.cli.endpoint' },
  timeout: { path: 'dispatch.timeoutMs' },
  multi: { path: 'browser.multi', isBoolean: true },
  clear: { path: 'browser.clear', isBoolean: true },
  debug: { path: 'log.level', map: () => [['log.level', 'debug']], isBoolean: true },
};

/** Seed 002's config.yaml keys that are not already our own schema paths. */
export const YAML_ALIASES: Readonly<Record<string, Alias>> = {
  'server.port': { path: 'server.port', map: splitListenAddress },
  'sqlite.path': { path: 'database.sqlitePath' },
  'jwt.secret': { path: 'chat.jwtSecret', isSecret: true },
  authorization: { path: 'gateway.authorization', isSecret: true },
  policy: { path: 'gateway.policy' },
};

/** Path fragments whose values are never printed. */
export const SECRET_PATH = /(secret|password|token|authorization|apikey|api_key|\.sk$|\.url$)/i;
