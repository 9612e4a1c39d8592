import { parentPort, workerData } from 'node:worker_threads';
import { threadError } from '../../platform/worker-calls.js';
import { openRecordsConnection } from './records-connection.js';
import { RecordsRepository } from './records-repository.js';
import { unpackRows, type RecordsThreadRequest, type RecordsThreadSetup } from './records-thread.js';

/** The records thread (records-thread.ts): its own connection to the SQLite file, the repository run here. */
const port = parentPort;
if (!port) throw new Error('records-thread-worker runs as a worker thread');
const setup = workerData as RecordsThreadSetup;
const db = openRecordsConnection(setup.file, setup.busyTimeoutMs);
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
