import { z } from 'zod';
import { optionalText, positiveInt, timerMs } from './schema-helpers.js';

/** Default port of Switchboard: seed 000 and seed 002 both listen on 8080. */
export const DEFAULT_PORT = 8080;

export const serverSchema = z
  .object({
    /** Interface to bind. @default "0.0.0.0" */
    host: z.string().default('0.0.0.0').describe('Interface to bind (-addr host part)'),
    /** TCP port; 0 picks a free port (tests). @default 8080 */
    port: z.coerce
      .number()
      .int()
      .min(0)
      .max(65_535)
      .default(DEFAULT_PORT)
      .describe('TCP port (PORT, -addr, server.port)'),
    /** Public base URL of this instance, used in worker callbacks. */
    publicUrl: optionalText().describe('Public base URL, e.g. http://gw-1.internal:8080 (ENDPOINT_URL)'),
    /** Body limit for /v1: image-bearing chat requests are large (RELIABILITY §4). @default 16 MiB */
    proxyBodyLimitBytes: positiveInt().default(16 * 1024 * 1024),
    /** Body limit for every other JSON route (Fastify's own default). @default 1 MiB */
    bodyLimitBytes: positiveInt().default(1024 * 1024),
    /** Node's headersTimeout must be non-zero without a reverse proxy (RELIABILITY §4). @default 10s */
    headersTimeoutMs: timerMs().default(10_000),
    /** Time to receive a whole request body; Fastify's default 0 means forever. @default 60s */
    requestTimeoutMs: timerMs().default(60_000),
    /** Keep-alive idle time (Fastify's default). @default 72s */
    keepAliveTimeoutMs: timerMs().default(72_000),
    /** Requests in flight per instance before new ones are shed with 503 (Envoy's default). @default 1024 */
    maxInFlight: positiveInt().default(1024),
    /** On SIGTERM, how long in-flight requests may finish. @default 10s */
    drainTimeoutMs: timerMs().default(10_000),
  })
  .prefault({});

export const logSchema = z
  .object({
    /** pino level. DEBUG (seed 000) sets "debug". @default "info" */
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Pretty output; by default only when stdout is a TTY. */
    pretty: z.boolean().optional(),
  })
  .prefault({});

export const databaseSchema = z
  .object({
    /** `postgres://…` selects PostgreSQL; unset means the embedded SQLite file. */
    url: optionalText()
      .refine((url) => url === undefined || /^postgres(ql)?:\/\//i.test(url), 'only PostgreSQL URLs (postgres://…) are supported; for SQLite give a file path (SQLITE_PATH or -database)')
      .describe('PostgreSQL URL (DATABASE_URL); unset = SQLite'),
    /** SQLite file (seed 001 -database, seed 002 sqlite.path). @default "./data/switchboard.sqlite" */
    sqlitePath: z.string().default('./data/switchboard.sqlite'),
    /** PostgreSQL pool size per process (RELIABILITY §4). @default 10 */
    poolMax: positiveInt().default(10),
  })
  .prefault({});
