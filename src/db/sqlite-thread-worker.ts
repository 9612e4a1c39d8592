import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { SqliteThreadReply, SqliteThreadRequest, SqliteThreadSetup } from './sqlite-thread-protocol.js';
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

function run(request: Extract<SqliteThreadRequest, { kind: 'query' }>): SqliteThreadReply {
  try {
    const statement = database.prepare(request.sql);
    const parameters = request.parameters.map(toSqliteValue);
    if (statement.reader) return { id: request.id, rows: statement.all(parameters) };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { id: request.id, rows: [], changes, lastInsertRowid };
  } catch (caught) {
    const error = caught as Error & { code?: unknown };
    return { id: request.id, error: { name: error.name, message: error.message, code: typeof error.code === 'string' ? error.code : undefined } };
  }
}

port.on('message', (request: SqliteThreadRequest) => {
  if (request.kind === 'query') {
    port.postMessage(run(request));
    return;
  }
  database.close();
  port.close();
});
