import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { withImmediateTransactions } from './sqlite-immediate.js';
import pg from 'pg';
import * as sqliteVec from 'sqlite-vec';
import type { Config } from '../config/schema.js';
import { SwitchboardError } from '../platform/errors.js';
import type { Database } from './database.js';
import type { DialectName } from './dialect.js';
import { markStoreUnreachable } from './driver-errors.js';
import { OwnSchemaPostgresDialect } from './own-schema-introspector.js';

/** An open store: the Kysely handle plus the raw driver for the few features Kysely cannot express. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  /** The better-sqlite3 handle (extensions such as sqlite-vec load here). */
  readonly sqlite?: BetterSqlite3.Database;
  /** The pg pool (LISTEN, COPY, extensions). */
  readonly pgPool?: pg.Pool;
  close(): Promise<void>;
}

/** SQLite waits this long for a lock before SQLITE_BUSY (RELIABILITY §4). */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** A PostgreSQL that does not answer within this long at start is reported, not waited on. */
const PG_CONNECT_TIMEOUT_MS = 5_000;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

export async function openStore(config: Config['database'], cwd = '.'): Promise<Store> {
  return config.url ? openPostgres(config.url, config.poolMax) : openSqlite(config.sqlitePath === ':memory:' ? ':memory:' : resolve(cwd, config.sqlitePath));
}

function openSqlite(file: string): Store {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Before anything reads the schema: the RAG vector tables are sqlite-vec (vec0) virtual tables,
  // and listing their columns (Kysely's Migrator does, at every start) fails without the module.
  sqliteVec.load(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withImmediateTransactions(sqlite) }) });
  return { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
}

// Epoch-ms timestamps and counters are int8; JS numbers hold them exactly up to 2^53.
function typeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === INT8_OID || oid === NUMERIC_OID) return Number;
  const defaultParser = pg.types.getTypeParser as (id: number, kind: 'text' | 'binary') => (value: string) => unknown;
  return defaultParser(oid, format === 'binary' ? 'binary' : 'text');
}

async function openPostgres(url: string, poolMax: number): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    types: { getTypeParser: typeParser },
  });
  // An idle client whose backend was terminated emits 'error'; the pool replaces it (F22).
  pool.on('error', () => undefined);
  // pg-pool drops its listener while a client is checked out; a backend killed between two queries
  // would then be an uncaught exception. The failed query rejects anyway, and the pool discards the
  // broken client on release (RELIABILITY F22).
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new SwitchboardError('upstream_unavailable', `cannot connect to PostgreSQL: ${(error as Error).message}`, { cause: error });
  }
  // Introspection (the migrator's table lookups) sees only our schema of a shared server.
  // A connection the pool cannot open is the store's failure, whatever network code it carries (F22).
  const markingPool = {
    connect: () =>
      pool.connect().catch((error: unknown) => {
        throw markStoreUnreachable(error);
      }),
    end: () => pool.end(),
  };
  const db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool: markingPool }) });
  return { db, dialect: 'postgres', pgPool: pool, close: () => db.destroy() };
}
