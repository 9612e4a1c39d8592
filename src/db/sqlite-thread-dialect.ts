import type { Worker } from 'node:worker_threads';
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
import type { SqliteThreadError, SqliteThreadReply, SqliteThreadRequest, SqliteThreadSetup, SqliteThreadStatement } from './sqlite-thread-protocol.js';

interface Pending {
  readonly resolve: (result: QueryResult<unknown>) => void;
  readonly reject: (error: Error) => void;
}

function toError(error: SqliteThreadError): Error {
  return Object.assign(new Error(error.message), { name: error.name, code: error.code });
}

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
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Statements of the open transaction, run together at commit. */
  private transaction: SqliteThreadStatement[] | undefined;

  constructor(private readonly setup: SqliteThreadSetup) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    if (this.transaction) {
      if (READS.test(sql)) return Promise.reject(new Error('A writer-thread transaction only writes: its statements run together at commit.'));
      this.transaction.push({ sql, parameters });
      return Promise.resolve({ rows: [] });
    }
    return this.send((id) => ({ kind: 'query', id, sql, parameters })) as Promise<QueryResult<R>>;
  }

  /** Statements from here to commit are collected, then run in the thread as one transaction. */
  begin(): void {
    this.transaction = [];
  }

  async commit(): Promise<void> {
    const statements = this.transaction ?? [];
    this.transaction = undefined;
    if (statements.length > 0) await this.send((id) => ({ kind: 'transaction', id, statements }));
  }

  /** Nothing ran yet, or the thread rolled its transaction back itself: the collected statements go. */
  rollback(): void {
    this.transaction = undefined;
  }

  // eslint-disable-next-line require-yield -- the interface asks for a generator; background writes never stream
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('The SQLite writer thread does not stream query results.');
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref();
    worker.postMessage({ kind: 'close' } satisfies SqliteThreadRequest);
    await exited;
  }

  private send(request: (id: number) => SqliteThreadRequest): Promise<QueryResult<unknown>> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise<QueryResult<unknown>>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request(id));
    });
  }

  private start(): Worker {
    const worker = startModuleWorker(import.meta.url, 'sqlite-thread-worker', { workerData: this.setup });
    worker.unref();
    worker.on('message', (reply: SqliteThreadReply) => this.settle(worker, reply));
    worker.on('error', (error) => this.failAll(worker, error));
    worker.on('exit', (code) => this.failAll(worker, new Error(`The SQLite writer thread exited (code ${code}).`)));
    return worker;
  }

  private settle(worker: Worker, reply: SqliteThreadReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) worker.unref();
    if ('error' in reply) return pending.reject(toError(reply.error));
    const changes = reply.changes === undefined ? undefined : BigInt(reply.changes);
    const insertId = reply.lastInsertRowid === undefined ? undefined : BigInt(reply.lastInsertRowid);
    pending.resolve({ rows: reply.rows, numAffectedRows: changes, insertId });
  }

  private failAll(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
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
