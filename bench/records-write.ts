/**
 * The records thread's work per usage record, measured alone: `npx tsx bench/records-write.ts
 * [--batches 40] [--rounds 10]`. Batches of 500 rows shaped like the gateway bench's (a chat
 * answer kept unparsed) are packed as the main thread packs them, then unpacked, read for usage
 * and text, and upserted into a migrated SQLite file, in this thread, as records-thread-worker.ts
 * does. Prints the process's CPU time per record for each round and their median; a round is
 * `--batches` batches. No HTTP and no other process: what it measures moves little with the host,
 * unlike the gateway bench's CPU per request. Writes nothing to BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { openRecordsConnection } from '../src/gateway/records/records-connection.js';
import { RecordsRepository, type NewRecord } from '../src/gateway/records/records-repository.js';
import { packRows, unpackRows, type PackedRows } from '../src/gateway/records/records-thread.js';
import { newRequestId } from '../src/platform/request-id.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '40' }, rounds: { type: 'string', default: '10' } } });
const batches = Number(values.batches);
const rounds = Number(values.rounds);
const BATCH_ROWS = 500;

/** The bench upstream's answer (bench/servers/upstream.ts), as PlainTap keeps it for the record. */
const ANSWER = JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-bench',
  choices: [{ index: 0, message: { role: 'assistant', content: Array(20).fill('word').join(' ') }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29 },
});

/** A batch as Exchange.record builds its rows: usage and response left for the thread to fill in. */
function packedBatch(): PackedRows {
  const rows: NewRecord[] = [];
  for (let index = 0; index < BATCH_ROWS; index++) {
    rows.push({
      id: newRequestId(), created_at: Date.now(), ip: '127.0.0.1', key_id: 'config:0', method: 'POST', path: '/v1/chat/completions', model: 'gpt-bench', stream: 0,
      target_id: 'upstream:1', attempts: 1, status: 200, outcome: 'ok', error_class: null, ttfb_ms: 1, elapsed_ms: 2,
      prompt_tokens: null, completion_tokens: null, total_tokens: null, usage_estimated: 0, body: '', response: '', instance_id: 'bench', client_request_id: null,
    });
  }
  return packRows(rows, rows.map(() => ANSWER));
}

const dir = mkdtempSync(join(tmpdir(), 'switchboard-records-write-'));
const file = join(dir, 'records.sqlite');
// The file as the gateway leaves it (the store's own connection: WAL, migrations), then the records thread's connection.
const store = await openStore({ url: undefined, poolMax: 1, sqlitePath: file });
await migrateToLatest(store.db);
await store.close();
const db = openRecordsConnection(file, 5_000);
try {
  const repository = new RecordsRepository(db, db, { storeResponse: true });
  const perRecord: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Packed before the clock starts: packing is the main thread's share, not the thread's.
    const packed = Array.from({ length: batches }, packedBatch);
    const start = process.cpuUsage();
    for (const batch of packed) {
      const { rows, bodies } = unpackRows(batch);
      await repository.insertMany(rows, bodies);
    }
    const used = process.cpuUsage(start);
    perRecord.push((used.user + used.system) / (batches * BATCH_ROWS));
    console.log(`round ${round + 1}/${rounds}: ${perRecord.at(-1)?.toFixed(2)} µs CPU per record`);
  }
  console.log(`median ${median(perRecord).toFixed(2)} µs CPU per record (${rounds} rounds of ${batches} × ${BATCH_ROWS} records)`);
} finally {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
}
