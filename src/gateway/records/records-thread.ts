import { startModuleWorker } from '../../platform/module-worker.js';
import { WorkerCalls } from '../../platform/worker-calls.js';
import type { RecordSink } from './recorder.js';
import type { NewRecord } from './records-repository.js';

export interface RecordsThreadSetup {
  readonly file: string;
  /** How long a write waits for another connection's lock before it fails and is retried later (F21). */
  readonly busyTimeoutMs: number;
  readonly storeResponse: boolean;
}

/**
 * Rows cross the thread boundary packed: their values in one flat array (PACKED_COLUMNS order) and
 * the kept answers joined in one string with their lengths. postMessage's structured clone writes
 * every key of every row object, and each string on its own: measured on this project's 2-core
 * host, ~1.6 µs a row for row objects and their answers against ~1.3 µs packed.
 */
export interface PackedRows {
  readonly values: unknown[];
  readonly bodies: string;
  /** Each row's kept answer's length in `bodies`; -1 for none. */
  readonly bodyLengths: number[];
}

export type RecordsThreadRequest =
  | ({ readonly kind: 'terminal' } & PackedRows)
  | ({ readonly kind: 'pending' } & PackedRows)
  /** Answered once the thread has loaded and opened its connection. */
  | { readonly kind: 'ready' }
  | { readonly kind: 'close' };

/** The columns of a record row, in the order packRows writes them. */
const PACKED_COLUMNS = [
  'id', 'created_at', 'ip', 'key_id', 'method', 'path', 'model', 'stream', 'target_id', 'attempts', 'status', 'outcome', 'error_class',
  'ttfb_ms', 'elapsed_ms', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'usage_estimated', 'body', 'response', 'instance_id',
  'client_request_id',
] as const satisfies readonly (keyof NewRecord)[];

/** Fails to compile when a column of the records table is left out of PACKED_COLUMNS. */
type Unpacked = Exclude<keyof NewRecord, (typeof PACKED_COLUMNS)[number]>;
export const EVERY_COLUMN_PACKED: [Unpacked] extends [never] ? true : never = true;

/** Named reads, not `row[column]` over PACKED_COLUMNS: a keyed read per value was twice as slow. */
export function packRows(rows: readonly NewRecord[], bodies: readonly (string | undefined)[] = []): PackedRows {
  const values: unknown[] = [];
  const bodyLengths: number[] = [];
  let joined = '';
  let index = 0;
  for (const row of rows) {
    values.push(row.id, row.created_at, row.ip, row.key_id, row.method, row.path, row.model, row.stream, row.target_id, row.attempts, row.status, row.outcome, row.error_class);
    values.push(row.ttfb_ms, row.elapsed_ms, row.prompt_tokens, row.completion_tokens, row.total_tokens, row.usage_estimated, row.body, row.response, row.instance_id, row.client_request_id);
    const body = bodies[index++];
    bodyLengths.push(body === undefined ? -1 : body.length);
    if (body !== undefined) joined += body;
  }
  return { values, bodies: joined, bodyLengths };
}

/**
 * The thread's side of packRows. Each row is one object literal in PACKED_COLUMNS order, so every
 * row has the same shape from its first property on. Built key by key (`row[column] = …` over
 * PACKED_COLUMNS), the thread's work cost 25.4 µs of CPU per record against 17.7 µs this way
 * (bench/records-write.ts, medians of 6 rounds): the repository's own loops over the rows
 * (finishRecords, makeTextStorable, the insert's parameters) then run on one shape. The round trip
 * is tested column by column (test/gateway/records-batches.test.ts).
 */
export function unpackRows(packed: PackedRows): { rows: NewRecord[]; bodies: (string | undefined)[] } {
  const rows: NewRecord[] = [];
  const bodies: (string | undefined)[] = [];
  // The values went in as the row's own, column by column: each is read back as its column's type.
  const v = (position: number) => packed.values[position] as never;
  let offset = 0;
  for (let index = 0, at = 0; index < packed.bodyLengths.length; index++, at += PACKED_COLUMNS.length) {
    rows.push({
      id: v(at), created_at: v(at + 1), ip: v(at + 2), key_id: v(at + 3), method: v(at + 4), path: v(at + 5), model: v(at + 6), stream: v(at + 7), target_id: v(at + 8), attempts: v(at + 9), status: v(at + 10), outcome: v(at + 11), error_class: v(at + 12),
      ttfb_ms: v(at + 13), elapsed_ms: v(at + 14), prompt_tokens: v(at + 15), completion_tokens: v(at + 16), total_tokens: v(at + 17), usage_estimated: v(at + 18), body: v(at + 19), response: v(at + 20), instance_id: v(at + 21),
      client_request_id: v(at + 22),
    });
    const length = packed.bodyLengths[index] ?? -1;
    bodies.push(length < 0 ? undefined : packed.bodies.slice(offset, (offset += length)));
  }
  return { rows, bodies };
}

/**
 * Usage records of a SQLite file, written by RecordsRepository on a thread of their own
 * (records-thread-worker.ts). The main thread only hands over the rows: reading each plain answer
 * for its usage and text (finish-records.ts), compiling the batch's statements and binding their
 * parameters ran on the event loop before, and its CPU per proxied request was 10-18 % higher
 * (bench:ab rounds, BENCHMARKS.md gateway section).
 */
export class RecordsThread implements RecordSink {
  private readonly calls: WorkerCalls<RecordsThreadRequest, object>;

  constructor(setup: RecordsThreadSetup) {
    this.calls = new WorkerCalls(() => startModuleWorker(import.meta.url, 'records-thread-worker', { workerData: setup }), 'records thread');
  }

  /**
   * Resolves once the thread runs. The gateway waits for it before it serves: the first flush's
   * `pending` markers must reach the disk within the flush interval (F20), not wait for the thread
   * to load (under tsx, over a second).
   */
  async ready(): Promise<void> {
    await this.calls.call({ kind: 'ready' });
  }

  async insertMany(rows: readonly NewRecord[], bodies?: readonly (string | undefined)[]): Promise<void> {
    if (rows.length > 0) await this.calls.call({ kind: 'terminal', ...packRows(rows, bodies) });
  }

  async insertPending(rows: readonly NewRecord[]): Promise<void> {
    if (rows.length > 0) await this.calls.call({ kind: 'pending', ...packRows(rows) });
  }

  close(): Promise<void> {
    return this.calls.close({ kind: 'close' } satisfies RecordsThreadRequest);
  }
}
