import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../db/database.js';
import { withImmediateTransactions } from '../../db/sqlite-immediate.js';
import { withStatementCache } from '../../db/statement-cache.js';
import { threadError } from '../../platform/worker-calls.js';
import { RecordsRepository } from './records-repository.js';
import { unpackRows, type RecordsThreadRequest, type RecordsThreadSetup } from './records-thread.js';

/** The records thread (records-thread.ts): its own connection to the SQLite file, the repository run here. */
const port = parentPort;
if (!port) throw new Error('records-thread-worker runs as a worker thread');
const setup = workerData as RecordsThreadSetup;
const sqlite = new BetterSqlite3(setup.file, { timeout: setup.busyTimeoutMs });
sqlite.pragma('synchronous = NORMAL');
// `begin immediate`, as the store's own connection: a batch takes the write lock up front (connect.ts).
const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withImmediateTransactions(withStatementCache(sqlite)) }) });
const repository = new RecordsRepository(db, db, { storeResponse: setup.storeResponse });

port.on('message', (request: RecordsThreadRequest & { readonly id: number }) => {
  if (request.kind === 'ready') {
    port.postMessage({ id: request.id });
    return;
  }
  if (request.kind === 'close') {
    void db.destroy().finally(() => port.close());
    return;
  }
  const { rows, bodies } = unpackRows(request);
  const write = request.kind === 'terminal' ? repository.insertMany(rows, bodies) : repository.insertPending(rows);
  write.then(
    () => port.postMessage({ id: request.id }),
    (caught: unknown) => port.postMessage({ id: request.id, error: threadError(caught) }),
  );
});
