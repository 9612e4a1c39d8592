import {
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { startModuleWorker } from '../platform/module-worker.js';
import { WorkerCalls } from '../platform/worker-calls.js';
import type { SqliteThreadRequest, SqliteThreadResult, SqliteThreadSetup, SqliteThreadStatement } from './sqlite-thread-protocol.js';

/** Statements that answer with rows, which a collected transaction cannot give. */
const READS = /^\s*(select|with|pragma|values)\b|\breturning\b/i;

/**
 * The one connection, living in a worker thread (sqlite-thread-worker.ts). A thread that dies
 * fails what it was running, and the next query starts a new one. The thread keeps the process
 * alive only while a query is outstanding, so a flush at shutdown completes and an idle writer
 * never holds the process open.
 *
 * A transaction is never driven statement by statement from here: its write lock would then be
 * held while the thread waits for the main thread's next message, and a main thread that is itself
 * waiting (synchronously) for that lock would never send it. Its statements are collected and run
 * in the thread as one all-or-none transaction at commit; inside a transaction they answer with
 * no rows and no counts, so one may only write.
 */
class SqliteThreadConnection implements DatabaseConnection {
  private readonly calls: WorkerCalls<SqliteThreadRequest, SqliteThreadResult>;
  /** Statements of the open transaction, run together at commit. */
  private transaction: SqliteThreadStatement[] | undefined;

  constructor(setup: SqliteThreadSetup) {
    this.calls = new WorkerCalls(() => startModuleWorker(import.meta.url, 'sqlite-thread-worker', { workerData: setup }), 'SQLite writer thread');
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    if (this.transaction) {
      if (READS.test(sql)) return Promise.reject(new Error('A writer-thread transaction only writes: its statements run together at commit.'));
      this.transaction.push({ sql, parameters });
      return Promise.resolve({ rows: [] });
    }
    return this.calls.call({ kind: 'query', sql, parameters }).then((result) => ({
      rows: result.rows as R[],
      numAffectedRows: result.changes === undefined ? undefined : BigInt(result.changes),
      insertId: result.lastInsertRowid === undefined ? undefined : BigInt(result.lastInsertRowid),
    }));
  }

  /** Statements from here to commit are collected, then run in the thread as one transaction. */
  begin(): void {
    this.transaction = [];
  }

  async commit(): Promise<void> {
    const statements = this.transaction ?? [];
    this.transaction = undefined;
    if (statements.length > 0) await this.calls.call({ kind: 'transaction', statements });
  }

  /** Nothing ran yet, or the thread rolled its transaction back itself: the collected statements go. */
  rollback(): void {
    this.transaction = undefined;
  }

  // eslint-disable-next-line require-yield -- the interface asks for a generator; background writes never stream
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('The SQLite writer thread does not stream query results.');
  }

  close(): Promise<void> {
    return this.calls.close({ kind: 'close' } satisfies SqliteThreadRequest);
  }
}

/** SQLite has one writer connection: callers take turns, as Kysely's own SQLite driver does. */
class SqliteThreadDriver implements Driver {
  private readonly connection: SqliteThreadConnection;
  private turn: Promise<void> | undefined;
  private releaseTurn: (() => void) | undefined;

  constructor(setup: SqliteThreadSetup) {
    this.connection = new SqliteThreadConnection(setup);
  }

  /** The thread starts with the first query: a writer that is never used costs nothing. */
  init(): Promise<void> {
    return Promise.resolve();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    while (this.turn) await this.turn;
    this.turn = new Promise<void>((resolve) => {
      this.releaseTurn = resolve;
    });
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.releaseTurn;
    this.turn = undefined;
    this.releaseTurn = undefined;
    release?.();
  }

  beginTransaction(): Promise<void> {
    this.connection.begin();
    return Promise.resolve();
  }

  commitTransaction(): Promise<void> {
    return this.connection.commit();
  }

  rollbackTransaction(): Promise<void> {
    this.connection.rollback();
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    await this.connection.close();
  }
}

/**
 * Kysely over a SQLite file whose statements run on a worker thread. better-sqlite3 is synchronous:
 * on the main thread every write, and every wait for a lock another process holds, stops the
 * proxy for its duration. Background writes (usage records, upstream counters, the instance
 * heartbeat) go through this instead; the main thread only posts the SQL and its parameters.
 */
export class SqliteThreadDialect implements Dialect {
  constructor(private readonly setup: SqliteThreadSetup) {}

  createDriver(): Driver {
    return new SqliteThreadDriver(this.setup);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): SqliteAdapter {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
