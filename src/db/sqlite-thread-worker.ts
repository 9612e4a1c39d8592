import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { threadError, type ThreadReply } from '../platform/worker-calls.js';
import type { SqliteThreadRequest, SqliteThreadResult, SqliteThreadSetup, SqliteThreadStatement } from './sqlite-thread-protocol.js';
import { withStatementCache } from './statement-cache.js';

/**
 * The SQLite writer thread: one better-sqlite3 connection whose statements run here, so a write
 * (or a wait for another process's lock) never holds the main thread's event loop.
 */
const port = parentPort;
if (!port) throw new Error('sqlite-thread-worker runs as a worker thread');
const setup = workerData as SqliteThreadSetup;
const sqlite = new BetterSqlite3(setup.file, { timeout: setup.busyTimeoutMs });
sqlite.pragma('synchronous = NORMAL');
const database = withStatementCache(sqlite);

/** Blobs arrive as Uint8Array (structured clone drops the Buffer class); better-sqlite3 wants Buffers. */
function toSqliteValue(value: unknown): unknown {
  return value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value;
}

type Call<Kind> = Extract<SqliteThreadRequest, { kind: Kind }> & { readonly id: number };
type Reply = ThreadReply<SqliteThreadResult>;

function run(request: Call<'query'>): Reply {
  try {
    const statement = database.prepare(request.sql);
    const parameters = request.parameters.map(toSqliteValue);
    if (statement.reader) return { id: request.id, rows: statement.all(parameters) };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { id: request.id, rows: [], changes, lastInsertRowid };
  } catch (caught) {
    return { id: request.id, error: threadError(caught) };
  }
}

/** begin … commit within this one call: the lock is never held while waiting for the main thread. */
const runInTransaction = sqlite.transaction((statements: readonly SqliteThreadStatement[]) => {
  for (const { sql, parameters } of statements) database.prepare(sql).run(parameters.map(toSqliteValue));
});

function runTransaction(request: Call<'transaction'>): Reply {
  try {
    runInTransaction.immediate(request.statements);
    return { id: request.id, rows: [] };
  } catch (caught) {
    return { id: request.id, error: threadError(caught) };
  }
}

port.on('message', (request: SqliteThreadRequest & { readonly id: number }) => {
  if (request.kind === 'query') port.postMessage(run(request));
  else if (request.kind === 'transaction') port.postMessage(runTransaction(request));
  else {
    database.close();
    port.close();
  }
});
